"""Calibration data with known truth, for tests and benchmarks.

- `BoardRenderer`: exact renders of a planar board seen by a camera with distortion at a
  known ``T_cam_board``: every sub-pixel ray of the (distorted) image is cast onto the
  board plane and the board image is sampled bilinearly; sub-samples are averaged, so
  edges are area-sampled and corners unbiased.
- `board_view_poses`: varied, tilted ``T_cam_board`` that fill the image, as a careful
  engineer would take them.
- `displace_markers` and `survey_view_poses`: a section whose non-control markers sit
  away from their nominal poses, and camera poses around it that see its markers from
  a given range of distances.
- `capture_plan_poses` and `markers_seen_in_render`: survey views taken by the capture
  plan of docs/calibration.md (every non-control marker from several directions with
  others around it), checked on the rendered label map.
- `plate_section`: the simplest section to register, a flat plate with a grid of markers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from arinspect.cad.section import Marker, Section, StructureElement, save_section
from arinspect.calibration.boards import BoardSpec, board_image
from arinspect.camera import CameraModel
from arinspect.errors import ConfigError
from arinspect.geometry import (
    invert_T,
    look_at_T_cam_world,
    make_T,
    rotate_vectors,
    rotation_from_rotvec,
    transform_points,
)
from arinspect.markers import marker_corners_marker
from arinspect.typed import FloatArray, UInt8Image

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from arinspect.render.scene import SectionScene

BLACK_LEVEL = 30.0
"""Grey level of the printed black, 0-255."""

WHITE_LEVEL = 215.0
"""Grey level of the paper, 0-255."""

BACKGROUND_LEVEL = 110.0
"""Grey level of the wall behind the board, 0-255."""

MIN_CLEAR_PX = 25.0
"""Foreshortened width in pixels from which a marker counts as clearly seen."""


class BoardRenderer:
    """Renders one board seen by one camera; prepare once, render many poses."""

    def __init__(
        self, spec: BoardSpec, camera: CameraModel, subsamples: int = 3, texels_per_px: int = 4
    ) -> None:
        """Prepare the sub-pixel rays and the board texture.

        Args:
            spec: The board.
            camera: Intrinsics with distortion and image size of the rendered views.
            subsamples: Sub-rays per pixel side (3 = 9 rays per pixel).
            texels_per_px: Board texels per image pixel at the closest expected view
                (about 0.4 m at f = 600 px); more texels make edges sharper.
        """
        self.spec = spec
        self.camera = camera
        self.subsamples = subsamples
        fine = camera.scaled(subsamples)
        # Sub-pixel (k, l) of pixel (u, v) is fine pixel (s u + k, s v + l): the fine grid's
        # pixel centres split each pixel into s x s equal cells (CameraModel.scaled).
        self._rays_cam = fine.pixel_rays_cam.reshape(-1, 3)
        closest_m = 0.4
        square_px_in_image = camera.K[0, 0] * spec.square_m / closest_m
        square_px = max(16, int(np.ceil(square_px_in_image * texels_per_px)))
        drawn = board_image(spec, square_px)
        paper = drawn.image.astype(np.float32) / np.float32(255.0)
        self._texture = BLACK_LEVEL + (WHITE_LEVEL - BLACK_LEVEL) * paper
        self._drawn = drawn

    def render(
        self,
        T_cam_board: FloatArray,
        noise_sigma: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> UInt8Image:
        """The (H, W) grey image of the board at `T_cam_board` ((4, 4), metres).

        Args:
            T_cam_board: Board pose in the camera frame.
            noise_sigma: Gaussian sensor noise, grey levels (0-255); 0 = none.
            rng: Generator for the noise.
        """
        T_board_cam = invert_T(np.asarray(T_cam_board, dtype=np.float64))
        origin = T_board_cam[:3, 3]
        directions = rotate_vectors(T_board_cam, self._rays_cam)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = -origin[2] / directions[:, 2]
        hit = np.isfinite(t) & (t > 0.0)
        xy = origin[:2] + directions[:, :2] * np.where(hit, t, 0.0)[:, None]
        uv = np.where(hit[:, None], self._drawn.pixels_from_board(xy), -1e4).astype(np.float32)
        s = self.subsamples
        height, width = self.camera.height, self.camera.width
        fine_shape = (height * s, width * s)
        fine = cv2.remap(
            self._texture,
            uv[:, 0].reshape(fine_shape),
            uv[:, 1].reshape(fine_shape),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=BACKGROUND_LEVEL,
        )
        image = fine.reshape(height, s, width, s).mean(axis=(1, 3))
        if noise_sigma > 0.0:
            rng = rng or np.random.default_rng(0)
            image = image + rng.normal(0.0, noise_sigma, image.shape)
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def board_view_poses(
    spec: BoardSpec, camera: CameraModel, count: int, rng: np.random.Generator
) -> list[FloatArray]:
    """`count` varied ``T_cam_board`` (metres) that show the board in every part of the image.

    Views are tilted 15-45 degrees about random axes and rolled freely, with the board
    filling 50-75 % of the image width; their centres go in turn to the image's
    corners, edges and middle (a 3 x 3 pattern with jitter), as the guide in
    docs/calibration.md asks of a person. Chessboards and circle grids are kept whole in
    the image, moving a view towards the middle until they fit; a ChArUco board may run off
    the image edges.

    Raises:
        ConfigError: the board is too large to fit the image that often.
    """
    width_m, height_m = spec.pattern_size_m
    centre_board = np.array([width_m / 2, height_m / 2, 0.0])
    outline_board = np.array(
        [[0, 0, 0], [width_m, 0, 0], [width_m, height_m, 0], [0, height_m, 0]], dtype=np.float64
    )
    aims = [(0.2, 0.2), (0.8, 0.8), (0.8, 0.2), (0.2, 0.8), (0.5, 0.5)]
    aims += [(0.5, 0.2), (0.8, 0.5), (0.5, 0.8), (0.2, 0.5)]
    # A ChArUco view may run off the image (its corners carry their ids); other boards
    # are only found whole.
    outline = centre_board[None] if spec.kind == "charuco" else outline_board
    poses: list[FloatArray] = []
    image_centre = np.array([camera.width, camera.height]) / 2.0
    for _attempt in range(100 * count):
        if len(poses) == count:
            return poses
        tilt_axis = np.array([*rng.normal(size=2), 0.0])
        tilt_rad = np.deg2rad(rng.uniform(15, 45))
        tilt = rotation_from_rotvec(tilt_axis / np.linalg.norm(tilt_axis) * tilt_rad)
        R_cam_board = tilt @ rotation_from_rotvec([0.0, 0.0, rng.uniform(-np.pi, np.pi)])
        aim_px = (np.array(aims[len(poses) % len(aims)]) + rng.normal(0, 0.03, 2)) * [
            camera.width,
            camera.height,
        ]
        fill = rng.uniform(0.5, 0.75)
        for _ in range(12):
            ray = np.array([*camera.normalized_from_pixels(aim_px[None])[0], 1.0])
            distance_m = camera.K[0, 0] * width_m / (fill * camera.width)
            T_cam_board = make_T(R_cam_board, ray * distance_m - R_cam_board @ centre_board)
            if _inside_image(camera, T_cam_board, outline, margin_px=5.0):
                poses.append(T_cam_board)
                break
            aim_px = image_centre + 0.85 * (aim_px - image_centre)
            fill *= 0.97
    raise ConfigError(f"the {spec.describe()} board does not fit the image in {count} views")


def _inside_image(
    camera: CameraModel, T_cam_x: FloatArray, pts_x: FloatArray, margin_px: float
) -> bool:
    """True if every point projects in front of the camera and `margin_px` inside the image."""
    uv, z = camera.project(T_cam_x, pts_x)
    return bool(
        np.all(z > 0)
        and np.all(uv >= margin_px)
        and np.all(uv[:, 0] <= camera.width - 1 - margin_px)
        and np.all(uv[:, 1] <= camera.height - 1 - margin_px)
    )


def displace_markers(
    section: Section,
    rng: np.random.Generator,
    max_offset_m: float = 0.05,
    max_angle_deg: float = 3.0,
) -> Section:
    """The section with every non-control marker moved off its nominal pose.

    Each marker slides in its own plane by up to `max_offset_m` and turns by up to
    `max_angle_deg` about a random axis; it is lifted out of its face just enough that
    the tilted sheet (with its white margin) stays clear of the steel it is stuck on.
    The total offset stays within `max_offset_m`.
    """
    markers = []
    for marker in section.markers:
        if marker.control:
            markers.append(marker)
            continue
        axis = rng.normal(size=3)
        angle = np.deg2rad(rng.uniform(0.5, 1.0) * max_angle_deg)
        R_nominal_true = rotation_from_rotvec(axis / np.linalg.norm(axis) * angle)
        sheet_half_m = 0.75 * marker.size_m
        lift_m = sheet_half_m * (abs(R_nominal_true[2, 0]) + abs(R_nominal_true[2, 1])) + 0.001
        slide_max = np.sqrt(max(max_offset_m**2 - lift_m**2, 0.0))
        direction = rng.uniform(0, 2 * np.pi)
        slide = rng.uniform(0.3, 1.0) * slide_max
        t_nominal_true = np.array([slide * np.cos(direction), slide * np.sin(direction), lift_m])
        T_section_marker = marker.T_section_marker @ make_T(R_nominal_true, t_nominal_true)
        markers.append(replace(marker, T_section_marker=T_section_marker))
    return replace(section, markers=tuple(markers))


def survey_view_poses(
    section: Section,
    camera: CameraModel,
    count: int,
    distance_range_m: tuple[float, float],
    rng: np.random.Generator,
    min_markers: int = 3,
    min_control: int = 0,
    max_off_normal_deg: float = 60.0,
) -> list[FloatArray]:
    """``T_cam_section`` of `count` views of a section's markers, as an engineer takes them.

    Each view is framed on one marker, those seen least so far first: of 20 candidate
    poses at a distance drawn from `distance_range_m` (metres), on directions within
    `max_off_normal_deg` of the marker's face normal, it takes the one that shows the
    most markers clearly, control markers counting twice; it needs at least
    `min_markers` of them, `min_control` of those control markers. Clearly: facing the
    camera within 65 degrees, unoccluded (rays to its centre and corners cast against
    the section), inside the image and at least `MIN_CLEAR_PX` wide, foreshortened.

    Raises:
        ConfigError: the section does not allow that many such views.
    """
    visibility = _MarkerVisibility(section, camera)
    control = np.array([m.control for m in section.markers])
    seen = np.zeros(len(section.markers))
    poses: list[FloatArray] = []
    for _attempt in range(50 * count):
        if len(poses) == count:
            return poses
        weights = 1.0 / (1.0 + seen)
        target = int(rng.choice(len(weights), p=weights / weights.sum()))
        best: tuple[float, FloatArray, np.ndarray] | None = None
        for _candidate in range(20):
            T_cam_section = _view_of(
                section.markers[target].T_section_marker, distance_range_m, max_off_normal_deg, rng
            )
            clear = visibility.clear(T_cam_section)
            score = clear.sum() + clear[control].sum()
            good = (
                clear[target] and clear.sum() >= min_markers and clear[control].sum() >= min_control
            )
            if good and (best is None or score > best[0]):
                best = (score, T_cam_section, clear)
        if best is not None:
            poses.append(best[1])
            seen += best[2]
    raise ConfigError(
        f"found only {len(poses)} of {count} views showing {min_markers} markers clearly"
    )


def _view_of(
    T_section_marker: FloatArray,
    distance_range_m: tuple[float, float],
    max_off_normal_deg: float,
    rng: np.random.Generator,
) -> FloatArray:
    """A random T_cam_section looking at (a little beside) one marker from in front of it."""
    centre, normal = T_section_marker[:3, 3], T_section_marker[:3, 2]
    off = np.deg2rad(rng.uniform(0.0, max_off_normal_deg))
    direction = rotation_from_rotvec(_unit_perpendicular(normal, rng) * off) @ normal
    eye = centre + direction * rng.uniform(*distance_range_m)
    up = np.array([0.0, 0.0, 1.0]) if abs(direction[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    aim = centre + rng.normal(0.0, 0.08, 3) * np.linalg.norm(eye - centre)
    return look_at_T_cam_world(eye, aim, up)


class _MarkerVisibility:
    """Which of a section's markers a camera pose shows clearly (see survey_view_poses)."""

    def __init__(self, section: Section, camera: CameraModel, inner: float = 0.8) -> None:
        """Prepare; a marker's centre must lie in the middle `inner` of the image's sides."""
        from arinspect.render.scene import SectionScene

        self.camera = camera
        self.inner = inner
        self.scene = SectionScene(section)
        labels = self.scene.label_by_id()
        self.labels = np.array([labels[f"{m.family}/{m.id}"] for m in section.markers])
        self.centres = np.array([m.T_section_marker[:3, 3] for m in section.markers])
        self.normals = np.array([m.T_section_marker[:3, 2] for m in section.markers])
        self.sizes = np.array([m.size_m for m in section.markers])
        # Centre and corners of each marker, a hair inside the square so rays hit its sheet.
        self.probes = np.stack(
            [
                transform_points(
                    m.T_section_marker,
                    np.vstack([np.zeros(3), marker_corners_marker(0.98 * m.size_m)]),
                )
                for m in section.markers
            ]
        )

    def clear(self, T_cam_section: FloatArray) -> np.ndarray:
        """(M,) True for each marker seen clearly from `T_cam_section`."""
        camera = self.camera
        eye = invert_T(T_cam_section)[:3, 3]
        to_eye = eye - self.centres
        cos_view = np.einsum("ij,ij->i", to_eye, self.normals) / np.linalg.norm(to_eye, axis=1)
        uv, z = camera.project(T_cam_section, self.centres)
        # Foreshortened width: what the detector has to decode.
        size_px = camera.K[0, 0] * self.sizes * cos_view / np.maximum(z, 1e-9)
        in_image = (
            (z > 0)
            & (np.abs(uv[:, 0] / camera.width - 0.5) < 0.5 * self.inner)
            & (np.abs(uv[:, 1] / camera.height - 0.5) < 0.5 * self.inner)
        )
        rays = self.probes.reshape(-1, 3) - eye
        hits = self.scene.cast(np.tile(eye, (len(rays), 1)), rays).label
        unoccluded = np.all(hits.reshape(self.probes.shape[:2]) == self.labels[:, None], axis=1)
        facing = cos_view > np.cos(np.deg2rad(65.0))
        return facing & in_image & (size_px >= MIN_CLEAR_PX) & unoccluded

    def open_from(self, eye: FloatArray) -> np.ndarray:
        """(M,) True for each marker a camera at `eye` could frame clearly (any aim)."""
        to_eye = eye - self.centres
        distance = np.linalg.norm(to_eye, axis=1)
        cos_view = np.einsum("ij,ij->i", to_eye, self.normals) / distance
        size_px = self.camera.K[0, 0] * self.sizes * cos_view / distance
        rays = self.probes.reshape(-1, 3) - eye
        hits = self.scene.cast(np.tile(eye, (len(rays), 1)), rays).label
        unoccluded = np.all(hits.reshape(self.probes.shape[:2]) == self.labels[:, None], axis=1)
        facing = cos_view > np.cos(np.deg2rad(65.0))
        return facing & (size_px >= MIN_CLEAR_PX) & unoccluded


