"""Scripted taps, pointing rays and ink strokes of a replay, anchored with the tracked pose.

Each gesture is ray cast by `arinspect.annotate.gesture.GestureAnchoring` with the frame's
tracked ``T_cam_section``. A tap or ray that hits nothing, or structure or a marker
before any part, is reported (``no_hit`` / ``not_a_part``) and sends nothing: it is never
attached to a nearby part. A stroke becomes one ``ink`` annotation per part it crosses,
its polylines (one per run over the part, section frame, millimetres) in the description
as ``{"ink_section_mm": [[[x, y, z], ...], ...]}``; the runs over structure or empty space
are reported.
"""

from __future__ import annotations

import json

import numpy as np

from arinspect.annotate.gesture import (
    NO_HIT,
    GestureAnchoring,
    StrokeSegment,
    SurfaceHit,
    pixel_rays_section,
)
from arinspect.client.replay_annotator import Annotator, StepOutcome, TrackedFrame
from arinspect.client.replay_script import Step
from arinspect.geometry import invert_T, rotate_vectors, transform_points
from arinspect.typed import FloatArray

STROKE_STEP_PX = 4.0
"""Largest spacing of the samples cast along a stroke, pixels."""
MAX_INK_POINTS = 200
"""Most points written per polyline of an ink annotation (longer runs are thinned)."""


def resample_polyline(uv_px: FloatArray, step_px: float = STROKE_STEP_PX) -> FloatArray:
    """(M, 2) samples along the (N, 2) pixel polyline, at most ``step_px`` apart, ends kept."""
    uv = np.asarray(uv_px, dtype=np.float64)
    samples = [uv[:1]]
    for a, b in zip(uv[:-1], uv[1:], strict=True):
        n = max(int(np.ceil(np.linalg.norm(b - a) / step_px)), 1)
        t = np.arange(1, n + 1)[:, None] / n
        samples.append(a + t * (b - a))
    return np.concatenate(samples)


class GestureSteps:
    """Performs gesture steps on tracked frames and queues the annotations they make.

    Args:
        anchoring: Ray casting against the section CAD.
        annotator: Where annotations go.
    """

    def __init__(self, anchoring: GestureAnchoring, annotator: Annotator) -> None:
        self.anchoring = anchoring
        self.annotator = annotator
        self.camera = annotator.camera

    def run(self, step: Step, frame: TrackedFrame) -> tuple[StepOutcome, SurfaceHit | None]:
        """Perform one gesture; returns its outcome and the part hit it selects (if any)."""
        if frame.T_cam_section is None:
            return StepOutcome(frame.index, step.action, "no_pose", frame.pose_status), None
        if step.action == "stroke":
            return self._stroke(step, frame, frame.T_cam_section), None
        if step.action == "tap":
            u, v = step.uv_px[0]
            anchor = self.anchoring.tap(u, v, self.camera, frame.T_cam_section, want_part=True)
        else:
            origin, direction = self._ray_section(step, frame.T_cam_section)
            anchor = self.anchoring.point(origin, direction, want_part=True)
        hit = anchor.hit
        if anchor.part_id is None or hit is None:
            return self._missed(step, frame, anchor.status, hit), None
        kind = step.fields["kind"]
        if kind == "select":
            outcome = StepOutcome(frame.index, step.action, "selected", part_id=hit.element_id)
            return outcome, hit
        annotation_id = self.annotator.create(
            frame,
            hit,
            kind,
            step.fields.get("title") or f"{kind} on {hit.element_id}",
            description=step.fields.get("note", ""),
            mark_px=step.uv_px if step.action == "tap" else None,
        )
        outcome = StepOutcome(
            frame.index,
            step.action,
            "annotated",
            f"{kind} at {_mm(hit.point_section)} mm (section)",
            hit.element_id,
            (annotation_id,),
        )
        return outcome, hit

    def _ray_section(self, step: Step, T_cam_section: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Origin and direction of a pointing step in the section frame (metres)."""
        T_section_cam = invert_T(T_cam_section)
        origin_cam = np.asarray(step.fields.get("origin_cam", (0.0, 0.0, 0.0)), dtype=np.float64)
        direction_cam = np.asarray(step.fields["direction_cam"], dtype=np.float64)
        origin = transform_points(T_section_cam, origin_cam[None])[0]
        return origin, rotate_vectors(T_section_cam, direction_cam[None])[0]

    def _missed(
        self, step: Step, frame: TrackedFrame, status: str, hit: SurfaceHit | None
    ) -> StepOutcome:
        detail = (
            "the ray meets no CAD"
            if status == NO_HIT or hit is None
            else f"the ray meets {hit.kind} {hit.element_id} first"
        )
        return StepOutcome(frame.index, step.action, status, detail)

    def _stroke(self, step: Step, frame: TrackedFrame, T_cam_section: FloatArray) -> StepOutcome:
        uv = resample_polyline(step.uv_px)
        origins, directions = pixel_rays_section(uv, self.camera, T_cam_section)
        hits = self.anchoring.cast(origins, directions)
        on_parts: dict[str, list[StrokeSegment]] = {}
        off_parts: dict[str, int] = {}  # element id -> samples
        for segment in self.anchoring.stroke(origins, directions):
            if segment.kind == "part":
                on_parts.setdefault(segment.element_id, []).append(segment)
            else:
                off_parts[segment.element_id] = off_parts.get(segment.element_id, 0) + len(
                    segment.points_section
                )
        ids = tuple(self._ink(step, frame, runs, hits, uv) for runs in on_parts.values())
        misses = sum(h is None for h in hits)
        detail = f"ink on {', '.join(on_parts)}" if on_parts else "no part"
        if off_parts:
            detail += f"; {sum(off_parts.values())} samples on {', '.join(off_parts)}"
        if misses:
            detail += f"; {misses} samples on no CAD"
        if not on_parts:
            result = NO_HIT if misses == len(hits) else "not_a_part"
            return StepOutcome(frame.index, "stroke", result, detail)
        return StepOutcome(frame.index, "stroke", "annotated", detail, next(iter(on_parts)), ids)

    def _ink(
        self,
        step: Step,
        frame: TrackedFrame,
        runs: list[StrokeSegment],
        hits: list[SurfaceHit | None],
        uv: FloatArray,
    ) -> str:
        """One ink annotation for the runs of a stroke over one part, anchored at its start."""
        start = runs[0].points_section[0]
        first = next(h for h in hits if h is not None and np.array_equal(h.point_section, start))
        polylines = []
        for run in runs:
            points = run.points_section
            keep = np.linspace(0, len(points) - 1, min(len(points), MAX_INK_POINTS))
            polylines.append([_mm(p) for p in points[np.unique(keep.round().astype(int))]])
        note = step.fields.get("note", "")
        return self.annotator.create(
            frame,
            first,
            "ink",
            step.fields.get("title") or f"ink on {first.element_id}",
            description=(note + "\n" if note else "") + json.dumps({"ink_section_mm": polylines}),
            mark_px=uv,
        )


def _mm(point_m: FloatArray) -> list[float]:
    return [round(float(v) * 1000, 1) for v in point_m]
