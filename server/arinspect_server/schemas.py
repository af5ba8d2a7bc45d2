"""Pydantic models of the REST API (requests and answers); they make the OpenAPI page.

Annotations are BCF 3.0 topics: ``id`` is the topic Guid, ``kind`` the TopicType,
``status`` the TopicStatus, ``assignee`` AssignedTo; the viewpoint carries the camera as
``T_section_cam`` (OpenCV camera axes, metres) with intrinsics in pixels. Every write
carries ``op_id``, a client-generated id that makes a retry idempotent.
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arinspect.geometry import invert_T, is_rigid, rotate_vectors, transform_points

Kind = Literal["note", "defect", "ink", "measurement", "voice"]
Status = Literal["open", "in_progress", "resolved", "verified", "rejected", "closed"]
Priority = Literal["low", "normal", "high", "critical"]
Role = Literal["worker", "qa", "engineer"]
AttachmentKind = Literal["snapshot", "voice"]

OpId = Annotated[
    str,
    Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="client-generated id of this change (a UUID is best); a retry with "
        "the same op_id returns the first answer and changes nothing",
    ),
]
SectionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Label = Annotated[str, Field(min_length=1, max_length=64)]
UserName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
Vec3 = Annotated[list[float], Field(min_length=3, max_length=3)]


def _finite(values: list[float], name: str) -> list[float]:
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must hold finite numbers")
    return values


def _unit(values: list[float], name: str) -> list[float]:
    norm = math.sqrt(sum(v * v for v in _finite(values, name)))
    if norm < 1e-9:
        raise ValueError(f"{name} must not be the zero vector")
    return [v / norm for v in values]


class StrictModel(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Anchor(StrictModel):
    """Where an annotation sits: a surface point and outward normal of one part.

    Give the point and normal in the section frame (metres) and either the same in the
    part's own frame or ``T_section_part`` (the part's pose, 4x4), from which the server
    computes them; the part-frame copy lets the annotation follow a moved part.
    """

    point_section: Vec3 = Field(description="surface point, section frame, metres")
    normal_section: Vec3 = Field(description="outward unit normal, section frame")
    point_part: Vec3 | None = Field(default=None, description="same point, part frame, metres")
    normal_part: Vec3 | None = Field(default=None, description="same normal, part frame")
    T_section_part: list[list[float]] | None = Field(
        default=None, description="pose of the part in the section (4x4, metres)"
    )

    @field_validator("point_section", "point_part")
    @classmethod
    def _points_finite(cls, value: list[float] | None, info: Any) -> list[float] | None:
        return None if value is None else _finite(value, info.field_name)

    @field_validator("normal_section", "normal_part")
    @classmethod
    def _normals_unit(cls, value: list[float] | None, info: Any) -> list[float] | None:
        return None if value is None else _unit(value, info.field_name)

    @model_validator(mode="after")
    def _part_frame(self) -> Anchor:
        if self.T_section_part is not None:
            T_section_part = _rigid(self.T_section_part, "T_section_part")
            T_part_section = invert_T(T_section_part)
            point = np.asarray([self.point_section])
            normal = np.asarray([self.normal_section])
            self.point_part = transform_points(T_part_section, point)[0].tolist()
            self.normal_part = rotate_vectors(T_part_section, normal)[0].tolist()
            self.T_section_part = None
        if self.point_part is None or self.normal_part is None:
            raise ValueError("give point_part and normal_part, or T_section_part")
        return self

    def stored(self) -> dict[str, list[float]]:
        """The four vectors as stored and sent."""
        return self.model_dump(exclude={"T_section_part"})


def _rigid(matrix: list[list[float]], name: str) -> np.ndarray:
    array = np.asarray(matrix, dtype=float)
    if array.shape != (4, 4) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a 4x4 matrix of finite numbers")
    if not is_rigid(array, 1e-4):
        raise ValueError(f"{name} is not a rigid transform (rotation + translation)")
    return array


class Intrinsics(StrictModel):
    """Pinhole intrinsics of the viewpoint's camera (OpenCV conventions)."""

    K: list[list[float]] = Field(description="3x3 camera matrix, pixels")
    image_size_wh: tuple[int, int] = Field(description="image width and height, pixels")
    distortion: list[float] = Field(default_factory=list, max_length=14)

    @field_validator("K")
    @classmethod
    def _k(cls, value: list[list[float]]) -> list[list[float]]:
        array = np.asarray(value, dtype=float)
        if array.shape != (3, 3) or not np.all(np.isfinite(array)):
            raise ValueError("K must be a 3x3 matrix of finite numbers")
        if array[0, 0] <= 0 or array[1, 1] <= 0:
            raise ValueError("K's focal lengths fx, fy must be positive")
        return value

    @field_validator("image_size_wh")
    @classmethod
    def _size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) <= 0:
            raise ValueError("image_size_wh must be positive")
        return value