def _unit_perpendicular(normal: FloatArray, rng: np.random.Generator) -> FloatArray:
    """A random unit vector perpendicular to `normal`."""
    v = np.cross(normal, rng.normal(size=3))
    return v / np.linalg.norm(v)


def plate_section(
    folder: str | Path,
    size_m: tuple[float, float] = (3.0, 2.0),
    grid: tuple[int, int] = (3, 3),
    marker_size_m: float = 0.2,
    family: str = "DICT_5X5_250",
) -> Section:
    """Write a section folder: a 12 mm plate (top face at z = 0) with a grid of markers.

    Markers lie 0.5 mm above the plate, numbered 0, 1, ... row by row, spread evenly with
    a 0.3 m border; the four corner markers are control markers. No parts.

    Args:
        folder: Section folder to write (``section.json`` and ``meshes/plate.ply``).
        size_m: (length along x, width along y) of the plate, metres.
        grid: (columns along x, rows along y) of markers, at least 2 x 2.
        marker_size_m: Side of each marker's black square, metres.
        family: Marker dictionary.

    Returns:
        The section as written.
    """
    import trimesh

    folder = Path(folder)
    (folder / "meshes").mkdir(parents=True, exist_ok=True)
    length, width = size_m
    plate = trimesh.creation.box(extents=(length, width, 0.012))
    plate.apply_translation((length / 2, width / 2, -0.006))
    (folder / "meshes" / "plate.ply").write_bytes(plate.export(file_type="ply"))
    xs = np.linspace(0.3, length - 0.3, grid[0])
    ys = np.linspace(0.3, width - 0.3, grid[1])
    markers = []
    for row, y in enumerate(ys):
        for col, x in enumerate(xs):
            corner = col in (0, grid[0] - 1) and row in (0, grid[1] - 1)
            T_section_marker = make_T(np.eye(3), (x, y, 0.0005))
            markers.append(
                Marker(len(markers), family, marker_size_m, T_section_marker, corner, "PLATE")
            )
    section = Section(
        name="plate",
        folder=folder.resolve(),
        structure=(StructureElement("PLATE", "meshes/plate.ply", np.eye(4), "shell_plate"),),
        parts=(),
        markers=tuple(markers),
        description=f"Flat plate {length:g} x {width:g} m with {len(markers)} markers",
        provenance={"tool": "arinspect.calibration.synthetic.plate_section"},
    )
    save_section(section, folder)
    return section


