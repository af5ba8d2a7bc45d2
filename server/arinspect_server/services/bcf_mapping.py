"""Mapping between stored annotations and BCF topics (no database session, no HTTP).

Vocabularies: BCF's TopicType, TopicStatus and Priority are free strings; known ones map
onto arinspect's ``kind``/``status``/``priority`` (case-insensitive, see the tables
below), others fall back to ``note``/``open``/``normal``. The original strings and
everything without a column (due date, stage, links, related topics, documents, header
files, extra viewpoints with their components, visibility, colouring, orthogonal cameras,
lines, clipping planes, bitmaps, original authors and dates) are kept in
``annotations.bcf``/``comments.bcf``; an export writes them back unless the field was
changed in arinspect after the import.

Parts: a part id becomes a ``Component`` with ``OriginatingSystem`` ``arinspect``, the
part id in ``AuthoringToolId`` and a deterministic ``IfcGuid`` (`part_ifc_guid`). The
anchor travels as the topic's ``BimSnippet`` of type ``arinspect-anchor``: a JSON file
``anchor.json`` in the topic folder (annotations/README.md).
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from arinspect.exchange.bcf import (
    BimSnippet,
    Comment,
    Component,
    Document,
    DocumentReference,
    Topic,
    Viewpoint,
)
from arinspect.exchange.bcf.camera import camera_from_pinhole, pinhole_from_camera
from arinspect_server.db.models import Annotation
from arinspect_server.db.models import Comment as CommentRow
from arinspect_server.errors import InvalidInputError
from arinspect_server.schemas import Anchor
from arinspect_server.services.context import iso

ORIGINATING_SYSTEM = "arinspect"
ANCHOR_SNIPPET = "arinspect-anchor"
ANCHOR_FILE = "anchor.json"
ANCHOR_SCHEMA = "annotation.schema.json#/properties/anchor"
IFC_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"
_NAMESPACE = uuid.UUID("0c2a3f4e-8d7b-4c61-9e55-3b1f6a2d9c80")
DEFAULT_IMAGE_HEIGHT = 480  # pixels, for a viewpoint imported without a snapshot
KINDS = {"note": "note", "information": "note", "info": "note", "comment": "note",
         "remark": "note", "request": "note", "defect": "defect", "error": "defect",
         "issue": "defect", "fault": "defect", "clash": "defect", "warning": "defect",
         "ink": "ink", "measurement": "measurement", "voice": "voice"}  # fmt: skip
STATUSES = {"open": "open", "new": "open", "active": "open", "reopened": "open",
            "in_progress": "in_progress", "in progress": "in_progress",
            "inprogress": "in_progress", "resolved": "resolved", "solved": "resolved",
            "fixed": "resolved", "done": "resolved", "verified": "verified",
            "rejected": "rejected", "closed": "closed"}  # fmt: skip
PRIORITIES = {"low": "low", "minor": "low", "normal": "normal", "medium": "normal",
              "moderate": "normal", "high": "high", "major": "high", "critical": "critical",
              "blocker": "critical", "urgent": "critical"}  # fmt: skip
MAPPED_FIELDS = {"status": "topic_status", "title": "title", "description": "description",
                 "priority": "priority", "assignee": "assigned_to",
                 "labels": "labels"}  # fmt: skip

TOPIC = TypeAdapter(Topic)
COMMENT = TypeAdapter(Comment)
DOCUMENTS = TypeAdapter(list[Document])


def part_ifc_guid(section_id: str, part_id: str) -> str:
    """A deterministic IFC GlobalId (22 characters of IFC's base-64) for a part."""
    digest = hashlib.sha256(f"{section_id}\0{part_id}".encode()).digest()[:16]
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 64)
        chars.append(IFC_ALPHABET[digit])
    return "".join(reversed(chars))


def part_component(section_id: str, part_id: str) -> Component:
    """The BCF component that names an arinspect part."""
    return Component(part_ifc_guid(section_id, part_id), ORIGINATING_SYSTEM, part_id)


