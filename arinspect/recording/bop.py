"""Read and write recordings in the BOP scene layout.

A recording folder holds, as BOP defines them:

- ``rgb/NNNNNN.png`` (BOP data sets may also use ``.jpg`` or ``gray/``);
- ``depth/NNNNNN.png``: uint16, depth_mm = value * ``depth_scale``;
- ``scene_camera.json``: per frame ``cam_K`` (3x3 row-major) and ``depth_scale``;
- ``scene_gt.json``: per frame a list of objects with ``cam_R_m2c`` (3x3 row-major) and
  ``cam_t_m2c`` (mm); the section is ``obj_id`` 0, so this is T_cam_section.

and beside them, for what BOP has no field for:

- ``camera.yaml``: the full intrinsics with distortion (OpenCV FileStorage);
- ``labels/NNNNNN.png``: uint16 label map of rendered recordings (index into
  ``recording.json``'s ``labels``);
- ``recording.json``: the section folder (relative path), part truth, label table,
  timestamps, headset poses, provenance (schema ``arinspect/schemas/recording.schema.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from arinspect.atomic_write import write_atomic
from arinspect.camera import CameraModel, load_camera, save_camera
from arinspect.errors import ConfigError, DataFormatError
from arinspect.geometry import is_rigid, make_T
from arinspect.jsonfile import read_json
from arinspect.schema_check import check_document
from arinspect.typed import FloatArray, UInt8Image

SECTION_OBJ_ID = 0
DEFAULT_DEPTH_SCALE = 0.2
"""Millimetres per depth unit when writing: 0.2 mm resolution, up to 13.1 m."""
RGB_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif")


def _frame_name(im_id: int) -> str:
    return f"{im_id:06d}.png"


def _wh(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def _write_json(path: Path, doc: Any) -> None:
    write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())


def _write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise DataFormatError(path, "could not be written")


class RecordingWriter:
    """Writes frames of one recording; call `finish` to write the JSON files."""

    def __init__(
        self, folder: str | Path, camera: CameraModel, depth_scale: float = DEFAULT_DEPTH_SCALE
    ) -> None:
        """Start a recording in `folder` (created) for frames of `camera`."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.camera = camera
        self.depth_scale = depth_scale
        self._scene_camera: dict[str, Any] = {}
        self._scene_gt: dict[str, Any] = {}

    def add_frame(
        self,
        im_id: int,
        bgr: UInt8Image,
        depth_m: np.ndarray | None = None,
        label_map: np.ndarray | None = None,
        T_cam_section: FloatArray | None = None,
    ) -> None:
        """Write one frame: colour, optional depth (m), label map and ground-truth pose."""
        if bgr.shape[:2] != (self.camera.height, self.camera.width):
            raise DataFormatError(
                self.folder / "rgb" / _frame_name(im_id),
                f"image is {_wh(bgr.shape)}, camera is {self.camera.width}x{self.camera.height}",
            )
        _write_png(self.folder / "rgb" / _frame_name(im_id), bgr)
        if depth_m is not None:
            units = np.rint(np.asarray(depth_m, np.float64) * 1000.0 / self.depth_scale)
            _write_png(
                self.folder / "depth" / _frame_name(im_id),
                np.clip(units, 0, 65535).astype(np.uint16),
            )
        if label_map is not None:
            _write_png(self.folder / "labels" / _frame_name(im_id), label_map.astype(np.uint16))
        self._scene_camera[str(im_id)] = {
            "cam_K": self.camera.K.reshape(-1).tolist(),
            "depth_scale": self.depth_scale,
        }
        if T_cam_section is not None:
            self._scene_gt[str(im_id)] = [
                {
                    "obj_id": SECTION_OBJ_ID,
                    "cam_R_m2c": T_cam_section[:3, :3].reshape(-1).tolist(),
                    "cam_t_m2c": (T_cam_section[:3, 3] * 1000.0).tolist(),
                }
            ]

    def finish(self, meta: dict[str, Any]) -> Path:
        """Write scene_camera.json, scene_gt.json (if any pose), camera.yaml and recording.json."""
        _write_json(self.folder / "scene_camera.json", self._scene_camera)
        if self._scene_gt:
            _write_json(self.folder / "scene_gt.json", self._scene_gt)
        save_camera(self.camera, self.folder / "camera.yaml")
        _write_json(self.folder / "recording.json", {"schema_version": 1, **meta})
        return self.folder


