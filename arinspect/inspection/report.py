"""Writing an inspection's results: ``report.json`` and a self-contained HTML report.

``report.json`` holds one entry per part (``id``, ``class``, ``status``, ``offset_mm``,
``confidence``, ``frames_seen``, ``best_frame`` and the details behind them) and the
unexpected objects; ``passes`` lists the recordings inspected together (one usually), and
``best_pass`` says which of them a best frame is in. A ``not_verified`` part has a
``suggested_view``: where to look at it from in the next pass (`inspection.next_looks`).
The HTML report shows a rendered overview of the section with every part coloured by
status, the findings, and for each finding a crop of its best frame with the expected
outline drawn over it (green present, red missing, amber misplaced with the offset arrow,
grey not verified) and, for a part not verified, the suggested view; plus full-frame
overlays. Files are written to a temporary name and renamed, so a crash never leaves a
half-written report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from arinspect import __version__
from arinspect.atomic_write import write_atomic
from arinspect.cad.catalog import load_catalog
from arinspect.camera import CameraModel
from arinspect.geometry import look_at_T_cam_world
from arinspect.inspection.evidence import FrameKey
from arinspect.inspection.expected import ExpectedViewer, part_hulls_section
from arinspect.inspection.fusion import PartFinding
from arinspect.inspection.next_looks import SuggestedView, suggest_views
from arinspect.inspection.pipeline import InspectionResult
from arinspect.inspection.report_html import STATUS_BGR, overlay_file_name, report_html
from arinspect.recording.bop import Recording
from arinspect.recording.trajectory import section_bounds
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray, UInt8Image

MAX_OVERLAYS = 6


def write_image(path: Path, image: UInt8Image) -> str:
    """Write a JPEG atomically; returns its name relative to the report folder."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise OSError(f"cannot encode {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, encoded.tobytes())
    return f"{path.parent.name}/{path.name}"


def finding_dict(finding: PartFinding, suggestion: SuggestedView | None = None) -> dict:
    """The JSON entry of one part (with where to look at it from, if suggested)."""
    offset = None if finding.offset_m is None else [round(v * 1000, 1) for v in finding.offset_m]
    return {
        "id": finding.part_id,
        "class": finding.class_name,
        "status": finding.status,
        "offset_mm": None if finding.offset_mm is None else round(finding.offset_mm, 1),
        "offset_section_mm": offset,
        "offset_sigma_mm": None
        if np.isnan(finding.offset_sigma_m)
        else round(finding.offset_sigma_m * 1000, 1),
        "confidence": round(finding.confidence, 3),
        "frames_seen": finding.frames_seen,
        "good_looks": finding.good_looks,
        "detected_looks": finding.detected_looks,
        "best_frame": finding.best_frame,
        "best_pass": finding.best_pass,
        "reason": finding.reason,
        "suggested_view": None if suggestion is None else suggested_view_dict(suggestion),
    }


def suggested_view_dict(view: SuggestedView) -> dict:
    """The JSON form of a suggested viewpoint (section frame, metres)."""
    return {
        "eye_section_m": [round(float(v), 3) for v in view.eye_section_m],
        "look_at_section_m": [round(float(v), 3) for v in view.target_section_m],
        "distance_m": round(view.distance_m, 2),
        "visible_ratio": round(view.visible_ratio, 2),
        "height_px": round(view.height_px),
    }


