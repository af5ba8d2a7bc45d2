"""Render a section from a camera pose: BGR colour image, depth map and label map.

Everything is ray cast on the CPU (Open3D `RaycastingScene`): no OpenGL, no display.
Rays go through the distorted pixel centres of the camera, so lens distortion is exact.
Shading: ambient + a directional work light (with cast shadows) + a headlamp at the
camera, Lambert + a little Blinn-Phong. Marker sheets are textured with their real code,
sampled bilinearly; pixels on marker sheets and on label edges are supersampled so that
edges are anti-aliased as a real lens would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from arinspect.camera import CameraModel
from arinspect.geometry import check_shape, invert_T, rotate_vectors
from arinspect.markers import marker_image
from arinspect.render import nuisances
from arinspect.render.materials import MARKER_BLACK, MARKER_WHITE, Palette, mottle_factor
from arinspect.render.scene import Hits, SectionScene
from arinspect.typed import FloatArray, UInt8Image

LIGHT_DIR_SECTION = (0.35, -0.45, 1.0)
"""Default direction towards the work light, section frame (from above, a little aside)."""


@dataclass(frozen=True)
class RenderOptions:
    """Lighting and camera nuisances of a render.

    Attributes:
        light_dir_section: Direction towards the directional light, section frame.
        light_intensity: Radiance of the directional light on a surface facing it.
        headlamp_intensity: Radiance of the camera-mounted lamp at 2 m.
        ambient: Uniform ambient light.
        shadows: Cast shadows of the directional light.
        exposure_ev: Exposure change in stops (+1 = twice as bright).
        noise_sigma: Sensor read noise in grey levels (0-255 scale); 0 = none.
        motion_blur_px: Length of linear motion blur in pixels; 0 = none.
        motion_blur_angle_deg: Direction of the blur in the image, degrees from +u.
        supersample: Sub-rays per side on marker and edge pixels (1 = no anti-aliasing).
        depth_noise_m: Depth noise (standard deviation) at 1 m, metres, growing with z^2;
            0 = exact depth.
        depth_grazing_limit_deg: Surfaces seen more obliquely than this have no depth;
            90 = depth everywhere.
        palette: Surface colours.
    """

    light_dir_section: tuple[float, float, float] = LIGHT_DIR_SECTION
    light_intensity: float = 0.9
    headlamp_intensity: float = 0.55
    ambient: float = 0.25
    shadows: bool = True
    exposure_ev: float = 0.0
    noise_sigma: float = 0.0
    motion_blur_px: float = 0.0
    motion_blur_angle_deg: float = 0.0
    supersample: int = 3
    depth_noise_m: float = 0.0
    depth_grazing_limit_deg: float = 90.0
    palette: Palette = field(default_factory=Palette)


@dataclass(frozen=True)
class RenderResult:
    """One rendered frame.

    Attributes:
        bgr: (H, W, 3) uint8 colour image.
        depth_m: (H, W) float32 z-depth in metres, 0 where nothing was hit.
        label_map: (H, W) uint16 label index per pixel (see `SectionScene.labels`), 0 = nothing.
    """

    bgr: UInt8Image
    depth_m: np.ndarray
    label_map: np.ndarray


def render(
    scene: SectionScene,
    camera: CameraModel,
    T_cam_section: FloatArray,
    options: RenderOptions = RenderOptions(),
    rng: np.random.Generator | None = None,
    stage_times_s: dict[str, float] | None = None,
) -> RenderResult:
    """Render the scene seen by `camera` at `T_cam_section` ((4, 4), metres).

    Args:
        scene: The section's ray-casting scene.
        camera: Intrinsics (with distortion) and image size.
        T_cam_section: Pose of the section in the camera frame.
        options: Lighting and nuisances.
        rng: Random generator for sensor noise (seeded by the caller for reproducibility).
        stage_times_s: If given, receives the wall time of each stage in seconds
            (``cast``, ``shade``, ``supersample``, ``nuisances``), for benchmarks.
    """
    check_shape(np.asarray(T_cam_section), (4, 4), "T_cam_section")
    rng = rng or np.random.default_rng(0)
    clock = _StageClock(stage_times_s)
    T_section_cam = invert_T(np.asarray(T_cam_section, dtype=np.float64))
    h, w = camera.height, camera.width
    rays_cam = camera.pixel_rays_cam.reshape(-1, 3)
    eye = T_section_cam[:3, 3]
    directions = rotate_vectors(T_section_cam, rays_cam)
    hits = scene.cast(np.broadcast_to(eye, directions.shape).copy(), directions)
    clock.lap("cast")
    radiance = _shade(scene, hits, eye, options)
    clock.lap("shade")
    label_map = hits.label.reshape(h, w)
    refine = _pixels_to_supersample(label_map, scene)
    if options.supersample > 1 and refine.any():
        radiance[refine.reshape(-1)] = _supersampled(
            scene, camera, T_section_cam, np.flatnonzero(refine), options
        )
    clock.lap("supersample")
    image = nuisances.tone_map(radiance.reshape(h, w, 3), options.exposure_ev)
    image = nuisances.motion_blur(image, options.motion_blur_px, options.motion_blur_angle_deg)
    image = nuisances.sensor_noise(image, options.noise_sigma, rng)
    depth = np.where(np.isfinite(hits.t), hits.t, 0.0).reshape(h, w).astype(np.float32)
    if options.depth_noise_m > 0.0 or options.depth_grazing_limit_deg < 90.0:
        cos_incidence = np.abs(_dot_rows(hits.normal, directions)) / np.sqrt(
            _dot_rows(directions, directions)
        )
        depth = nuisances.depth_sensor(
            depth,
            cos_incidence.reshape(h, w),
            options.depth_noise_m,
            options.depth_grazing_limit_deg,
            rng,
        )
    result = RenderResult(nuisances.to_uint8(image), depth, label_map.astype(np.uint16))
    clock.lap("nuisances")
    return result


class _StageClock:
    """Accumulates wall time per named stage into a caller's dict (no-op without one)."""

    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink = sink
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.sink is None:
            return
        now = time.perf_counter()
        self.sink[stage] = self.sink.get(stage, 0.0) + now - self.last
        self.last = now


