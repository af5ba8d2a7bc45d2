"""The batch worker: a unit of several passes, and units across process boundaries."""

from __future__ import annotations

import json
import shutil

from arinspect.batch.manifest import BatchUnit
from arinspect.batch.outputs import MARKER
from arinspect.batch.runner import unit_fingerprint
from arinspect.batch.worker import InspectionWorker, WorkerConfig, unit_from_dict, unit_to_dict
from arinspect.resources import DETECTOR_MODEL, SAMPLE_SECTION_DIR


def test_a_unit_of_two_passes_is_inspected_as_one(tmp_path, fixtures_dir) -> None:
    passes = [fixtures_dir / "defects", fixtures_dir / "walk_depth"]
    unit = BatchUnit("bay-2", passes[0], SAMPLE_SECTION_DIR, None, "test", (passes[1],))
    assert unit_from_dict(json.loads(json.dumps(unit_to_dict(unit)))) == unit
    worker = InspectionWorker(
        WorkerConfig(out_dir=tmp_path / "out", model=DETECTOR_MODEL, threads=1)
    )
    outcome = worker.run(unit, unit_fingerprint(unit, DETECTOR_MODEL))
    assert outcome["status"] == "done", outcome.get("reason")
    assert outcome["frames"] == 4 + 5 and outcome["passes"] == [str(p) for p in passes]
    report = json.loads((tmp_path / "out" / "bay-2" / "report.json").read_text())
    assert report["passes"] == [str(p.resolve()) for p in passes]
    assert json.loads((tmp_path / "out" / "bay-2" / MARKER).read_text())["status"] == "done"


def test_a_units_fingerprint_covers_every_pass(tmp_path, fixtures_dir) -> None:
    second = shutil.copytree(fixtures_dir / "walk_depth", tmp_path / "walk_depth")
    unit = BatchUnit("bay-2", fixtures_dir / "defects", SAMPLE_SECTION_DIR, None, "test", (second,))
    before = unit_fingerprint(unit, DETECTOR_MODEL)
    (second / "rgb" / "000000.png").write_bytes(b"changed")
    assert unit_fingerprint(unit, DETECTOR_MODEL) != before
