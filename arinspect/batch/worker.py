"""The batch worker: inspects one recording after another with resources loaded once.

One `InspectionWorker` lives in each pool process or Ray actor. It pins its CPU share
(OpenCV's and onnxruntime's thread counts), loads the detector session once and keeps
the sections it has loaded, then turns each unit into a published report folder
(`outputs.publish`) and an outcome dict. A unit that fails (corrupt frames, a missing
section ...) gives a ``failed`` outcome with the reason; it never stops the worker.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from arinspect.batch.manifest import BatchUnit
from arinspect.batch.outputs import partial_dir, publish


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs: where to write, which model, its CPU share.

    Attributes:
        out_dir: Batch output folder.
        model: ONNX detector; None for the bundled one.
        threads: Threads for OpenCV and onnxruntime (the worker's CPU share).
    """

    out_dir: Path
    model: Path | None
    threads: int


def set_thread_env(threads: int) -> None:
    """Limit OpenMP-style thread pools before the numeric libraries start them."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


class InspectionWorker:
    """Inspects units one at a time; construct once per process or actor."""

    def __init__(self, config: WorkerConfig) -> None:
        set_thread_env(config.threads)
        import cv2

        from arinspect.detect.runtime import PartDetector

        cv2.setNumThreads(config.threads)
        self.config = config
        self.detector = PartDetector(config.model, threads=config.threads)
        self.sections: dict[Path, Any] = {}

    def section(self, folder: Path) -> Any:
        """The section in ``folder``, loaded once per worker."""
        from arinspect.cad.section import load_section

        if folder not in self.sections:
            self.sections[folder] = load_section(folder)
        return self.sections[folder]

    def run(self, unit: BatchUnit, unit_fingerprint: str) -> dict[str, Any]:
        """Inspect one unit and publish its report; returns the outcome (never raises)."""
        started = time.time()
        outcome: dict[str, Any] = {
            "unit_id": unit.unit_id, "recording": str(unit.recording),
            "passes": [str(p) for p in unit.passes],
            "fingerprint": unit_fingerprint, "pid": os.getpid(), "started": started,
        }  # fmt: skip
        folder = None
        try:
            folder = partial_dir(self.config.out_dir, unit.unit_id)
            outcome |= self._inspect(unit, folder)
            outcome["finished"] = time.time()
            outcome["status"] = "done"
            publish(self.config.out_dir, unit.unit_id, folder, outcome)
        except Exception as exc:  # noqa: BLE001 - one bad recording must not stop the batch
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            outcome |= {"status": "failed", "finished": time.time(),
                        "reason": f"{type(exc).__name__}: {exc}",
                        "where": _where(exc)}  # fmt: skip
        return outcome

    def _inspect(self, unit: BatchUnit, folder: Path) -> dict[str, Any]:
        from arinspect.inspection.pipeline import InspectionConfig, Inspector
        from arinspect.inspection.report import ReportWriter
        from arinspect.recording.bop import Recording, passes_inputs

        recordings = [Recording(path) for path in unit.passes]
        section_dir, camera = passes_inputs(recordings, unit.section, unit.camera)
        section = self.section(section_dir.resolve())
        # The workers share the cores out; a read-ahead thread each would oversubscribe them.
        one_thread = InspectionConfig(read_ahead=False)
        inspector = Inspector(section, camera, self.detector, one_thread)
        result = inspector.inspect_passes(recordings)
        ReportWriter(result, recordings, str(self.detector.model_path)).write(folder)
        return {"section": section.name, "frames": len(result.frames),
                "counts": result.counts(), "wall_s": round(result.wall_s, 3)}  # fmt: skip


def unit_to_dict(unit: BatchUnit) -> dict[str, Any]:
    """A unit as plain strings and lists (to cross process and Ray boundaries)."""
    return {
        k: str(v) if isinstance(v, Path) else [str(p) for p in v] if isinstance(v, tuple) else v
        for k, v in asdict(unit).items()
    }


def unit_from_dict(data: dict[str, Any]) -> BatchUnit:
    """The inverse of `unit_to_dict`."""
    paths = ("recording", "section", "camera")
    fields = {k: (Path(v) if k in paths and v else v) for k, v in data.items()}
    fields["more_passes"] = tuple(Path(p) for p in data.get("more_passes", ()))
    return BatchUnit(**fields)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
