"""The content of a BCF archive as plain dataclasses (no XML, no database).

One `BcfArchive` holds topics, each with its comments and viewpoints. Field names follow
BCF 3.0; values a tool may choose freely (TopicType, TopicStatus, Priority, dates) are kept
as the strings found in the file, so that a re-export reproduces them. Coordinates are
the BCF model frame (for arinspect: the section frame), metres; angles in degrees as BCF
writes them. Binary payloads (snapshots, snippet files, documents) are bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Vec3 = tuple[float, float, float]
# Lets pydantic's TypeAdapter store these dataclasses as JSON with bytes in base64.
_BYTES_AS_BASE64 = {"ser_json_bytes": "base64", "val_json_bytes": "base64"}


@dataclass(slots=True)
class Component:
    """One model element: ``IfcGuid`` (22 characters) and/or the authoring tool's id."""

    ifc_guid: str | None = None
    originating_system: str | None = None
    authoring_tool_id: str | None = None


@dataclass(slots=True)
class Camera:
    """A BCF camera in the model frame (metres).

    ``kind`` ``perspective``: ``field_of_view_deg`` is the vertical field of view in
    degrees. ``orthogonal``: ``view_to_world_scale`` is the visible height in metres.
    ``aspect_ratio`` is the view's width / height (absent in BCF 2.1 files).
    """

    kind: Literal["perspective", "orthogonal"]
    view_point: Vec3
    direction: Vec3
    up_vector: Vec3
    field_of_view_deg: float | None = None
    view_to_world_scale: float | None = None
    aspect_ratio: float | None = None


@dataclass(slots=True)
class Line:
    """A line segment drawn in the view (model frame, metres)."""

    start: Vec3
    end: Vec3


@dataclass(slots=True)
class ClippingPlane:
    """A clipping plane: a point on it and its direction (model frame)."""

    location: Vec3
    direction: Vec3


@dataclass(slots=True)
class Bitmap:
    """A bitmap placed in the view: ``reference`` names its file in the topic folder."""

    __pydantic_config__ = _BYTES_AS_BASE64

    format: str
    reference: str
    location: Vec3
    normal: Vec3
    up: Vec3
    height: float
    data: bytes | None = None


@dataclass(slots=True)
class Coloring:
    """Components shown in one colour (``RRGGBB`` or ``RRGGBBAA`` hex)."""

    color: str
    components: list[Component] = field(default_factory=list)


@dataclass(slots=True)
class Viewpoint:
    """A viewpoint (``.bcfv``) with its snapshot.

    ``default_visibility`` with ``exceptions`` says which components are shown; ``None``
    in the hint fields means the file did not say.
    """

    __pydantic_config__ = _BYTES_AS_BASE64

    guid: str
    camera: Camera | None = None
    selection: list[Component] = field(default_factory=list)
    default_visibility: bool = False
    exceptions: list[Component] = field(default_factory=list)
    spaces_visible: bool | None = None
    space_boundaries_visible: bool | None = None
    openings_visible: bool | None = None
    coloring: list[Coloring] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    clipping_planes: list[ClippingPlane] = field(default_factory=list)
    bitmaps: list[Bitmap] = field(default_factory=list)
    index: int | None = None
    snapshot: bytes | None = None
    snapshot_name: str | None = None


@dataclass(slots=True)
class Comment:
    """A comment; ``viewpoint_guid`` names one of the topic's viewpoints."""

    guid: str
    date: str | None = None
    author: str | None = None
    text: str | None = None
    viewpoint_guid: str | None = None
    modified_date: str | None = None
    modified_author: str | None = None


@dataclass(slots=True)
class DocumentReference:
    """A reference from a topic to an archive document (``document_guid``) or a URL."""

    guid: str
    document_guid: str | None = None
    url: str | None = None
    description: str | None = None


@dataclass(slots=True)
class Document:
    """A document stored in the archive (``documents/GUID``)."""

    __pydantic_config__ = _BYTES_AS_BASE64

    guid: str
    filename: str
    description: str | None = None
    data: bytes = b""


@dataclass(slots=True)
class BimSnippet:
    """A piece of model data: a file in the topic folder, or a URL when external."""

    __pydantic_config__ = _BYTES_AS_BASE64

    snippet_type: str
    reference: str
    reference_schema: str
    is_external: bool = False
    data: bytes | None = None


@dataclass(slots=True)
class HeaderFile:
    """A model file the topic refers to (markup header)."""

    filename: str | None = None
    date: str | None = None
    reference: str | None = None
    ifc_project: str | None = None
    ifc_spatial_structure_element: str | None = None
    is_external: bool = True


@dataclass(slots=True)
class Topic:
    """A topic: the issue, with its comments and viewpoints (dates: ISO 8601 strings).

    ``None`` marks a value the file did not give; `write_bcf` refuses a topic without
    type, status, creation date or author (BCF 3.0 requires them).
    """

    guid: str
    title: str
    topic_type: str | None = None
    topic_status: str | None = None
    creation_date: str | None = None
    creation_author: str | None = None
    server_assigned_id: str | None = None
    reference_links: list[str] = field(default_factory=list)
    priority: str | None = None
    index: int | None = None
    labels: list[str] = field(default_factory=list)
    modified_date: str | None = None
    modified_author: str | None = None
    due_date: str | None = None
    assigned_to: str | None = None
    stage: str | None = None
    description: str | None = None
    bim_snippet: BimSnippet | None = None
    document_references: list[DocumentReference] = field(default_factory=list)
    related_topics: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    viewpoints: list[Viewpoint] = field(default_factory=list)
    header_files: list[HeaderFile] = field(default_factory=list)


@dataclass(slots=True)
class Extensions:
    """The project's declared vocabularies (``extensions.xml``)."""

    topic_types: list[str] = field(default_factory=list)
    topic_statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    topic_labels: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    snippet_types: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BcfArchive:
    """A whole archive; ``version`` is the ``VersionId`` read (``3.0``, ``2.1``)."""

    version: str = "3.0"
    project_id: str | None = None
    project_name: str | None = None
    extensions: Extensions = field(default_factory=Extensions)
    documents: list[Document] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