def _shade(scene: SectionScene, hits: Hits, eye: FloatArray, options: RenderOptions) -> FloatArray:
    """(N, 3) linear radiance of each ray (BGR); background is a dim grey."""
    n_rays = len(hits.t)
    radiance = np.full((n_rays, 3), 0.04)
    hit = hits.label > 0
    if not hit.any():
        return radiance
    albedo = _albedo(scene, hits, hit, options.palette)
    normal, point = hits.normal[hit], hits.point[hit]
    light = np.asarray(options.light_dir_section, dtype=np.float64)
    light /= np.linalg.norm(light)
    lambert = np.clip(normal @ light, 0.0, None)
    if options.shadows:
        lit = lambert > 0
        lambert[lit] *= ~scene.occluded(point[lit], light)
    to_eye = eye - point
    distance = np.sqrt(_dot_rows(to_eye, to_eye))
    to_eye /= distance[:, None]
    head = np.clip(_dot_rows(normal, to_eye), 0.0, None) * (4.0 / (distance**2 + 1e-6)) ** 0.5
    half = light + to_eye
    half /= np.sqrt(_dot_rows(half, half))[:, None]
    specular = 0.12 * np.clip(_dot_rows(normal, half), 0.0, None) ** 24 * (lambert > 0)
    diffuse = (
        options.ambient + options.light_intensity * lambert + options.headlamp_intensity * head
    )
    radiance[hit] = albedo * diffuse[:, None] + (options.light_intensity * specular)[:, None]
    return radiance


def _dot_rows(a: FloatArray, b: FloatArray) -> FloatArray:
    """(N,) row-wise dot products of two (N, 3) arrays (much faster than sum(a * b, axis=1))."""
    return np.einsum("ij,ij->i", a, b)


