"""Annotations a simulated headset sends: bodies (anchor, viewpoint) and snapshot attachments.

Owns what a replayed frame is (`TrackedFrame`), what became of one scripted step
(`StepOutcome`) and `Annotator`, which queues annotations through `SyncClient`: each one
anchored on a part (surface point and normal in the section frame plus the part's
``T_section_part``), with the tracked camera as its BCF viewpoint and a JPEG snapshot of
the frame (the anchor or stroke drawn in) as an attachment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from arinspect.annotate.gesture import SurfaceHit
from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.client.sync import SyncClient
from arinspect.geometry import invert_T
from arinspect.typed import FloatArray, UInt8Image

SNAPSHOT_JPEG_QUALITY = 85
MARK_BGR = (0, 0, 255)


@dataclass(frozen=True)
class TrackedFrame:
    """One replayed frame as the headset holds it.

    Attributes:
        index: 0-based position in the recording (the script's ``frame``).
        im_id: Image id of the recording.
        image: (H, W, 3) BGR frame.
        pose_status: Tracker status (``tracked``, ``reinitialised``, ``lost``).
        T_cam_section: (4, 4) tracked pose, metres; None when the frame has no usable pose
            (none at all, or ``lost``).
    """

    index: int
    im_id: int
    image: UInt8Image
    pose_status: str
    T_cam_section: FloatArray | None


@dataclass(frozen=True)
class StepOutcome:
    """What one scripted step did.

    Attributes:
        frame: The step's frame.
        action: ``tap``, ``point``, ``stroke`` or ``voice``.
        result: e.g. ``annotated``, ``selected``, ``no_hit``, ``not_a_part``, ``no_pose``,
            ``rejected``, ``pending``, ``sent``, ``updated``, ``cancelled`` (docs/replay.md).
        detail: Human-readable detail (what was hit, what was heard, ...).
        part_id: The part concerned, if any.
        annotation_ids: Annotations created or changed by the step.
        voice: For voice steps: command (or None), transcript, confidence (nats/frame).
    """

    frame: int
    action: str
    result: str
    detail: str = ""
    part_id: str | None = None
    annotation_ids: tuple[str, ...] = ()
    voice: dict[str, Any] | None = None


def anchor_body(hit: SurfaceHit, section: Section) -> dict[str, Any]:
    """The annotation anchor of a hit on a part: point, unit normal, ``T_section_part``."""
    normal = np.asarray(hit.normal_section, dtype=np.float64)
    return {
        "point_section": [float(v) for v in hit.point_section],
        "normal_section": [float(v) for v in normal / np.linalg.norm(normal)],
        "T_section_part": section.part(hit.element_id).T_section_part.tolist(),
    }


def viewpoint_body(T_cam_section: FloatArray, camera: CameraModel) -> dict[str, Any]:
    """The BCF viewpoint of a frame: ``T_section_cam`` (metres) and the intrinsics (pixels)."""
    return {
        "T_section_cam": invert_T(np.asarray(T_cam_section, dtype=np.float64)).tolist(),
        "intrinsics": {
            "K": camera.K.tolist(),
            "image_size_wh": list(camera.image_size_wh),
            "distortion": camera.dist.tolist(),
        },
    }


def snapshot_jpeg(image: UInt8Image, uv_px: FloatArray) -> bytes:
    """JPEG of the frame with a ring at one pixel, or the polyline through (N, 2) pixels."""
    marked = image.copy()
    points = np.round(np.asarray(uv_px, dtype=np.float64).reshape(-1, 2)).astype(np.int32)
    if len(points) == 1:
        cv2.circle(marked, tuple(int(c) for c in points[0]), 12, MARK_BGR, 2, cv2.LINE_AA)
    else:
        cv2.polylines(marked, [points.reshape(-1, 1, 2)], False, MARK_BGR, 3, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", marked, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_JPEG_QUALITY])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return encoded.tobytes()


@dataclass
class Annotator:
    """Queues a headset's annotations of one section through a `SyncClient`.

    Args:
        client: The connection (writes go through its offline queue).
        section_id: The section's id on the server.
        section: The section's CAD (for ``T_section_part``).
        camera: Intrinsics of the frames.

    Attributes:
        created: ``(annotation id, part id, kind)`` of every annotation created, in order.
        updates: Annotation updates sent (op ids).
        attachments: Attachments sent (op ids).
    """

    client: SyncClient
    section_id: str
    section: Section
    camera: CameraModel
    created: list[tuple[str, str, str]] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    _versions: dict[str, int] = field(default_factory=dict)

    def create(
        self,
        frame: TrackedFrame,
        hit: SurfaceHit,
        kind: str,
        title: str,
        *,
        description: str = "",
        labels: tuple[str, ...] = (),
        mark_px: FloatArray | None = None,
        voice_wav: bytes | None = None,
    ) -> str:
        """Create an annotation on the hit part with a snapshot (and voice note); its id.

        Args:
            frame: The frame it is made in (must have a pose).
            hit: A hit on a part.
            kind: Annotation kind (``note``, ``defect``, ``ink``, ``measurement``, ``voice``).
            title: Title.
            description: Free text.
            labels: BCF labels.
            mark_px: (N, 2) pixels drawn on the snapshot (default: the hit's projection).
            voice_wav: WAV bytes attached as the voice note.
        """
        if frame.T_cam_section is None:
            raise ValueError(f"frame {frame.index} has no pose to annotate from")
        annotation_id = self.client.create_annotation(
            self.section_id,
            part_id=hit.element_id,
            kind=kind,
            title=title,
            anchor=anchor_body(hit, self.section),
            description=description,
            labels=list(labels),
            viewpoint=viewpoint_body(frame.T_cam_section, self.camera),
        )
        self.created.append((annotation_id, hit.element_id, kind))
        self._versions[annotation_id] = 1
        if mark_px is None:
            mark_px, _ = self.camera.project(frame.T_cam_section, hit.point_section[None])
        snapshot = snapshot_jpeg(frame.image, mark_px)
        name = f"frame_{frame.im_id:06d}.jpg"
        self._attach(annotation_id, "snapshot", snapshot, name, "image/jpeg")
        if voice_wav is not None:
            self._attach(annotation_id, "voice", voice_wav, "note.wav", "audio/wav")
        return annotation_id

    def update(self, annotation_id: str, **fields: Any) -> None:
        """Change fields of an annotation this headset created (on top of its last version)."""
        base = self._versions[annotation_id]
        op_id = self.client.update_annotation(
            self.section_id, annotation_id, base_version=base, **fields
        )
        self._versions[annotation_id] = base + 1
        self.updates.append(op_id)

    def _attach(
        self, annotation_id: str, kind: str, data: bytes, filename: str, content_type: str
    ) -> None:
        op_id = self.client.add_attachment(
            self.section_id, annotation_id, kind, data, filename, content_type
        )
        self.attachments.append(op_id)
