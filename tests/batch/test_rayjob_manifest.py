"""The KubeRay RayJob in deploy/ runs a command line that arinspect accepts."""

from __future__ import annotations

import importlib.metadata
import shlex

import pytest

from arinspect.cli import build_parser
from arinspect.resources import REPO_ROOT

yaml = pytest.importorskip("yaml")


def test_rayjob_entrypoint_is_a_valid_ray_batch_command() -> None:
    job = yaml.safe_load((REPO_ROOT / "deploy" / "kuberay" / "rayjob.yaml").read_text())
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    argv = shlex.split(job["spec"]["entrypoint"])
    assert argv[0] == "arinspect"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.executor, args.ray_address) == ("batch", "ray", "auto")
    cluster = job["spec"]["rayClusterSpec"]
    pinned = next(
        line.split("==")[1]
        for line in (REPO_ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith("ray==")
    )
    assert cluster["rayVersion"] == pinned
    cores = sum(
        int(group["replicas"])
        * int(group["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"])
        for group in cluster["workerGroupSpecs"]
    )
    assert args.workers <= cores  # never more actors than worker cores


def test_the_ray_extra_pins_the_same_ray() -> None:
    requires = importlib.metadata.requires("arinspect") or []
    assert any(r.startswith("ray[data]==") and 'extra == "ray"' in r for r in requires)