def capture_plan_poses(
    section: Section,
    camera: CameraModel,
    distance_range_m: tuple[float, float],
    rng: np.random.Generator,
    views_per_marker: int = 10,
    min_separation_deg: float = 30.0,
    min_others: int = 2,
    max_off_normal_deg: float = 60.0,
    eye_height_m: tuple[float, float] = (0.3, 3.0),
    check: Callable[[FloatArray], np.ndarray] | None = None,
    candidates: int = 40,
) -> list[FloatArray]:
    """``T_cam_section`` of survey views taken by the capture plan of docs/calibration.md.

    Every non-control marker gets `views_per_marker` views from directions (seen from
    the marker) at least `min_separation_deg` apart, each showing it and at least
    `min_others` other markers clearly (`_MarkerVisibility`). A view framed on one
    marker counts for every other marker it shows clearly from a new direction. Of
    `candidates` random poses per view, the one that gives the most markers a view from
    a new direction wins, control markers in the view counting extra.

    Args:
        section: The section (its markers where they really are).
        camera: Intrinsics and image size of the views.
        distance_range_m: (nearest, farthest) distance from the framed marker, metres.
        rng: Random generator.
        views_per_marker: Views from distinct directions wanted per non-control marker.
        min_separation_deg: Least angle between two distinct directions, degrees.
        min_others: Fewest other markers seen clearly with the framed one.
        max_off_normal_deg: Widest angle between a view direction and the framed
            marker's face normal, degrees.
        eye_height_m: (lowest, highest) camera height above the section's z = 0 (a
            person standing in the section, on a step or a scaffold), metres.
        check: Confirms a chosen pose, (4, 4) -> (M,) bool markers really seen (e.g.
            `markers_seen_in_render` on its render); a pose that fails the plan's
            conditions there is dropped and another one looked for.
        candidates: Random poses tried per view.

    Where steel around a marker leaves only a narrow cone, its directions are allowed
    5, 10 ... degrees closer, down to half of `min_separation_deg` (logged); a marker
    that still falls short keeps the views it got (a warning).
    """
    visibility = _MarkerVisibility(section, camera, inner=1.0)
    control = np.array([m.control for m in section.markers])
    separation_deg = np.full(len(section.markers), float(min_separation_deg))
    directions: list[list[FloatArray]] = [[] for _ in section.markers]
    poses: list[FloatArray] = []

    def new_directions(eye: FloatArray, seen: np.ndarray) -> np.ndarray:
        """(M,) True where a seen marker would get a view from a new direction."""
        out = np.zeros(len(seen), bool)
        for m in np.flatnonzero(seen):
            d = eye - visibility.centres[m]
            d /= np.linalg.norm(d)
            cos_sep = np.cos(np.deg2rad(separation_deg[m]))
            out[m] = all(float(d @ e) < cos_sep for e in directions[m])
        return out

    for target in [i for i, m in enumerate(section.markers) if not m.control]:
        failures = rejected = 0
        while len(directions[target]) < views_per_marker:
            need = np.array([len(d) < views_per_marker for d in directions]) & ~control
            best: tuple[float, FloatArray] | None = None
            for _candidate in range(candidates):
                eye = _eye_in_cone(
                    section.markers[target].T_section_marker,
                    distance_range_m,
                    max_off_normal_deg,
                    rng,
                )
                if not eye_height_m[0] <= eye[2] <= eye_height_m[1]:
                    continue
                framable = visibility.open_from(eye)
                if not framable[target] or framable.sum() - 1 < min_others:
                    continue
                for T_cam_section in _framings(eye, target, framable, visibility.centres, rng):
                    clear = visibility.clear(T_cam_section)
                    if not clear[target] or clear.sum() - 1 < min_others:
                        continue
                    fresh = new_directions(eye, clear)
                    if not fresh[target]:
                        continue
                    score = (fresh & need).sum() + 0.5 * clear[control].sum()
                    score += clear[control].any()
                    if best is None or score > best[0]:
                        best = (score, T_cam_section)
            seen = None if best is None else visibility.clear(best[1])
            if best is not None and check is not None:
                seen = seen & check(best[1])
            if seen is not None and (not seen[target] or seen.sum() - 1 < min_others):
                rejected += 1  # the check disagrees (a part in front): look again
                if rejected <= 10 * views_per_marker:
                    continue
            if seen is None or not seen[target] or seen.sum() - 1 < min_others:
                failures += 1
                if failures > 20 and separation_deg[target] > min_separation_deg / 2:
                    # Steel around the marker leaves a narrow cone: closer directions.
                    separation_deg[target] -= 5.0
                    failures = 0
                    m = section.markers[target]
                    log.info(
                        "marker %s/%d: %d views %g deg apart, now looking %g deg apart",
                        m.family,
                        m.id,
                        len(directions[target]),
                        separation_deg[target] + 5.0,
                        separation_deg[target],
                    )
                elif failures > 20:
                    m = section.markers[target]
                    log.warning(
                        "marker %s/%d: only %d views %g deg apart with %d other markers",
                        m.family,
                        m.id,
                        len(directions[target]),
                        separation_deg[target],
                        min_others,
                    )
                    break
                continue
            eye = invert_T(best[1])[:3, 3]
            fresh = new_directions(eye, seen)
            for m in np.flatnonzero(fresh):
                d = eye - visibility.centres[m]
                directions[m].append(d / np.linalg.norm(d))
            poses.append(best[1])
    return poses