def report_document(
    result: InspectionResult,
    recordings: Sequence[Recording],
    model: str,
    suggestions: Mapping[str, SuggestedView | None] | None = None,
) -> dict:
    """The whole report.json document of an inspection of `recordings` (its passes).

    `suggestions`: where to look at the ``not_verified`` parts from (`suggest_views`).
    """
    suggestions = suggestions or {}
    statuses: dict[str, int] = {}
    for frame in result.frames:
        statuses[frame.pose_status] = statuses.get(frame.pose_status, 0) + 1
    n = max(len(result.frames), 1)
    return {
        "section": result.section.name,
        "recording": str(Path(recordings[0].folder).resolve()),
        "passes": [str(Path(recording.folder).resolve()) for recording in recordings],
        "detector": model,
        "counts": result.counts(),
        "parts": [finding_dict(f, suggestions.get(f.part_id)) for f in result.findings],
        "unexpected": [
            {
                "class": obj.class_name,
                "position_section_m": [round(float(v), 3) for v in obj.position_section],
                "frames_seen": len(obj.frames),
                "best_frame": obj.best_frame,
                "best_pass": obj.best_pass,
                "score": round(obj.best_score, 3),
            }
            for obj in result.unexpected
        ],
        "frames": {"total": len(result.frames), "pose_status": statuses},
        "timing": {
            "wall_s": round(result.wall_s, 2),
            "frames_per_s": round(len(result.frames) / max(result.wall_s, 1e-9), 2),
            "ms_per_frame": {k: round(v / n * 1000, 2) for k, v in result.stage_times_s.items()},
        },
        "tool": f"arinspect {__version__}",
        "created_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def part_outline(
    camera: CameraModel, T_cam_section: FloatArray, vertices_section: FloatArray
) -> np.ndarray | None:
    """(K, 1, 2) int32 convex outline of projected points, or None if behind the camera."""
    uv, z = camera.project(T_cam_section, vertices_section)
    if not (z > 0.05).all():
        return None
    return cv2.convexHull(np.round(uv).astype(np.int32))