class Viewpoint(StrictModel):
    """A BCF viewpoint: the camera that saw the annotation, and an optional snapshot."""

    guid: str = Field(default_factory=lambda: str(uuid.uuid4()))
    T_section_cam: list[list[float]] = Field(
        description="camera pose in the section: maps camera-frame points (OpenCV axes: "
        "x right, y down, z forward) into the section frame, metres"
    )
    intrinsics: Intrinsics
    snapshot_attachment_id: str | None = None

    @field_validator("T_section_cam")
    @classmethod
    def _pose(cls, value: list[list[float]]) -> list[list[float]]:
        _rigid(value, "T_section_cam")
        return value


class SectionCreate(StrictModel):
    """A new section (engineer)."""

    id: SectionId
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)


class AnnotationCreate(StrictModel):
    """A new annotation; it starts ``open``."""

    op_id: OpId
    id: uuid.UUID | None = Field(default=None, description="topic Guid; the client may choose")
    part_id: str = Field(min_length=1, max_length=128)
    kind: Kind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    priority: Priority = "normal"
    assignee: UserName | None = None
    labels: list[Label] = Field(default_factory=list, max_length=32)
    anchor: Anchor
    viewpoint: Viewpoint | None = None
    finding_id: str | None = Field(default=None, max_length=36)


EDITABLE = ("status", "title", "description", "priority", "assignee", "labels", "anchor",
            "viewpoint")  # fmt: skip


class AnnotationUpdate(StrictModel):
    """A change of some fields, made on top of the annotation's ``base_version``."""

    op_id: OpId
    base_version: int = Field(ge=1, description="the annotation version the edit is based on")
    status: Status | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    priority: Priority | None = None
    assignee: UserName | None = None
    labels: list[Label] | None = Field(default=None, max_length=32)
    anchor: Anchor | None = None
    viewpoint: Viewpoint | None = None

    @model_validator(mode="after")
    def _some_field(self) -> AnnotationUpdate:
        changed = self.changes()
        if not changed:
            raise ValueError(f"give at least one of {', '.join(EDITABLE)}")
        for name in ("status", "title", "priority", "labels", "anchor"):
            if name in changed and changed[name] is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client set (``assignee``/``viewpoint`` may be set to null)."""
        out: dict[str, Any] = {}
        for name in EDITABLE:
            if name in self.model_fields_set:
                value = getattr(self, name)
                if isinstance(value, Anchor):
                    value = value.stored()
                elif isinstance(value, BaseModel):
                    value = value.model_dump(mode="json")
                out[name] = value
        return out


class CommentCreate(StrictModel):
    """A BCF comment on an annotation."""

    op_id: OpId
    id: uuid.UUID | None = None
    text: str = Field(min_length=1, max_length=10_000)
    viewpoint: Viewpoint | None = None


class AnnotationPublic(BaseModel):
    """An annotation as stored."""

    id: str
    section_id: str
    finding_id: str | None
    part_id: str | None = Field(description="null for a topic imported without a part")
    kind: Kind
    status: Status
    title: str
    description: str
    priority: Priority
    assignee: str | None
    labels: list[str]
    anchor: dict[str, list[float]] | None = Field(
        description="null for a topic imported without an anchor"
    )
    viewpoint: dict[str, Any] | None
    version: int
    created_by: str
    created_at: str
    modified_by: str
    modified_at: str
    seq: int


class ConflictPublic(BaseModel):
    """A concurrent edit of one field and how the role-aware rule decided it."""

    id: str
    section_id: str
    annotation_id: str
    field: str
    winner: Literal["stored", "incoming"]
    stored_value: Any
    incoming_value: Any
    stored_by: str
    stored_role: str
    incoming_by: str
    incoming_role: str
    incoming_device: str
    base_version: int
    op_id: str
    reason: str
    created_at: str
    seq: int


class WriteResult(BaseModel):
    """Answer to a write: the sequence numbers it got and what it produced."""

    op_id: str
    replayed: bool = Field(description="true when this op_id had been applied before")
    seqs: list[int]
    data: dict[str, Any]
    conflicts: list[ConflictPublic] = Field(default_factory=list)


class Problem(BaseModel):
    """Every error answer."""

    detail: str
    errors: list[dict[str, Any]] | None = None