def _eye_in_cone(
    T_section_marker: FloatArray,
    distance_range_m: tuple[float, float],
    max_off_normal_deg: float,
    rng: np.random.Generator,
) -> FloatArray:
    """A camera centre in front of a marker, its direction uniform over a cone of the normal."""
    centre, normal = T_section_marker[:3, 3], T_section_marker[:3, 2]
    off = np.arccos(rng.uniform(np.cos(np.deg2rad(max_off_normal_deg)), 1.0))
    direction = rotation_from_rotvec(_unit_perpendicular(normal, rng) * off) @ normal
    return centre + direction * rng.uniform(*distance_range_m)


def _framings(
    eye: FloatArray,
    target: int,
    framable: np.ndarray,
    centres: FloatArray,
    rng: np.random.Generator,
) -> list[FloatArray]:
    """T_cam_section at `eye` framing the target with 1, 2, 3 ... of its nearest neighbours.

    Nearest as seen from the eye; the optical axis goes through the group's middle, and
    the camera is rolled a little, as a hand-held camera is.
    """
    rays = centres - eye
    rays /= np.linalg.norm(rays, axis=1)[:, None]
    others = [m for m in np.argsort(-(rays @ rays[target])) if framable[m] and m != target]
    poses = []
    for k in range(1, min(len(others), 5) + 1):
        aim = centres[[target, *others[:k]]].mean(axis=0)
        direction = aim - eye
        up = np.array([0.0, 0.0, 1.0])
        if abs(direction[2]) > 0.9 * np.linalg.norm(direction):
            up = np.array([1.0, 0.0, 0.0])
        roll = rotation_from_rotvec([0.0, 0.0, rng.normal(0.0, np.deg2rad(8.0))])
        poses.append(make_T(roll, np.zeros(3)) @ look_at_T_cam_world(eye, aim, up))
    return poses


