"""Batch runs end to end: local pool and a real local Ray cluster, failures, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from arinspect.batch.executors import LocalExecutor, RayExecutor, threads_per_worker
from arinspect.batch.manifest import load_manifest
from arinspect.batch.outputs import MARKER
from arinspect.batch.runner import SUMMARY, run_batch
from arinspect.batch.worker import WorkerConfig
from arinspect.resources import DETECTOR_MODEL
from tests.batch.batch_fixtures import comparable, copies, render_pair, write_manifest


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-recordings")
    return copies(render_pair(folder), folder, 4)


@pytest.fixture(scope="module")
def manifest(recordings):
    folder = recordings[0].parent
    bad = folder / "corrupt"
    if not bad.exists():
        bad.mkdir()
        for item in recordings[0].iterdir():
            target = bad / item.name
            if item.is_dir():
                target.mkdir()
                for file in item.iterdir():
                    (target / file.name).write_bytes(file.read_bytes())
            else:
                target.write_bytes(item.read_bytes())
        (bad / "rgb" / "000002.png").write_bytes(b"not a png")
    entries = [r.name for r in recordings] + [
        "corrupt", {"recording": recordings[0].name, "id": "no-section", "section": "gone"},
    ]  # fmt: skip
    return write_manifest(folder / "batch.json", entries)


def run(manifest, out, executor_cls, workers=2, **kwargs):
    config = WorkerConfig(out_dir=out, model=DETECTOR_MODEL, threads=1)
    executor = executor_cls(config, workers, **kwargs)
    return run_batch(load_manifest(manifest), out, executor, DETECTOR_MODEL)


@pytest.fixture(scope="module")
def local_out(manifest, tmp_path_factory):
    out = tmp_path_factory.mktemp("local-out")
    return out, run(manifest, out, LocalExecutor)


def test_local_batch_reports_every_recording_and_the_failures(local_out, recordings) -> None:
    out, result = local_out
    done = [o for o in result.outcomes if o["status"] == "done"]
    assert sorted(o["unit_id"] for o in done) == sorted(r.name for r in recordings)
    assert all(o["frames"] == 4 and o["section"] == "block-2" for o in done)
    failed = {o["unit_id"]: o["reason"] for o in result.failed}
    assert set(failed) == {"corrupt", "no-section"}
    assert "000002.png: cannot be decoded as an image" in failed["corrupt"]
    assert "gone" in failed["no-section"] and "not found" in failed["no-section"]
    summary = json.loads((out / SUMMARY).read_text())
    assert (summary["recordings"], summary["done"], summary["failed"]) == (6, 4, 2)
    parts = sum(summary["by_section"]["block-2"].get(s, 0) for s in ("present", "not_verified"))
    assert summary["by_section"]["block-2"]["recordings"] == 4
    assert parts > 0
    for recording in recordings:
        report = json.loads((out / recording.name / "report.json").read_text())
        assert report["recording"] == str(recording.resolve())
        assert (out / recording.name / "report.html").is_file()
    assert not (out / "corrupt").exists()
    # copies of the same recording give the same report
    same = [r.name for r in recordings[::2]]
    assert (
        comparable(out / same[0] / "report.json")["parts"]
        == comparable(out / same[1] / "report.json")["parts"]
    )


def test_a_rerun_skips_complete_units_and_retries_failures(local_out, manifest) -> None:
    out, first = local_out
    stamps = {o["unit_id"]: o["finished"] for o in first.outcomes if o["status"] == "done"}
    again = run(manifest, out, LocalExecutor, workers=1)
    assert again.skipped == 4 and again.processed == 2
    assert {o["unit_id"]: o["finished"] for o in again.outcomes if o["status"] == "done"} == stamps
    assert {o["unit_id"] for o in again.failed} == {"corrupt", "no-section"}


def test_changed_inputs_are_redone(local_out, manifest, recordings) -> None:
    out, _ = local_out
    before = {p.parent.name: json.loads(p.read_text())["finished"] for p in out.glob(f"*/{MARKER}")}
    camera = recordings[1] / "camera.yaml"
    original = camera.read_bytes()
    try:
        camera.write_bytes(original + b"\n# recalibrated\n")
        again = run(manifest, out, LocalExecutor, workers=1)
    finally:
        camera.write_bytes(original)
    redone = {o["unit_id"] for o in again.outcomes
              if o["status"] == "done" and o["finished"] != before[o["unit_id"]]}  # fmt: skip
    assert redone == {recordings[1].name}
    assert again.processed == 3 and again.skipped == 3  # + the two failures, retried


def test_ray_gives_the_same_reports_as_the_local_pool(local_out, manifest, tmp_path) -> None:
    pytest.importorskip("ray")
    local, _ = local_out
    out = tmp_path / "ray-out"
    result = run(manifest, out, RayExecutor)
    assert {o["unit_id"] for o in result.failed} == {"corrupt", "no-section"}
    done = sorted(o["unit_id"] for o in result.outcomes if o["status"] == "done")
    assert len(done) == 4
    for unit in done:
        assert comparable(out / unit / "report.json") == comparable(local / unit / "report.json")
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["executor"] == {"name": "ray", "workers": 2}


def test_thread_share_never_oversubscribes() -> None:
    assert threads_per_worker(2, 2) == 1
    assert threads_per_worker(2, 1) == 2
    assert threads_per_worker(16, 3) == 5
    assert threads_per_worker(2, 4) == 1


def test_killing_the_driver_loses_and_duplicates_nothing(recordings, tmp_path) -> None:
    folder = recordings[0].parent
    entries = [{"recording": recordings[i % len(recordings)].name, "id": f"unit-{i:02d}"}
               for i in range(10)]  # fmt: skip
    manifest = write_manifest(folder / "kill.json", entries)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "arinspect", "batch", str(manifest), "--out", str(out),
               "--workers", "1"]  # fmt: skip
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob(f"*/{MARKER}"))) < 3:
        assert driver.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and its pool, mid-run
    driver.wait()
    before = {p.parent.name: json.loads(p.read_text()) for p in out.glob(f"*/{MARKER}")}
    assert 3 <= len(before) < 10

    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    after = {p.parent.name: json.loads(p.read_text()) for p in out.glob(f"*/{MARKER}")}
    assert sorted(after) == [f"unit-{i:02d}" for i in range(10)]
    for unit, outcome in before.items():
        assert after[unit] == outcome  # finished work was not redone
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["done"] == 10 and summary["failed"] == 0
    assert summary["skipped_complete"] == len(before)
    assert summary["processed_this_run"] == 10 - len(before)
    assert list((out / ".partial").iterdir()) == []
