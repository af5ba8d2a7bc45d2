"""Running an inspection from the command line and printing its summary (inspect, demo)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from arinspect.inspection.fusion import STATUSES
from arinspect.inspection.pipeline import InspectionResult


def summary_table(result: InspectionResult) -> str:
    """The findings that need attention, one line each, then counts per status."""
    lines = [f"{'part':<14} {'class':<24} {'status':<13} {'offset mm':>10} {'conf':>5}  why"]
    for finding in result.findings:
        if finding.status == "present":
            continue
        offset = "" if finding.offset_mm is None else f"{finding.offset_mm:.0f}"
        lines.append(
            f"{finding.part_id:<14} {finding.class_name:<24} {finding.status:<13} {offset:>10}"
            f" {finding.confidence:>5.2f}  {finding.reason}"
        )
    for obj in result.unexpected:
        where = ", ".join(f"{v:.2f}" for v in obj.position_section)
        lines.append(
            f"{'-':<14} {obj.class_name:<24} {'unexpected':<13} {'':>10} {obj.best_score:>5.2f}"
            f"  seen in {len(obj.frames)} frames near ({where}) m"
        )
    counts = result.counts()
    lines.append(
        "totals: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in (*STATUSES, "unexpected"))
    )
    return "\n".join(lines)


def inspect_and_report(
    recording_dirs: Sequence[Path],
    out_dir: Path,
    section_dir: Path | None = None,
    camera_path: Path | None = None,
    model: Path | None = None,
    threads: int = 1,
    indent: str = "",
) -> InspectionResult:
    """Inspect a recording (or several passes together), write the report, print the summary."""
    from arinspect.cad.section import load_section
    from arinspect.cli.progress import frame_progress
    from arinspect.detect.runtime import PartDetector
    from arinspect.inspection.pipeline import Inspector
    from arinspect.inspection.report import ReportWriter
    from arinspect.recording.bop import Recording, passes_inputs

    recordings = [Recording(folder) for folder in recording_dirs]
    section_dir, camera = passes_inputs(recordings, section_dir, camera_path)
    section = load_section(section_dir)
    detector = PartDetector(model, threads=threads)
    inspector = Inspector(section, camera, detector)
    result = inspector.inspect_passes(recordings, frame_progress("inspecting", indent))
    page = ReportWriter(result, recordings, str(detector.model_path)).write(out_dir)
    fps = len(result.frames) / max(result.wall_s, 1e-9)
    n = len(result.frames)
    passes = f" of {len(recordings)} passes" if len(recordings) > 1 else ""
    print(f"{indent}inspected {n} frames{passes} in {result.wall_s:.1f} s ({fps:.1f} frames/s)")
    print("\n".join(indent + line for line in summary_table(result).splitlines()))
    unverified = result.counts().get("not_verified", 0)
    if unverified:
        print(
            f"{indent}{unverified} part(s) not verified: the report suggests where to look at each"
            " from; inspect a new pass together with this one (arinspect inspect REC NEW_REC ...)"
        )
    print(f"{indent}report: {page.resolve()}")
    print(f"{indent}        {(Path(out_dir) / 'report.json').resolve()}")
    return result
