"""What calibration writes: camera files with their quality, registered sections, reports.

Millimetres, degrees and pixels appear here only, for people to read; everything
computed stays in metres and radians.

- Camera: OpenCV FileStorage YAML (`arinspect.camera.save_camera`) plus
  ``avg_reprojection_error`` and, beyond OpenCV's own tool: ``per_view_reprojection_errors``
  (px, one row per view, in the order of ``view_files``, a JSON list of file names),
  ``std_dev_intrinsics`` (fx fy cx cy in px, then the distortion coefficients; names in
  ``std_dev_intrinsics_names``), the board and the provenance.
- Section: ``section.json`` with the registered markers' poses, the meshes copied along,
  and ``registration_report.json`` / ``registration_report.txt`` beside it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from arinspect import __version__
from arinspect.cad.section import save_section
from arinspect.calibration.intrinsics import IntrinsicsResult
from arinspect.calibration.registration import MarkerRegistration, RegistrationResult
from arinspect.camera import save_camera
from arinspect.errors import ConfigError

REPORT_JSON = "registration_report.json"
REPORT_TEXT = "registration_report.txt"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def save_intrinsics(result: IntrinsicsResult, path: str | Path, command: str = "") -> Path:
    """Write the calibrated camera and its quality as OpenCV FileStorage YAML."""
    extra: dict[str, object] = {
        "calibration_time": _now(),
        "nr_of_frames": len(result.views),
        "board": result.board.describe(),
        "avg_reprojection_error": result.rms_px,
        "per_view_reprojection_errors": result.view_rms_px.reshape(-1, 1),
        "view_files": json.dumps(list(result.views)),
        "std_dev_intrinsics": result.std_dev.reshape(-1, 1),
        "std_dev_intrinsics_names": " ".join(result.parameter_names),
        "provenance": f"arinspect {__version__}" + (f": {command}" if command else ""),
    }
    return save_camera(result.camera, path, extra)


def intrinsics_summary(result: IntrinsicsResult) -> str:
    """A readable summary: views used and dropped, errors, parameters with 1-sigma, coverage."""
    camera = result.camera
    lines = [
        f"camera {camera.width}x{camera.height} px from {len(result.views)} view(s) of a"
        f" {result.board.describe()} board ({len(result.dropped)} dropped)",
    ]
    lines += [f"  dropped {d.name}: {d.reason}" for d in result.dropped]
    rms = result.view_rms_px
    lines.append(
        f"RMS reprojection error {result.rms_px:.3f} px (per view: min {rms.min():.3f},"
        f" median {np.median(rms):.3f}, max {rms.max():.3f} px)"
    )
    lines += [f"  {name:<32} {e:.3f} px" for name, e in zip(result.views, rms, strict=True)]
    values = [camera.K[0, 0], camera.K[1, 1], camera.K[0, 2], camera.K[1, 2], *camera.dist]
    lines.append("parameters (value +- 1 sigma):")
    for name, value, sigma in zip(result.parameter_names, values, result.std_dev, strict=True):
        unit = " px" if name in ("fx", "fy", "cx", "cy") else ""
        lines.append(f"  {name:<3} {value:12.5f} +- {sigma:.5f}{unit}")
    counts = result.coverage.counts
    lines.append(f"coverage (board points per image region, {counts.shape[1]}x{counts.shape[0]}):")
    lines += ["  " + " ".join(f"{c:5d}" for c in row) for row in counts]
    lines += [f"warning: {w}" for w in result.coverage.warnings()]
    return "\n".join(lines)


def write_registered_section(
    result: RegistrationResult, out_dir: str | Path, command: str = ""
) -> Path:
    """Write the registered section folder (meshes copied) and its report; returns the folder.

    Raises:
        ConfigError: `out_dir` is the input section's own folder (the nominal section is
            never overwritten).
    """
    out_dir = Path(out_dir)
    source = result.section.folder
    if out_dir.resolve() == source.resolve():
        raise ConfigError(
            f"the output folder {out_dir} is the input section: write the registered section"
            " to a new folder"
        )
    meshes = sorted({e.mesh for e in result.section.elements()})
    for mesh in meshes:
        target = out_dir / mesh
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / mesh, target)
    provenance = dict(result.section.provenance)
    provenance["registration"] = {
        "tool": f"arinspect {__version__}",
        "command": command,
        "time": _now(),
        "views": len(result.views),
        "rms_px": round(result.rms_px, 4),
        "registered": [f"{e.marker.family}/{e.marker.id}" for e in _with(result, "registered")],
    }
    save_section(replace(result.section, provenance=provenance, folder=out_dir.resolve()), out_dir)
    report = registration_report(result)
    report["provenance"] = provenance["registration"]
    (out_dir / REPORT_JSON).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out_dir / REPORT_TEXT).write_text(registration_summary(result) + "\n", encoding="utf-8")
    return out_dir


def _with(result: RegistrationResult, status: str) -> list[MarkerRegistration]:
    return [e for e in result.markers if e.status == status]


def _mm(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v) * 1000.0, 3) for v in values]


def _number(value: float, scale: float = 1.0, digits: int = 4) -> float | None:
    return None if not np.isfinite(value) else round(float(value) * scale, digits)


def registration_report(result: RegistrationResult) -> dict[str, Any]:
    """The JSON report: per marker its correction (mm, deg), residuals (px), sigma (mm, deg)."""
    markers = []
    for e in result.markers:
        markers.append(
            {
                "family": e.marker.family,
                "id": e.marker.id,
                "control": e.marker.control,
                "status": e.status,
                "views": e.views,
                "correction_mm": _mm(e.correction_m),
                "correction_norm_mm": _number(np.linalg.norm(e.correction_m), 1000.0, 3),
                "correction_deg": _number(e.correction_rad, 180.0 / np.pi),
                "residual_rms_px": _number(e.residual_rms_px),
                "residual_max_px": _number(e.residual_max_px),
                "position_sigma_mm": _mm(e.position_sigma_m),
                "orientation_sigma_deg": _number(e.orientation_sigma_rad, 180.0 / np.pi),
                "note": e.note,
                "T_section_marker": e.marker.T_section_marker.tolist(),
            }
        )
    return {
        "schema_version": 1,
        "section": result.section.name,
        "units": {"correction": "mm, deg", "residual": "px", "sigma": "mm, deg (1 sigma)"},
        "views_used": list(result.views),
        "views_skipped": [{"view": v, "reason": r} for v, r in result.skipped_views],
        "rms_px": _number(result.rms_px),
        "corner_sigma_px": _number(result.sigma_px),
        "outliers": [
            {"view": v, "marker": f"{k[0]}/{k[1]}", "rms_px": _number(rms)}
            for v, k, rms in result.outliers
        ],
        "markers": markers,
    }


def registration_summary(result: RegistrationResult) -> str:
    """A readable table of every marker's correction, residuals and uncertainty."""
    n_control = len(_with(result, "control"))
    lines = [
        f"section {result.section.name}: {len(result.markers)} markers ({n_control} control),"
        f" {len(result.views)} view(s) used, {len(result.skipped_views)} skipped",
    ]
    lines += [f"  skipped {view}: {reason}" for view, reason in result.skipped_views]
    lines.append(
        f"RMS reprojection error {result.rms_px:.3f} px; corner noise estimate"
        f" {result.sigma_px:.3f} px"
    )
    lines.append(
        f"{'marker':<20} {'status':<14} {'views':>5} {'correction x y z mm':>24} {'|mm|':>7}"
        f" {'deg':>6} {'rms px':>7} {'max px':>7} {'sigma x y z mm':>20}"
    )
    for e in result.markers:
        name = f"{e.marker.family}/{e.marker.id}"
        lines.append(
            f"{name:<20} {e.status:<14} {e.views:>5} {_triple(e.correction_m):>24}"
            f" {_scalar(np.linalg.norm(e.correction_m) * 1000, 1):>7}"
            f" {_scalar(np.degrees(e.correction_rad), 2):>6}"
            f" {_scalar(e.residual_rms_px, 2):>7} {_scalar(e.residual_max_px, 2):>7}"
            f" {_triple(e.position_sigma_m, signed=False):>20}"
        )
    lines += [f"warning: {w}" for w in registration_warnings(result)]
    return "\n".join(lines)


