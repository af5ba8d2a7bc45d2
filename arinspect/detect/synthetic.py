"""Domain-randomised training and evaluation frames for the part detector.

Each section seed gives one generated block (`arinspect.cad.generator`); each frame is
rendered from a random viewpoint 0.5 - 5 m from a part or from a random point of the
block, with random paint and primer colours (parts are often primed the same colour as
the hull), light, exposure, sensor noise, motion blur, clutter (boxes, cylinders) on the
plate and between the camera and the parts (occlusion), and a random background
wherever no steel is hit. Boxes come from the label map (`arinspect.detect.boxes`).

The dataset on disk: ``images/NNNNNN.jpg`` and ``annotations.json``
(classes, image size, recipe, and per image its boxes). Frames are rendered at the
detector's input resolution with the focal length the 640x480, f = 600 px headset camera
has after letterboxing, so part sizes in pixels match what the detector sees at run time.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import trimesh

from arinspect.cad.catalog import load_catalog
from arinspect.cad.generator import generate_section
from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.detect.boxes import part_boxes
from arinspect.geometry import look_at_T_cam_world, rotation_from_rotvec
from arinspect.recording.trajectory import section_bounds
from arinspect.render import nuisances
from arinspect.render.materials import DEFAULT_PART_BGR, Palette
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray, UInt8Image

log = logging.getLogger(__name__)

ANNOTATIONS = "annotations.json"
HULL_FINISHES_BGR = (
    (0.07, 0.10, 0.30),  # red-oxide shop primer
    (0.28, 0.28, 0.27),  # grey primer
    (0.20, 0.24, 0.20),  # green-grey primer
    (0.05, 0.12, 0.22),  # rust brown
    (0.55, 0.55, 0.52),  # white topcoat
    (0.26, 0.26, 0.25),  # blasted steel
)


@dataclass(frozen=True)
class DatasetSpec:
    """Recipe of a synthetic detector dataset (stored in its annotations for provenance).

    Attributes:
        section_seeds: Seeds of the generated sections, one block each.
        frames_per_section: Frames rendered of each section.
        image_size_wh: Rendered image size (the detector's input size), pixels.
        focal_px: Focal length of the render camera, pixels.
        distance_m: Range of viewing distances to the aimed-at point, metres.
        seed: Seed of every random choice besides the sections.
    """

    section_seeds: tuple[int, ...]
    frames_per_section: int = 24
    image_size_wh: tuple[int, int] = (512, 384)
    focal_px: float = 480.0
    distance_m: tuple[float, float] = (0.5, 5.0)
    seed: int = 0


def _random_colour(base: Sequence[float], rng: np.random.Generator) -> tuple[float, ...]:
    """`base` BGR albedo with random brightness and a small per-channel tint."""
    tint = rng.uniform(0.8, 1.25, 3) * rng.uniform(0.6, 1.5)
    return tuple(float(c) for c in np.clip(np.asarray(base) * tint, 0.01, 0.9))


def random_palette(rng: np.random.Generator) -> Palette:
    """Hull, part and clutter colours drawn at random around what yards paint."""
    hull = HULL_FINISHES_BGR[rng.integers(len(HULL_FINISHES_BGR))]
    structure = {
        kind: _random_colour(
            hull if rng.random() < 0.8 else HULL_FINISHES_BGR[rng.integers(len(HULL_FINISHES_BGR))],
            rng,
        )
        for kind in ("shell_plate", "longitudinal", "web_frame", "pipe")
    }
    structure["clutter"] = tuple(float(c) for c in rng.uniform(0.03, 0.7, 3))
    parts = {}
    for class_name, base in DEFAULT_PART_BGR.items():
        draw = rng.random()
        if draw < 0.3:  # primed with the hull
            base = hull
        elif draw < 0.4:
            base = tuple(rng.uniform(0.03, 0.7, 3))
        parts[class_name] = _random_colour(base, rng)
    return Palette(structure=structure, parts=parts, mottle=float(rng.uniform(0.0, 0.25)))


def random_render_options(rng: np.random.Generator) -> RenderOptions:
    """Light, exposure and palette at random; noise and blur are added after compositing."""
    elevation = rng.uniform(np.deg2rad(20), np.deg2rad(89))
    azimuth = rng.uniform(0, 2 * np.pi)
    light = (
        np.cos(elevation) * np.cos(azimuth),
        np.cos(elevation) * np.sin(azimuth),
        np.sin(elevation),
    )
    return RenderOptions(
        light_dir_section=tuple(float(c) for c in light),
        light_intensity=float(rng.uniform(0.3, 1.2)),
        headlamp_intensity=float(rng.uniform(0.0, 0.9)),
        ambient=float(rng.uniform(0.08, 0.4)),
        shadows=True,
        exposure_ev=float(rng.uniform(-1.0, 1.0)),
        supersample=int(rng.choice([1, 2], p=[0.7, 0.3])),
        palette=random_palette(rng),
    )


def random_camera_pose(
    section: Section, bounds: FloatArray, distance_m: tuple[float, float], rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A random viewpoint on the structure side of the block.

    Returns:
        T_cam_section: (4, 4) pose, metres.
        eye: (3,) camera centre, section frame.
        target: (3,) aimed-at point, section frame.
    """
    if section.parts and rng.random() < 0.75:
        part = section.parts[rng.integers(len(section.parts))]
        target = part.T_section_part[:3, 3] + rng.normal(0.0, 0.1, 3)
    else:
        target = rng.uniform(bounds[0], bounds[1])
    distance = float(np.exp(rng.uniform(*np.log(distance_m))))
    elevation = rng.uniform(np.deg2rad(15), np.deg2rad(88))
    azimuth = rng.uniform(0, 2 * np.pi)
    direction = np.array(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ]
    )
    eye = target + distance * direction
    T = look_at_T_cam_world(eye, target, [0.0, 0.0, 1.0])
    roll = np.eye(4)
    roll[:3, :3] = rotation_from_rotvec([0.0, 0.0, rng.normal(0.0, np.deg2rad(8))])
    return roll @ T, eye, target


