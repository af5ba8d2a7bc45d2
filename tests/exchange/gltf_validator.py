"""The Khronos glTF-Validator (npm ``gltf-validator``) run through ``validate_gltf.mjs``.

The package is the QA viewer's dev dependency (``server/arinspect_server/viewer``); tests
that need it are skipped when node or the package is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from arinspect.resources import REPO_ROOT

VIEWER_DIR = REPO_ROOT / "server" / "arinspect_server" / "viewer"
SCRIPT = Path(__file__).with_name("validate_gltf.mjs")


def validate(path: Path) -> dict:
    """The validator's report of a file (skips the test when the validator is missing)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found (apt-get install nodejs)")
    if not (VIEWER_DIR / "node_modules" / "gltf-validator" / "package.json").is_file():
        pytest.skip(f"gltf-validator not installed (npm ci in {VIEWER_DIR})")
    done = subprocess.run(
        [node, str(SCRIPT), str(path), str(VIEWER_DIR)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def problems(report: dict) -> list[str]:
    """Errors and warnings of a report, one line each (for assertion messages)."""
    return [
        f"{m['code']} at {m.get('pointer', '?')}: {m['message']}"
        for m in report["issues"]["messages"]
        if m["severity"] <= 1
    ]