class ReportWriter:
    """Writes report.json, images and report.html for one inspection.

    Args:
        result: The inspection.
        recordings: Its passes, in the order inspected (one usually).
        model: The detector, as the report names it.
    """

    def __init__(
        self, result: InspectionResult, recordings: Sequence[Recording], model: str
    ) -> None:
        self.result = result
        self.recordings = list(recordings)
        self.model = model
        self.camera = result.camera
        self.hulls = part_hulls_section(result.section)
        self.frames = {f.frame: f for f in result.frames}

    def write(self, out_dir: str | Path) -> Path:
        """Write everything into `out_dir`; returns the path of report.html."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        suggestions = self.suggestions()
        document = report_document(self.result, self.recordings, self.model, suggestions)
        write_atomic(out_dir / "report.json", json.dumps(document, indent=2).encode())
        overview = write_image(out_dir / "images" / "overview.jpg", self.overview())
        crops = {}
        for finding in self.result.findings:
            if finding.status != "present" and finding.best_frame is not None:
                crop = self.crop(finding)
                if crop is not None:
                    crops[finding.part_id] = write_image(
                        out_dir / "crops" / f"{finding.part_id}.jpg", crop
                    )
        looks = {}
        for part_id, view in suggestions.items():
            image = None if view is None else self.suggested_view_image(view)
            if image is not None:
                looks[part_id] = write_image(out_dir / "looks" / f"{part_id}.jpg", image)
        overlays = [
            write_image(out_dir / "overlays" / overlay_file_name(frame), self.overlay(frame))
            for frame in self._overlay_frames()
        ]
        page = out_dir / "report.html"
        write_atomic(page, report_html(document, overview, crops, overlays, looks).encode())
        return page

    def _status(self) -> dict[str, str]:
        return {f.part_id: f.status for f in self.result.findings}

    def _draw_parts(
        self,
        image: UInt8Image,
        T_cam_section: FloatArray,
        camera: CameraModel,
        fill: bool,
    ) -> None:
        status = self._status()
        layer = image.copy()
        for part_id, hull in self.hulls.items():
            outline = part_outline(camera, T_cam_section, hull)
            if outline is None:
                continue
            colour = STATUS_BGR[status.get(part_id, "not_verified")]
            if fill:
                cv2.fillConvexPoly(layer, outline, colour, cv2.LINE_AA)
            cv2.polylines(image, [outline], True, colour, 2, cv2.LINE_AA)
        if fill:
            cv2.addWeighted(layer, 0.45, image, 0.55, 0.0, dst=image)
        for finding in self.result.findings:
            if finding.status == "misplaced" and finding.offset_m is not None:
                self._draw_offset_arrow(image, finding, T_cam_section, camera)

    def _draw_offset_arrow(
        self,
        image: UInt8Image,
        finding: PartFinding,
        T_cam_section: FloatArray,
        camera: CameraModel,
    ) -> None:
        centre = self.hulls[finding.part_id].mean(axis=0)
        uv, z = camera.project(T_cam_section, np.stack([centre, centre + finding.offset_m]))
        if (z > 0.05).all():
            a, b = (tuple(int(round(c)) for c in p) for p in uv)
            cv2.arrowedLine(image, a, b, STATUS_BGR["misplaced"], 2, cv2.LINE_AA, tipLength=0.3)

    def overview(self) -> UInt8Image:
        """The section rendered from above a corner, parts coloured by status."""
        section = self.result.section
        lo, hi = section_bounds(section)
        centre = (lo + hi) / 2
        size = float(np.max(hi - lo))
        eye = centre + np.array([-0.45 * size, -0.75 * size, 0.9 * size])
        T = look_at_T_cam_world(eye, centre, [0.0, 0.0, 1.0])
        K = np.array([[700.0, 0, 479.5], [0, 700.0, 359.5], [0, 0, 1]])
        camera = CameraModel(K, np.zeros(5), (960, 720))
        image = render(self.scene, camera, T, RenderOptions(supersample=1)).bgr
        self._draw_parts(image, T, camera, fill=True)
        return image

    @cached_property
    def scene(self) -> SectionScene:
        """The nominal section, for renders and casts."""
        return SectionScene(self.result.section)

    def suggestions(self) -> dict[str, SuggestedView | None]:
        """Where to look at each ``not_verified`` part from (`suggest_views`)."""
        unverified = [f.part_id for f in self.result.findings if f.status == "not_verified"]
        if not unverified:
            return {}
        viewer = ExpectedViewer(self.scene, self.camera)
        mounts = {name: entry.mount for name, entry in load_catalog().classes.items()}
        return suggest_views(viewer, self.result.section, mounts, unverified)

    def suggested_view_image(self, view: SuggestedView) -> UInt8Image | None:
        """The section rendered from a suggested viewpoint, around its part (outlined)."""
        T = view.T_cam_section
        image = render(self.scene, self.camera, T, RenderOptions(supersample=1)).bgr
        outline = part_outline(self.camera, T, self.hulls[view.part_id])
        if outline is None:
            return None
        cv2.polylines(image, [outline], True, STATUS_BGR["not_verified"], 2, cv2.LINE_AA)
        return _around(image, outline)

    def crop(self, finding: PartFinding) -> UInt8Image | None:
        """The best frame around the part, with its expected outline and offset arrow."""
        if finding.best_frame is None:
            return None
        frame = self.frames.get((finding.best_pass, finding.best_frame))
        if frame is None or frame.T_cam_section is None:
            return None
        image = self.recordings[frame.pass_index].bgr(frame.im_id).copy()
        self._draw_parts(image, frame.T_cam_section, self.camera, fill=False)
        outline = part_outline(self.camera, frame.T_cam_section, self.hulls[finding.part_id])
        if outline is None:
            return None
        return _around(image, outline)

    def overlay(self, key: FrameKey) -> UInt8Image:
        """A full frame with every part's expected outline and the frame's detections."""
        frame = self.frames[key]
        image = self.recordings[frame.pass_index].bgr(frame.im_id).copy()
        if frame.T_cam_section is not None:
            self._draw_parts(image, frame.T_cam_section, self.camera, fill=False)
        for det in frame.detections:
            x0, y0, x1, y1 = (int(round(v)) for v in det.box_xyxy_px)
            cv2.rectangle(image, (x0, y0), (x1, y1), (255, 255, 255), 1, cv2.LINE_AA)
        return image

    def _overlay_frames(self) -> list[FrameKey]:
        best = [
            (f.best_pass, f.best_frame)
            for f in self.result.findings
            if f.status in ("missing", "misplaced") and f.best_frame is not None
        ]
        chosen = list(dict.fromkeys(best))[:MAX_OVERLAYS]
        if not chosen and self.result.frames:
            chosen = [self.result.frames[len(self.result.frames) // 2].frame]
        return chosen


def _around(image: UInt8Image, outline: np.ndarray) -> UInt8Image | None:
    """The image around an outline (half its size as margin), 240 px on its longer side."""
    x, y, w, h = cv2.boundingRect(outline)
    margin = max(w, h) // 2 + 20
    x0, y0 = max(x - margin, 0), max(y - margin, 0)
    x1, y1 = min(x + w + margin, image.shape[1]), min(y + h + margin, image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    crop = image[y0:y1, x0:x1]
    scale = 240.0 / max(crop.shape[:2])
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