def registration_warnings(result: RegistrationResult) -> list[str]:
    """What an engineer should look at before publishing the section."""
    warnings = []
    for e in result.markers:
        name = f"{e.marker.family}/{e.marker.id}"
        if e.status == "not_registered":
            warnings.append(f"{name} not registered ({e.note}); it keeps its nominal pose")
        if e.status == "control" and e.residual_rms_px > max(3.0 * result.sigma_px, 1.0):
            warnings.append(
                f"control marker {name} fits badly (RMS {e.residual_rms_px:.2f} px):"
                " check its survey, or whether it was moved"
            )
        if e.status == "registered" and np.nanmax(e.position_sigma_m) > 0.002:
            warnings.append(
                f"{name} is uncertain (sigma up to {np.nanmax(e.position_sigma_m) * 1000:.1f} mm):"
                " add views of it together with control markers, from other directions"
            )
    for view, key, rms in result.outliers:
        warnings.append(f"outlier: {key[0]}/{key[1]} in {view} (RMS {rms:.2f} px)")
    return warnings


def _scalar(value: float, digits: int) -> str:
    return "-" if not np.isfinite(value) else f"{value:.{digits}f}"


def _triple(values_m: np.ndarray, signed: bool = True) -> str:
    if not np.all(np.isfinite(values_m)):
        return "-"
    return " ".join(f"{v * 1000:{'+' if signed else ''}.1f}" for v in values_m)