def random_clutter(
    eye: FloatArray, target: FloatArray, bounds: FloatArray, rng: np.random.Generator
) -> list[trimesh.Trimesh]:
    """Boxes and cylinders on the plate and between the camera and its target (section frame)."""
    meshes = []
    for _ in range(rng.integers(0, 5)):
        size = rng.uniform(0.05, 0.6, 3)
        if rng.random() < 0.5:
            mesh = trimesh.creation.box(extents=size)
        else:
            mesh = trimesh.creation.cylinder(radius=size[0] / 2, height=size[2], sections=16)
        if rng.random() < 0.5:  # in the line of sight: partial occlusion
            centre = eye + (target - eye) * rng.uniform(0.25, 0.75) + rng.normal(0.0, 0.2, 3)
        else:
            centre = rng.uniform(bounds[0], bounds[1])
            centre[2] = bounds[0, 2] + size[2] / 2
        T = np.eye(4)
        T[:3, :3] = rotation_from_rotvec(rng.normal(0.0, 0.8, 3))
        T[:3, 3] = centre
        meshes.append(mesh.apply_transform(T))
    return meshes


def random_background(shape_hw: tuple[int, int], rng: np.random.Generator) -> FloatArray:
    """(H, W, 3) display-referred background in [0, 1]: blotches, gradients and bars."""
    h, w = shape_hw
    small = rng.uniform(0.0, 1.0, (rng.integers(2, 12), rng.integers(2, 12), 3))
    image = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    saturation = rng.uniform(0.0, 0.8)
    image = image.mean(axis=2, keepdims=True) * (1.0 - saturation) + image * saturation
    image = image * rng.uniform(0.1, 0.8) + rng.uniform(0.0, 0.2)
    for _ in range(rng.integers(0, 6)):  # scaffolding, cables, light fittings
        colour = tuple(float(c) for c in rng.uniform(0.0, 1.0, 3))
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(image, p0, p1, colour, int(rng.integers(2, 25)))
    fine = rng.normal(0.0, rng.uniform(0.0, 0.08), (h // 4 + 1, w // 4 + 1, 3))
    image += cv2.resize(fine, (w, h), interpolation=cv2.INTER_LINEAR)[:h, :w]
    return np.clip(image, 0.0, 1.0)


def _finish_image(bgr: UInt8Image, label_map: np.ndarray, rng: np.random.Generator) -> UInt8Image:
    """Composite a random background where nothing was hit, then blur and sensor noise."""
    image = bgr.astype(np.float64) / 255.0
    background = label_map == 0
    if background.any():
        image[background] = random_background(label_map.shape, rng)[background]
    if rng.random() < 0.4:
        image = nuisances.motion_blur(image, rng.uniform(1.0, 8.0), rng.uniform(0.0, 180.0))
    image = nuisances.sensor_noise(image, rng.uniform(0.0, 8.0), rng)
    return nuisances.to_uint8(image)


def _viewpoint_is_clear(
    scene: SectionScene, camera: CameraModel, T_cam_section: FloatArray
) -> bool:
    """False if the camera sits inside or right against steel (a coarse 32x24 ray cast)."""
    coarse = camera.scaled(32 / camera.width)
    result = render(scene, coarse, T_cam_section, RenderOptions(shadows=False, supersample=1))
    hit = result.depth_m[result.depth_m > 0]
    return hit.size > 0.2 * result.depth_m.size and float(np.mean(hit < 0.3)) < 0.1


def render_section_frames(
    spec: DatasetSpec, section_seed: int, images_dir: Path, first_index: int
) -> list[dict]:
    """Generate one section and render its frames into `images_dir`; their annotations."""
    rng = np.random.default_rng([spec.seed, section_seed])
    w, h = spec.image_size_wh
    K = np.array([[spec.focal_px, 0, (w - 1) / 2], [0, spec.focal_px, (h - 1) / 2], [0, 0, 1]])
    camera = CameraModel(K, np.zeros(5), (w, h))
    with tempfile.TemporaryDirectory() as tmp:
        section = generate_section(section_seed, Path(tmp) / "section", load_catalog())
        bounds = section_bounds(section)
        entries = []
        for k in range(spec.frames_per_section):
            for _ in range(20):
                T_cam_section, eye, target = random_camera_pose(
                    section, bounds, spec.distance_m, rng
                )
                scene = SectionScene(section, clutter=random_clutter(eye, target, bounds, rng))
                if _viewpoint_is_clear(scene, camera, T_cam_section):
                    break
            focal_jitter = camera.K.copy()
            focal_jitter[:2, :2] *= rng.uniform(0.9, 1.1)
            options = random_render_options(rng)
            result = render(scene, replace(camera, K=focal_jitter), T_cam_section, options, rng)
            image = _finish_image(result.bgr, result.label_map, rng)
            name = f"{first_index + k:06d}.jpg"
            cv2.imwrite(str(images_dir / name), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            boxes = part_boxes(result.label_map, scene.labels)
            entries.append(
                {
                    "file": f"images/{name}",
                    "section_seed": section_seed,
                    "boxes": [
                        {
                            "class": b.class_name,
                            "part_id": b.part_id,
                            "box_xyxy_px": list(b.box_xyxy_px),
                            "visible_px": b.visible_px,
                        }
                        for b in boxes
                    ],
                }
            )
    return entries


def write_dataset(
    spec: DatasetSpec,
    out_dir: str | Path,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render the dataset described by `spec` into `out_dir` (replacing what was there).

    Args:
        spec: The recipe.
        out_dir: Dataset folder.
        workers: Processes rendering sections in parallel.
        progress: Called with (sections done, sections total).

    Returns:
        Path of the written ``annotations.json``.
    """
    out_dir = Path(out_dir)
    images_dir = out_dir / "images"
    if images_dir.exists():
        shutil.rmtree(images_dir)
    images_dir.mkdir(parents=True)
    starts = [i * spec.frames_per_section for i in range(len(spec.section_seeds))]
    entries: list[dict] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        jobs = [
            pool.submit(render_section_frames, spec, seed, images_dir, start)
            for seed, start in zip(spec.section_seeds, starts, strict=True)
        ]
        for done, job in enumerate(jobs, start=1):
            entries.extend(job.result())
            if progress:
                progress(done, len(jobs))
    catalog = load_catalog()
    document = {
        "classes": list(catalog.classes),
        "image_size_wh": list(spec.image_size_wh),
        "recipe": asdict(spec),
        "images": entries,
    }
    path = out_dir / ANNOTATIONS
    path.write_text(json.dumps(document))
    return path