@dataclass(frozen=True)
class GroundTruthObject:
    """One ``scene_gt.json`` entry: pose of object `obj_id` in the camera, metres."""

    obj_id: int
    T_cam_obj: FloatArray


class Recording:
    """A recording folder opened for reading (ours, or any BOP scene)."""

    def __init__(self, folder: str | Path) -> None:
        """Open `folder`; fails early on missing or malformed ``scene_camera.json``."""
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataFormatError(self.folder, "recording folder not found")
        self._scene_camera = read_json(self.folder / "scene_camera.json")
        if not isinstance(self._scene_camera, dict) or not self._scene_camera:
            raise DataFormatError(
                self.folder / "scene_camera.json", "must be a non-empty object keyed by image id"
            )
        self.rgb_dir = next(
            (self.folder / d for d in ("rgb", "gray") if (self.folder / d).is_dir()),
            self.folder / "rgb",
        )
        self._rgb_files = {
            int(p.stem): p
            for p in sorted(self.rgb_dir.glob("*"))
            if p.suffix.lower() in RGB_SUFFIXES and p.stem.isdigit()
        }
        if not self._rgb_files:
            raise DataFormatError(self.rgb_dir, "no frames (expected NNNNNN.png)")

    @property
    def frame_ids(self) -> list[int]:
        """Image ids of all frames, ascending."""
        return sorted(self._rgb_files)

    @cached_property
    def meta(self) -> dict[str, Any]:
        """``recording.json``, checked against its schema (empty for a plain BOP scene)."""
        path = self.folder / "recording.json"
        if not path.exists():
            return {}
        doc = read_json(path)
        check_document(doc, "recording", path)
        return doc

    @cached_property
    def camera(self) -> CameraModel:
        """Intrinsics: ``camera.yaml`` if present, else the first ``cam_K`` and the image size."""
        if (self.folder / "camera.yaml").is_file():
            return load_camera(self.folder / "camera.yaml")
        first = str(self.frame_ids[0])
        entry = self._scene_camera.get(first, next(iter(self._scene_camera.values())))
        try:
            K = np.asarray(entry["cam_K"], dtype=np.float64).reshape(3, 3)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFormatError(
                self.folder / "scene_camera.json", "missing or malformed cam_K", f"{first}.cam_K"
            ) from exc
        image = self.bgr(self.frame_ids[0], check_size=False)
        return CameraModel(K, np.zeros(0), (image.shape[1], image.shape[0]))

    @property
    def section_folder(self) -> Path | None:
        """The section this recording was made of, if ``recording.json`` names one."""
        section = self.meta.get("section")
        return (self.folder / section).resolve() if isinstance(section, str) else None

    def inputs(
        self, section_dir: str | Path | None = None, camera_path: str | Path | None = None
    ) -> tuple[Path, CameraModel]:
        """The section folder and the camera to inspect this recording with.

        Args:
            section_dir: Section folder; default: the one ``recording.json`` names.
            camera_path: Camera YAML; default: the recording's own intrinsics.

        Raises:
            ConfigError: no section given and the recording names none.
        """
        folder = section_dir or self.section_folder
        if folder is None:
            raise ConfigError(
                "the recording names no section (no recording.json) and none was given "
                "(--section, or the manifest's section)"
            )
        camera = load_camera(camera_path) if camera_path else self.camera
        return Path(folder), camera

    def bgr(self, im_id: int, check_size: bool = True) -> UInt8Image:
        """(H, W, 3) uint8 BGR image of a frame (grey images are expanded to 3 channels)."""
        path = self._rgb_files.get(im_id)
        if path is None:
            raise DataFormatError(self.rgb_dir / _frame_name(im_id), "no such frame")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DataFormatError(path, "cannot be decoded as an image (corrupt or not an image)")
        if check_size:
            self._check_size(path, image)
        return image

    def depth_m(self, im_id: int) -> np.ndarray | None:
        """(H, W) float32 depth in metres (0 = no measurement), or None without depth."""
        raw = self._single_channel("depth", im_id, "depth image")
        if raw is None:
            return None
        scale = float(self._scene_camera.get(str(im_id), {}).get("depth_scale", 1.0))
        return (raw.astype(np.float32) * np.float32(scale / 1000.0)).astype(np.float32)

    def label_map(self, im_id: int) -> np.ndarray | None:
        """(H, W) uint16 label map of a rendered frame, or None."""
        return self._single_channel("labels", im_id, "label map")

    def _single_channel(self, folder: str, im_id: int, what: str) -> np.ndarray | None:
        """A 16-bit single-channel PNG of a frame, size-checked; None if the file is absent."""
        path = self.folder / folder / _frame_name(im_id)
        if not path.is_file():
            return None
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None or image.ndim != 2:
            raise DataFormatError(path, f"cannot be decoded as a single-channel {what}")
        self._check_size(path, image)
        return image

    @cached_property
    def _scene_gt(self) -> dict[str, Any]:
        path = self.folder / "scene_gt.json"
        return read_json(path) if path.is_file() else {}

    def gt_objects(self, im_id: int) -> list[GroundTruthObject]:
        """Every ground-truth object pose of a frame (empty without ground truth)."""
        objects = []
        for k, entry in enumerate(self._scene_gt.get(str(im_id), [])):
            try:
                R = np.asarray(entry["cam_R_m2c"], dtype=np.float64).reshape(3, 3)
                t_m = np.asarray(entry["cam_t_m2c"], dtype=np.float64).reshape(3) / 1000.0
                obj_id = int(entry["obj_id"])
            except (KeyError, TypeError, ValueError) as exc:
                raise DataFormatError(
                    self.folder / "scene_gt.json", "malformed entry", f"{im_id}[{k}]"
                ) from exc
            objects.append(GroundTruthObject(obj_id, make_T(R, t_m)))
        return objects

    def T_cam_section(self, im_id: int) -> FloatArray | None:
        """Ground-truth pose of the section (obj_id 0) in frame `im_id`, metres, or None."""
        for obj in self.gt_objects(im_id):
            if obj.obj_id == SECTION_OBJ_ID:
                if not is_rigid(obj.T_cam_obj, 1e-4):
                    raise DataFormatError(
                        self.folder / "scene_gt.json", "cam_R_m2c is not a rotation", f"{im_id}"
                    )
                return obj.T_cam_obj
        return None

    def _check_size(self, path: Path, image: np.ndarray) -> None:
        expected = (self.camera.height, self.camera.width)
        if image.shape[:2] != expected:
            raise DataFormatError(
                path,
                f"frame is {_wh(image.shape)} px, the camera is {expected[1]}x{expected[0]}",
            )


