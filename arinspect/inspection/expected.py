"""What the camera should see of every part at a given pose: the expected view.

The nominal CAD (every part where the drawing puts it) is ray cast at reduced resolution
(a quarter of the frame size by default: enough to decide visibility, a few milliseconds).
For each part this gives its visible pixels, occlusion by structure and other parts
included; the rays that cross the part anywhere among the parts alone give its
unoccluded silhouette (a part hidden behind another part is not in view), and a cast of
the section without parts the depth seen through a missing part. ``visible_ratio`` says
how much of a part is in view (a part hidden behind a web frame has a small ratio and
is never called missing). The part's box is the projection of its mesh (sub-pixel,
unoccluded), which is what a detection of the whole part is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.geometry import invert_T, rotate_vectors, transform_points
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class ExpectedPart:
    """One part as the camera should see it (pixel figures at full frame resolution).

    Attributes:
        part_id: Part id.
        class_name: Catalog class.
        visible_px: Visible pixel count (occlusion included).
        silhouette_px: Pixel count of the part alone (no occluders), inside the frame.
        in_frame: Share of the projected box that lies inside the frame.
        box_xyxy_px: Box of the projected mesh, unoccluded and not clipped to the frame.
        centre_section: (3,) centre of the part's mesh bounds, section frame, metres.
        depth_m: z-depth of that centre in the camera, metres.
        visible_box_xyxy_px: The box a detector should draw around what is visible of the
            part: `box_xyxy_px` clipped to the frame and trimmed on the sides where
            structure or other parts hide it (those sides to the resolution of the cast).
            None means `box_xyxy_px` (nothing known about occlusion).
    """

    part_id: str
    class_name: str
    visible_px: float
    silhouette_px: float
    in_frame: float
    box_xyxy_px: tuple[float, float, float, float]
    centre_section: FloatArray
    depth_m: float
    visible_box_xyxy_px: tuple[float, float, float, float] | None = None

    @property
    def detector_box_xyxy_px(self) -> tuple[float, float, float, float]:
        """Where the detector's box of this part should lie (visible part, full-res pixels)."""
        return self.box_xyxy_px if self.visible_box_xyxy_px is None else self.visible_box_xyxy_px

    @property
    def visible_ratio(self) -> float:
        """Share of the whole part that is in view (0 = hidden or out of frame, 1 = all)."""
        return min(self.visible_px / max(self.silhouette_px, 1.0), 1.0) * self.in_frame

    @property
    def height_px(self) -> float:
        """Height of the projected box in pixels."""
        return self.box_xyxy_px[3] - self.box_xyxy_px[1]