def _albedo(scene: SectionScene, hits: Hits, hit: np.ndarray, palette: Palette) -> FloatArray:
    """(M, 3) albedo of the hit rays: element colour with mottle, or marker texture."""
    table = np.array([palette.albedo(lab.kind, lab.class_name) for lab in scene.labels])
    labels = hits.label[hit]
    albedo = table[labels] * mottle_factor(hits.point[hit], palette.mottle)[:, None]
    is_marker = scene.is_marker_label[labels]
    if is_marker.any():
        marker_labels, xy = scene.marker_texture_coords(labels, hits.point[hit])
        albedo[is_marker] = _marker_reflectance(scene, marker_labels, xy)[:, None]
    return albedo


def _marker_reflectance(
    scene: SectionScene, marker_labels: np.ndarray, xy: FloatArray
) -> FloatArray:
    """(M,) reflectance of marker sheets at marker-frame points (m): code inside, white margin."""
    value = np.full(len(xy), MARKER_WHITE)
    for lab in np.unique(marker_labels):
        marker = scene.markers[int(lab)]
        sel = marker_labels == lab
        code = marker_image(marker.family, marker.id).astype(np.float64) / 255.0
        side_px = code.shape[0]
        # Marker x right, y up; image row 0 is the top edge (y = +size/2).
        u = (xy[sel, 0] / marker.size_m + 0.5) * side_px - 0.5
        v = (0.5 - xy[sel, 1] / marker.size_m) * side_px - 0.5
        inside = (u > -0.5) & (u < side_px - 0.5) & (v > -0.5) & (v < side_px - 0.5)
        sampled = _bilinear(code, u[inside], v[inside])
        sel_value = np.full(int(sel.sum()), MARKER_WHITE)
        sel_value[inside] = MARKER_BLACK + (MARKER_WHITE - MARKER_BLACK) * sampled
        value[sel] = sel_value
    return value


def _bilinear(image: FloatArray, u: FloatArray, v: FloatArray) -> FloatArray:
    """Sample a (H, W) image at float pixel positions (pixel-centre convention), edge-clamped."""
    h, w = image.shape
    u = np.clip(u, 0.0, w - 1.0)
    v = np.clip(v, 0.0, h - 1.0)
    u0 = np.minimum(np.floor(u).astype(np.int64), w - 2)
    v0 = np.minimum(np.floor(v).astype(np.int64), h - 2)
    fu, fv = u - u0, v - v0
    top = image[v0, u0] * (1 - fu) + image[v0, u0 + 1] * fu
    bottom = image[v0 + 1, u0] * (1 - fu) + image[v0 + 1, u0 + 1] * fu
    return top * (1 - fv) + bottom * fv


def _pixels_to_supersample(label_map: np.ndarray, scene: SectionScene) -> np.ndarray:
    """(H, W) mask of pixels on marker sheets or where the label changes to a neighbour."""
    edge = np.zeros(label_map.shape, bool)
    dx = label_map[:, 1:] != label_map[:, :-1]
    dy = label_map[1:, :] != label_map[:-1, :]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    return edge | scene.is_marker_label[label_map]


def _supersampled(
    scene: SectionScene,
    camera: CameraModel,
    T_section_cam: FloatArray,
    pixels: np.ndarray,
    options: RenderOptions,
) -> FloatArray:
    """(P, 3) radiance of flat pixel indices averaged over an S x S grid of sub-rays."""
    s = options.supersample
    offsets = (np.arange(s) + 0.5) / s - 0.5
    du, dv = np.meshgrid(offsets, offsets)
    u = (pixels % camera.width)[:, None] + du.reshape(1, -1)
    v = (pixels // camera.width)[:, None] + dv.reshape(1, -1)
    xy = camera.normalized_from_pixels(np.column_stack([u.reshape(-1), v.reshape(-1)]))
    rays_cam = np.column_stack([xy, np.ones(len(xy))])
    directions = rotate_vectors(T_section_cam, rays_cam)
    eye = T_section_cam[:3, 3]
    hits = scene.cast(np.broadcast_to(eye, directions.shape).copy(), directions)
    radiance = _shade(scene, hits, eye, options)
    return radiance.reshape(len(pixels), s * s, 3).mean(axis=1)