def _fit(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _lookup(table: dict[str, str], value: str | None, default: str) -> str:
    return table.get((value or "").strip().lower(), default)


# -- export ---------------------------------------------------------------------------------


def viewpoint_to_bcf(
    view: dict[str, Any], snapshots: dict[str, bytes], components: list[Component]
) -> Viewpoint:
    """A BCF viewpoint from arinspect's (``T_section_cam``, intrinsics, snapshot id)."""
    intrinsics = view["intrinsics"]
    camera = camera_from_pinhole(np.asarray(view["T_section_cam"]), np.asarray(intrinsics["K"]),
                                 tuple(intrinsics["image_size_wh"]))  # fmt: skip
    return Viewpoint(guid=view["guid"], camera=camera, selection=components,
                     default_visibility=True,
                     snapshot=snapshots.get(view.get("snapshot_attachment_id") or ""))  # fmt: skip


def _changed(annotation: Annotation, field: str, since: int) -> bool:
    return int(annotation.field_meta.get(field, {}).get("version", 1)) > since


def topic_from_annotation(
    annotation: Annotation, comments: list[CommentRow], snapshots: dict[str, bytes]
) -> Topic:
    """The BCF topic of a stored annotation, its comments and its snapshot bytes.

    An imported annotation starts from its stored original topic; fields changed in
    arinspect since the import replace the original values.
    """
    extras = annotation.bcf or {}
    since = int(extras.get("imported_version", 0))
    if "topic" in extras:
        topic = TOPIC.validate_json(json.dumps(extras["topic"]))
        for view in topic.viewpoints:
            view.snapshot = snapshots.get(extras.get("snapshots", {}).get(view.guid, ""))
    else:
        topic = Topic(guid=annotation.id, title=annotation.title,
                      topic_type=annotation.kind, creation_date=iso(annotation.created_at),
                      creation_author=annotation.created_by)  # fmt: skip
    values = {"status": annotation.status, "title": annotation.title,
              "description": annotation.description or None, "priority": annotation.priority,
              "assignee": annotation.assignee, "labels": list(annotation.labels)}  # fmt: skip
    for field, attribute in MAPPED_FIELDS.items():
        if not since or _changed(annotation, field, since):
            setattr(topic, attribute, values[field])
    if not since or annotation.version > since:
        topic.modified_date = iso(annotation.modified_at)
        topic.modified_author = annotation.modified_by
    topic.topic_type = topic.topic_type or annotation.kind
    topic.topic_status = topic.topic_status or annotation.status
    components = []
    if annotation.part_id:
        components = [part_component(annotation.section_id, annotation.part_id)]
    if annotation.viewpoint and (not since or _changed(annotation, "viewpoint", since)):
        ours = viewpoint_to_bcf(annotation.viewpoint, snapshots, components)
        topic.viewpoints = [ours] + [v for v in topic.viewpoints if v.guid != ours.guid]
    if annotation.anchor is not None:
        data = {"part_id": annotation.part_id, **annotation.anchor}
        topic.bim_snippet = BimSnippet(ANCHOR_SNIPPET, ANCHOR_FILE, ANCHOR_SCHEMA,
                                       data=json.dumps(data, indent=1).encode())  # fmt: skip
    if annotation.finding_id and not since:
        topic.document_references.append(DocumentReference(
            guid=str(uuid.uuid5(_NAMESPACE, f"finding:{annotation.finding_id}")),
            url=f"arinspect:finding/{annotation.finding_id}",
            description="arinspect inspection finding"))  # fmt: skip
    topic.comments = [_comment_to_bcf(c, topic, snapshots, components) for c in comments]
    return topic


def _comment_to_bcf(
    row: CommentRow, topic: Topic, snapshots: dict[str, bytes], components: list[Component]
) -> Comment:
    if row.bcf and "comment" in row.bcf:
        return COMMENT.validate_json(json.dumps(row.bcf["comment"]))
    comment = Comment(guid=row.id, date=iso(row.created_at), author=row.author,
                      text=row.text or None)  # fmt: skip
    if row.viewpoint:
        view = viewpoint_to_bcf(row.viewpoint, snapshots, components)
        if all(v.guid != view.guid for v in topic.viewpoints):
            topic.viewpoints.append(view)
        comment.viewpoint_guid = view.guid
    return comment


# -- import ---------------------------------------------------------------------------------


def anchor_from_topic(topic: Topic, where: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(anchor, part_id)`` from an ``arinspect-anchor`` snippet, or ``(None, None)``."""
    snippet = topic.bim_snippet
    if snippet is None or snippet.snippet_type != ANCHOR_SNIPPET or snippet.data is None:
        return None, None
    try:
        data = json.loads(snippet.data.decode("utf-8"))
        part_id = data.pop("part_id", None)
        return Anchor(**data).stored(), part_id if isinstance(part_id, str) else None
    except (UnicodeDecodeError, ValueError, TypeError, ValidationError) as exc:
        raise InvalidInputError(f"{where}: topic {topic.guid}: BimSnippet {snippet.reference} "
                                f"is not a valid arinspect anchor ({exc})") from exc  # fmt: skip


def part_from_topic(topic: Topic) -> str | None:
    """The part id of the first component an arinspect export selected, if any."""
    for view in topic.viewpoints:
        for component in view.selection:
            if component.originating_system == ORIGINATING_SYSTEM and component.authoring_tool_id:
                return component.authoring_tool_id
    return None


def image_size(snapshot: bytes | None, aspect_ratio: float | None) -> tuple[int, int]:
    """Width and height of a PNG snapshot, else ``DEFAULT_IMAGE_HEIGHT`` at the aspect."""
    if snapshot and snapshot.startswith(b"\x89PNG\r\n\x1a\n") and len(snapshot) >= 24:
        width, height = struct.unpack(">II", snapshot[16:24])
        if width > 0 and height > 0:
            return int(width), int(height)
    height = DEFAULT_IMAGE_HEIGHT
    return max(1, round(height * (aspect_ratio or 4 / 3))), height


def viewpoint_from_bcf(view: Viewpoint, snapshot_id: str | None) -> dict[str, Any] | None:
    """The arinspect viewpoint of a BCF perspective viewpoint (``None`` for others)."""
    if view.camera is None or view.camera.kind != "perspective":
        return None
    size = image_size(view.snapshot, view.camera.aspect_ratio)
    try:
        T_section_cam, K = pinhole_from_camera(view.camera, size)
    except ValueError:
        return None
    return {"guid": view.guid, "T_section_cam": T_section_cam.tolist(),
            "intrinsics": {"K": K.tolist(), "image_size_wh": list(size), "distortion": []},
            "snapshot_attachment_id": snapshot_id}  # fmt: skip


def annotation_columns(topic: Topic) -> dict[str, Any]:
    """Column values of a new annotation for an imported topic (fitted to the columns)."""
    return {
        "kind": _lookup(KINDS, topic.topic_type, "note"),
        "status": _lookup(STATUSES, topic.topic_status, "open"),
        "priority": _lookup(PRIORITIES, topic.priority, "normal"),
        "title": _fit(topic.title, 200),
        "description": topic.description or "",
        "assignee": _fit(topic.assigned_to, 64),
        "labels": list(topic.labels),
    }


def stored_topic(
    topic: Topic, snapshot_ids: dict[str, str], documents: list[Document]
) -> dict[str, Any]:
    """The JSON kept in ``annotations.bcf`` for an imported topic (no comments, no images).

    ``snapshot_ids`` maps viewpoint Guids to the attachments holding their snapshots;
    ``documents`` are the archive documents the topic refers to.
    """
    data = json.loads(TOPIC.dump_json(topic))
    data["comments"] = []
    data["bim_snippet"] = None if topic.bim_snippet and topic.bim_snippet.snippet_type == \
        ANCHOR_SNIPPET else data["bim_snippet"]  # fmt: skip
    for view in data["viewpoints"]:
        view["snapshot"] = None
    return {"topic": data, "snapshots": snapshot_ids, "imported_version": 1,
            "documents": json.loads(DOCUMENTS.dump_json(documents))}  # fmt: skip


def documents_of(annotation: Annotation) -> list[Document]:
    """The archive documents an imported annotation's topic refers to."""
    return DOCUMENTS.validate_json(json.dumps((annotation.bcf or {}).get("documents", [])))


def stored_comment(comment: Comment) -> dict[str, Any]:
    """The JSON kept in ``comments.bcf`` for an imported comment."""
    return {"comment": json.loads(COMMENT.dump_json(comment))}
