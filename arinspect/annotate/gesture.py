"""Anchoring a worker's gestures on the section CAD: taps, pointing rays and ink strokes.

A tap at pixel (u, v) of a frame with known ``T_cam_section`` (lens distortion inverted
exactly), or a pointing ray from the headset (origin and direction in the section frame),
is ray cast against the section's meshes. The result names what was hit (part, structure
or marker), the surface point and normal in the section frame. A ray that hits nothing,
or only structure when a part was asked for, is reported as such: it is never attached to
the nearest part. An ink stroke (pixels or rays) becomes polylines on the surface, split
where it leaves the element it started on or runs off the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.errors import ConfigError
from arinspect.geometry import check_shape, invert_T, rotate_vectors
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray

HIT = "hit"
NO_HIT = "no_hit"
NOT_A_PART = "not_a_part"


@dataclass(frozen=True)
class SurfaceHit:
    """Where a ray met the section.

    Attributes:
        kind: ``part``, ``structure`` or ``marker``.
        element_id: Part or structure id, or ``FAMILY/ID`` for a marker.
        class_name: Part class, structure kind, or marker family.
        point_section: (3,) surface point, section frame, metres.
        normal_section: (3,) unit surface normal facing the ray origin, section frame.
        distance_m: Distance from the ray origin along the ray, metres.
    """

    kind: str
    element_id: str
    class_name: str
    point_section: FloatArray
    normal_section: FloatArray
    distance_m: float


@dataclass(frozen=True)
class Anchor:
    """Outcome of one tap or pointing ray.

    Attributes:
        status: ``hit``; ``no_hit`` (the ray meets no CAD); ``not_a_part`` (a part was asked
            for and the ray meets structure or a marker first).
        hit: What the ray met first (None for ``no_hit``).
    """

    status: str
    hit: SurfaceHit | None

    @property
    def part_id(self) -> str | None:
        """The part anchored to, if the status is ``hit`` on a part."""
        if self.status == HIT and self.hit is not None and self.hit.kind == "part":
            return self.hit.element_id
        return None


@dataclass(frozen=True)
class StrokeSegment:
    """A run of stroke samples on one element.

    Attributes:
        element_id: The element the run lies on.
        kind: Its kind (``part``, ``structure``, ``marker``).
        points_section: (K, 3) surface points in stroke order, section frame, metres.
    """

    element_id: str
    kind: str
    points_section: FloatArray


class GestureAnchoring:
    """Ray casts gestures against one section (scene built once).

    Args:
        section: The section as drawn (the worker annotates the digital model).
    """

    def __init__(self, section: Section) -> None:
        self.section = section
        self.scene = SectionScene(section)

    def cast(
        self, origins_section: FloatArray, directions_section: FloatArray
    ) -> list[SurfaceHit | None]:
        """First hit of each of (N, 3) rays (directions need not be unit), or None."""
        origins = np.asarray(origins_section, dtype=np.float64).reshape(-1, 3)
        directions = np.asarray(directions_section, dtype=np.float64).reshape(-1, 3)
        norms = np.linalg.norm(directions, axis=1)
        if origins.shape != directions.shape:
            raise ConfigError(f"{len(origins)} ray origins but {len(directions)} directions")
        if not (np.isfinite(origins).all() and np.isfinite(directions).all()) or (norms == 0).any():
            raise ConfigError("ray origins and directions must be finite, directions non-zero")
        unit = directions / norms[:, None]
        hits = self.scene.cast(origins, unit)
        result: list[SurfaceHit | None] = []
        for i, label_index in enumerate(hits.label):
            if label_index == 0:
                result.append(None)
                continue
            label = self.scene.labels[label_index]
            result.append(
                SurfaceHit(
                    label.kind,
                    label.id,
                    label.class_name,
                    hits.point[i].copy(),
                    hits.normal[i].copy(),
                    float(hits.t[i]),
                )
            )
        return result

    def point(
        self, origin_section: FloatArray, direction_section: FloatArray, want_part: bool = False
    ) -> Anchor:
        """Anchor a pointing ray from the headset (section frame, metres)."""
        check_shape(np.asarray(origin_section), (3,), "origin_section")
        check_shape(np.asarray(direction_section), (3,), "direction_section")
        return _anchor(self.cast(origin_section, direction_section)[0], want_part)

    def tap(
        self,
        u: float,
        v: float,
        camera: CameraModel,
        T_cam_section: FloatArray,
        want_part: bool = False,
    ) -> Anchor:
        """Anchor a tap at pixel (u, v) (pixel centres at integers) of a frame."""
        if not (0 <= u <= camera.width - 1 and 0 <= v <= camera.height - 1):
            raise ConfigError(
                f"tap ({u:.1f}, {v:.1f}) is outside the {camera.width}x{camera.height} frame"
            )
        origins, directions = pixel_rays_section(np.array([[u, v]]), camera, T_cam_section)
        return _anchor(self.cast(origins, directions)[0], want_part)

    def stroke(
        self, origins_section: FloatArray, directions_section: FloatArray
    ) -> list[StrokeSegment]:
        """Polylines on the surface from a stroke's rays, split per element and at misses."""
        segments: list[StrokeSegment] = []
        run: list[SurfaceHit] = []
        for hit in [*self.cast(origins_section, directions_section), None]:
            if run and (hit is None or hit.element_id != run[-1].element_id):
                points = np.array([h.point_section for h in run])
                segments.append(StrokeSegment(run[0].element_id, run[0].kind, points))
                run = []
            if hit is not None:
                run.append(hit)
        return segments

    def stroke_pixels(
        self, uv: FloatArray, camera: CameraModel, T_cam_section: FloatArray
    ) -> list[StrokeSegment]:
        """Polylines on the surface from a stroke drawn in a frame ((N, 2) pixels)."""
        origins, directions = pixel_rays_section(
            np.asarray(uv, dtype=np.float64), camera, T_cam_section
        )
        return self.stroke(origins, directions)


def pixel_rays_section(
    uv: FloatArray, camera: CameraModel, T_cam_section: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(N, 3) origins and unit directions, section frame, of the rays through (N, 2) pixels."""
    check_shape(uv, (None, 2), "uv")
    check_shape(np.asarray(T_cam_section), (4, 4), "T_cam_section")
    xy = camera.normalized_from_pixels(uv)
    rays_cam = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)
    T_section_cam = invert_T(np.asarray(T_cam_section, dtype=np.float64))
    directions = rotate_vectors(T_section_cam, rays_cam)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(T_section_cam[:3, 3], directions.shape).copy()
    return origins, directions


def _anchor(hit: SurfaceHit | None, want_part: bool) -> Anchor:
    if hit is None:
        return Anchor(NO_HIT, None)
    if want_part and hit.kind != "part":
        return Anchor(NOT_A_PART, hit)
    return Anchor(HIT, hit)