def passes_inputs(
    recordings: list[Recording],
    section_dir: str | Path | None = None,
    camera_path: str | Path | None = None,
) -> tuple[Path, CameraModel]:
    """The section and camera to inspect several passes over one section with, together.

    Each pass resolves them as `Recording.inputs` does; they must agree: one section
    (the same folder), one camera (the same intrinsics and image size), since the passes'
    looks at each part are fused in the section frame with one camera model.

    Raises:
        ConfigError: no recordings, or a pass of another section or camera (named).
    """
    if not recordings:
        raise ConfigError("no recording to inspect")
    section, camera = recordings[0].inputs(section_dir, camera_path)
    for recording in recordings[1:]:
        other_section, other_camera = recording.inputs(section_dir, camera_path)
        if other_section.resolve() != section.resolve():
            raise ConfigError(
                f"{recording.folder}: a recording of section {other_section}, not of {section}"
                f" like {recordings[0].folder}; passes inspected together must be of one section"
            )
        same_camera = (
            other_camera.image_size_wh == camera.image_size_wh
            and np.allclose(other_camera.K, camera.K)
            and other_camera.dist.shape == camera.dist.shape
            and np.allclose(other_camera.dist, camera.dist)
        )
        if not same_camera:
            raise ConfigError(
                f"{recording.folder}: its camera differs from that of {recordings[0].folder};"
                " passes inspected together must share one camera (or give --camera)"
            )
    return section, camera