def markers_seen_in_render(
    section: Section,
    scene: SectionScene,
    camera: CameraModel,
    T_cam_section: FloatArray,
    label_map: np.ndarray,
    min_fraction: float = 0.97,
    max_off_normal_deg: float = 65.0,
) -> np.ndarray:
    """(M,) True for each of the section's markers a render shows whole and clearly.

    Whole: at least `min_fraction` of the pixels its black square (and a thin white rim)
    projects onto carry its label in the render's `label_map` (nothing in front of it),
    all of it at least 4 px inside the image. Clearly: at least `MIN_CLEAR_PX` wide,
    foreshortened, and its face within `max_off_normal_deg` of the line of sight.
    """
    labels = scene.label_by_id()
    eye = invert_T(T_cam_section)[:3, 3]
    seen = np.zeros(len(section.markers), bool)
    h, w = label_map.shape
    for i, m in enumerate(section.markers):
        to_eye = eye - m.T_section_marker[:3, 3]
        distance = float(np.linalg.norm(to_eye))
        cos_view = float(to_eye @ m.T_section_marker[:3, 2]) / distance
        if cos_view < np.cos(np.deg2rad(max_off_normal_deg)):
            continue
        uv, z = camera.project(
            T_cam_section @ m.T_section_marker, marker_corners_marker(1.1 * m.size_m)
        )
        if not (
            np.all(z > 0)
            and np.all(uv >= 4)
            and np.all(uv[:, 0] < w - 5)
            and np.all(uv[:, 1] < h - 5)
        ):
            continue
        if camera.K[0, 0] * m.size_m * cos_view / float(np.min(z)) < MIN_CLEAR_PX:
            continue
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.rint(uv).astype(np.int32), 1)
        inside = mask.astype(bool)
        seen[i] = np.mean(label_map[inside] == labels[f"{m.family}/{m.id}"]) >= min_fraction
    return seen