@dataclass(frozen=True)
class ExpectedView:
    """The expected view of one frame.

    Attributes:
        parts: Parts with at least one visible pixel, by id.
        label_map: (h, w) label per pixel of the reduced-resolution cast.
        depth_m: (h, w) expected z-depth of the cast, metres (0 where nothing is hit).
        depth_behind_m: (h, w) z-depth of the section without its parts: what a camera
            sees through the place of a missing part (0 where nothing is hit).
        points_section: (h, w, 3) hit points, section frame, metres (NaN where nothing).
        rays_cam: (h, w, 3) camera rays of the cast's pixels, cam frame, z = 1.
        T_section_cam: (4, 4) camera pose of the view, metres.
        scale: Reduced over full resolution (e.g. 0.5).
    """

    parts: dict[str, ExpectedPart]
    label_map: np.ndarray
    depth_m: np.ndarray
    depth_behind_m: np.ndarray
    points_section: FloatArray
    scale: float
    rays_cam: FloatArray
    T_section_cam: FloatArray

    def full_res_pixels(
        self, rows: np.ndarray, cols: np.ndarray, full_hw: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution pixels (of a `full_hw` frame) nearest reduced-resolution pixels."""
        h, w = full_hw
        full_rows = np.clip(np.round((rows + 0.5) / self.scale - 0.5).astype(int), 0, h - 1)
        full_cols = np.clip(np.round((cols + 0.5) / self.scale - 0.5).astype(int), 0, w - 1)
        return full_rows, full_cols

    def point_at(self, u: float, v: float) -> FloatArray | None:
        """Section-frame surface point seen at full-resolution pixel (u, v), or None."""
        h, w = self.label_map.shape
        col = int(np.clip(round((u + 0.5) * self.scale - 0.5), 0, w - 1))
        row = int(np.clip(round((v + 0.5) * self.scale - 0.5), 0, h - 1))
        point = self.points_section[row, col]
        return None if not np.isfinite(point).all() else point


@dataclass(frozen=True)
class PartPixels:
    """The full-resolution pixels where a part shows in a view.

    Attributes:
        rows: (N,) pixel rows.
        cols: (N,) pixel columns.
        depth_m: (N,) expected z-depth of the part there, metres.
        depth_behind_m: (N,) z-depth of the section without its parts there (what shows
            through the place of a missing part), metres; inf where nothing is hit.
    """

    rows: np.ndarray
    cols: np.ndarray
    depth_m: FloatArray
    depth_behind_m: FloatArray


def visible_extents(label_map: np.ndarray, n_labels: int) -> np.ndarray:
    """(n_labels, 4) inclusive pixel extents ``[col0, row0, col1, row1]`` of each label.

    Labels absent from `label_map` get ``[w, h, -1, -1]``.
    """
    h, w = label_map.shape
    labels = label_map.ravel()
    rows, cols = np.divmod(np.arange(labels.size), w)
    extents = np.empty((n_labels, 4), np.int64)
    extents[:, :2] = (w, h)
    extents[:, 2:] = -1
    np.minimum.at(extents[:, 0], labels, cols)
    np.minimum.at(extents[:, 1], labels, rows)
    np.maximum.at(extents[:, 2], labels, cols)
    np.maximum.at(extents[:, 3], labels, rows)
    return extents


def trimmed_box(
    projected: tuple[float, float, float, float],
    extent: np.ndarray,
    scale: float,
    width: int,
    height: int,
) -> tuple[float, float, float, float]:
    """The projected box (full-res pixel edges) clipped to the frame and trimmed to `extent`.

    `extent` is the part's visible ``[col0, row0, col1, row1]`` in a cast at `scale` of the
    frame's resolution. A visible edge within one cast pixel of the projected edge is the
    projected edge (sub-pixel); one farther inside means that side is hidden, and the
    visible edge (to the cast's resolution) is where the detector's box should end.
    """
    x0, y0, x1, y1 = projected
    x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))
    if extent[2] < 0:
        return x0, y0, x1, y1
    slack = 1.0 / scale
    v0 = extent[:2] / scale
    v1 = (extent[2:] + 1) / scale
    x0 = float(v0[0]) if v0[0] > x0 + slack else x0
    y0 = float(v0[1]) if v0[1] > y0 + slack else y0
    x1 = float(v1[0]) if v1[0] < x1 - slack else x1
    y1 = float(v1[1]) if v1[1] < y1 - slack else y1
    return x0, y0, x1, y1


def part_hulls_section(section: Section) -> dict[str, FloatArray]:
    """Convex-hull vertices of every part's mesh at its drawn place, section frame, metres."""
    return {
        part.id: transform_points(
            part.T_section_part, np.asarray(section.mesh(part).convex_hull.vertices)
        )
        for part in section.parts
    }


class ExpectedViewer:
    """Computes expected views of one section for one camera.

    Args:
        scene: Ray-casting scene of the nominal section.
        camera: Full-resolution camera of the frames.
        scale: Resolution of the visibility casts relative to the frames.
    """

    def __init__(self, scene: SectionScene, camera: CameraModel, scale: float = 0.25) -> None:
        self.scene = scene
        self.camera = camera
        self.scale = scale
        self.small = camera.scaled(scale)
        self._rays = self.small.pixel_rays_cam.reshape(-1, 3)
        section = scene.section
        self._parts_only = SectionScene(replace(section, structure=(), markers=()))
        self._without_parts = SectionScene(replace(section, parts=()))
        self._part_labels = [lab for lab in scene.labels if lab.kind == "part"]
        self._alone_index = self._parts_only.label_by_id()
        self._label_of = scene.label_by_id()
        self._is_part = np.zeros(len(scene.labels), dtype=bool)
        self._is_part[[lab.index for lab in self._part_labels]] = True
        self._hulls = part_hulls_section(section)
        self._centres = {
            part.id: transform_points(
                part.T_section_part,
                np.asarray(section.mesh(part).bounds).mean(axis=0, keepdims=True),
            )[0]
            for part in section.parts
        }

    def view(self, T_cam_section: FloatArray) -> ExpectedView:
        """The expected view at pose `T_cam_section` ((4, 4), metres)."""
        h, w = self.small.height, self.small.width
        T_section_cam = invert_T(T_cam_section)
        eye = T_section_cam[:3, 3]
        directions = rotate_vectors(T_section_cam, self._rays)
        origins = np.broadcast_to(eye, directions.shape).copy()
        hits = self.scene.cast(origins, directions)
        alone_counts = self._parts_only.crossing_counts(origins, directions)
        behind, _ = self._without_parts.cast_depth_labels(origins, directions)
        label_map = hits.label.reshape(h, w)
        depth = np.where(np.isfinite(hits.t), hits.t, 0.0).reshape(h, w)
        depth_behind = np.where(np.isfinite(behind), behind, 0.0).reshape(h, w)
        points = np.where(np.isfinite(hits.t)[:, None], hits.point, np.nan).reshape(h, w, 3)
        counts = np.bincount(hits.label, minlength=len(self.scene.labels))
        extents = visible_extents(label_map, len(self.scene.labels))
        area = 1.0 / self.scale**2
        parts = {}
        for lab in self._part_labels:
            if counts[lab.index] == 0:
                continue
            box, in_frame, depth_m = self._projected_box(lab.id, T_cam_section)
            parts[lab.id] = ExpectedPart(
                lab.id,
                lab.class_name,
                float(counts[lab.index]) * area,
                float(alone_counts[self._alone_index[lab.id]]) * area,
                in_frame,
                box,
                self._centres[lab.id],
                depth_m,
                trimmed_box(box, extents[lab.index], self.scale, *self.camera.image_size_wh),
            )
        return ExpectedView(
            parts,
            label_map,
            depth.astype(np.float32),
            depth_behind.astype(np.float32),
            points,
            self.scale,
            self.small.pixel_rays_cam,
            T_section_cam,
        )

    def part_pixels(
        self,
        T_cam_section: FloatArray,
        part_id: str,
        offset_m: FloatArray | None = None,
        max_pixels: int = 40000,
    ) -> PartPixels:
        """Where a part shows at `T_cam_section`, cast at full resolution, or would if moved.

        For small parts the reduced-resolution view has too few pixels to tell by depth
        whether they are there (a collar plate's slot gap); and where a part was measured
        off its place, depth should see it there if it moved (`offset_m`: (3,) the move,
        section frame, metres). Only the part's projected box (moved) is cast, at most
        `max_pixels` of it (evenly subsampled beyond), against the parts alone with the
        part moved (rays from the eye moved back by the offset: the other parts move
        with it there), so pixels where another part at its drawn place lies in front of
        it are then left out; the section without parts gives what shows through the
        place where the part is not. Structure in front of the part is not left out here:
        its pixels have steel in front of the part, which `evidence.depth_shares` does not
        count as telling. (A pixel where the part's own drawn place lies in front of the
        moved part, with another part between them, is kept: a move along the line of
        sight that depth cannot measure anyway.)
        """
        offset = np.zeros(3) if offset_m is None else np.asarray(offset_m, dtype=np.float64)
        box, in_frame, _ = self._projected_box(part_id, T_cam_section, offset)
        if in_frame <= 0.0:
            return PartPixels(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0))
        rows, cols, origins, directions = self._box_rays(T_cam_section, box, max_pixels)
        depth, label = self._parts_only.cast_depth_labels(origins - offset, directions)
        own = np.flatnonzero(label == self._alone_index[part_id])
        if offset.any():
            in_front, front_label = self.scene.cast_depth_labels(origins[own], directions[own])
            other_part = self._is_part[front_label] & (front_label != self._label_of[part_id])
            own = own[~(other_part & (in_front < depth[own]))]
        behind, _ = self._without_parts.cast_depth_labels(origins[own], directions[own])
        return PartPixels(rows[own], cols[own], depth[own], behind)

    def part_centre(self, part_id: str) -> FloatArray:
        """(3,) centre of a part's mesh bounds at its drawn place, section frame, metres."""
        return self._centres[part_id]

    def part_in_view(
        self, T_cam_section: FloatArray, part_id: str, max_pixels: int = 4000
    ) -> tuple[float, float]:
        """(visible ratio, projected height in pixels) of one part at a pose.

        As `ExpectedPart.visible_ratio` and `ExpectedPart.height_px` of `view`, for one part
        and cheaper (a search over many poses): only the part's projected box, inside the
        frame, is cast (at most `max_pixels` rays, evenly subsampled), against the section
        and against the parts alone.
        """
        box, in_frame, _ = self._projected_box(part_id, T_cam_section)
        if in_frame <= 0.0:
            return 0.0, 0.0
        _, _, origins, directions = self._box_rays(T_cam_section, box, max_pixels)
        _, label = self.scene.cast_depth_labels(origins, directions)
        visible = np.count_nonzero(label == self._label_of[part_id])
        silhouette = self._parts_only.crossing_counts(origins, directions)[
            self._alone_index[part_id]
        ]
        return min(visible / max(silhouette, 1), 1.0) * in_frame, box[3] - box[1]

    def _box_rays(
        self, T_cam_section: FloatArray, box: tuple[float, ...], max_pixels: int
    ) -> tuple[np.ndarray, np.ndarray, FloatArray, FloatArray]:
        """Pixels of a box inside the frame and their rays, section frame.

        Returns (rows, cols, origins, directions): at most `max_pixels`, evenly subsampled.
        """
        x0, y0, x1, y1 = box
        cols = np.arange(max(int(np.floor(x0)), 0), min(int(np.ceil(x1)), self.camera.width))
        rows = np.arange(max(int(np.floor(y0)), 0), min(int(np.ceil(y1)), self.camera.height))
        step = max(1, int(np.ceil(np.sqrt(len(rows) * len(cols) / max_pixels))))
        grid_rows, grid_cols = (a.ravel() for a in np.meshgrid(rows[::step], cols[::step]))
        T_section_cam = invert_T(T_cam_section)
        directions = rotate_vectors(T_section_cam, self.camera.pixel_rays_cam[grid_rows, grid_cols])
        origins = np.broadcast_to(T_section_cam[:3, 3], directions.shape).copy()
        return grid_rows, grid_cols, origins, directions

    def _projected_box(
        self, part_id: str, T_cam_section: FloatArray, offset_m: FloatArray | None = None
    ) -> tuple[tuple[float, float, float, float], float, float]:
        """Projected box of the part's hull (pixel edges), its share inside the frame, depth.

        `offset_m`: (3,) the part moved by this, section frame, metres.
        """
        shift = np.zeros(3) if offset_m is None else offset_m
        uv, z = self.camera.project(T_cam_section, self._hulls[part_id] + shift)
        centre = self._centres[part_id] + shift
        centre_z = float(transform_points(T_cam_section, centre[None])[0, 2])
        if not (z > 0.05).all():
            return (0.0, 0.0, 0.0, 0.0), 0.0, centre_z
        x0, y0 = uv.min(axis=0) + 0.5
        x1, y1 = uv.max(axis=0) + 0.5
        inside_w = max(min(x1, self.camera.width) - max(x0, 0.0), 0.0)
        inside_h = max(min(y1, self.camera.height) - max(y0, 0.0), 0.0)
        in_frame = inside_w * inside_h / max((x1 - x0) * (y1 - y0), 1e-9)
        return (float(x0), float(y0), float(x1), float(y1)), float(in_frame), centre_z
