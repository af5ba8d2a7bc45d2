"""BCF import and export of a section's annotations (the store side; no HTTP here).

Export: every annotation of the section becomes a topic with its comments, viewpoints
and snapshots (`bcf_mapping`), written as BCF 3.0 and validated against the XSDs.

Import: the archive (BCF 2.1 or 3.0) is read and checked completely before anything is
written; then one operation through `run_op` stores it, so every created annotation,
comment and snapshot gets a sequence number, an event for the streams and an audit
row, and a failure stores nothing. The op id is derived from the section, the user and
the archive bytes: importing the same archive again replays the first answer. A topic
whose Guid is already stored in the section is *not* updated (arinspect's copy is the
one its workflow edits); only its comments with new Guids are added. A topic or comment
Guid stored elsewhere (another section or annotation) refuses the whole import.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arinspect.exchange.bcf import BcfArchive, BcfError, Comment, Topic, read_bcf, write_bcf
from arinspect_server.db.engine import Database
from arinspect_server.db.models import Annotation, Attachment, AttachmentBlob
from arinspect_server.db.models import Comment as CommentRow
from arinspect_server.errors import DuplicateError, InvalidInputError, StoreError
from arinspect_server.schemas import EDITABLE
from arinspect_server.services import bcf_mapping as mapping
from arinspect_server.services.annotations import annotation_dict, comment_dict, require_section
from arinspect_server.services.context import Actor, OpResult, WriteContext, new_id, run_op
from arinspect_server.services.files import (
    SAFE_NAME,
    attachment_dict,
    check_content,
)


def export_section(db: Database, section_id: str) -> bytes:
    """The section's annotations as a BCF 3.0 archive (bytes).

    Raises:
        NotFoundError: unknown section.
        BcfError: a stored value cannot be written as valid BCF 3.0 (names the topic).
    """
    with db.read() as session:
        section = require_section(session, section_id)
        annotations = session.scalars(
            select(Annotation)
            .where(Annotation.section_id == section_id)
            .order_by(Annotation.created_at, Annotation.id)
        ).all()
        comments = session.scalars(select(CommentRow).where(CommentRow.section_id == section_id)
                                   .order_by(CommentRow.seq)).all()  # fmt: skip
        snapshots = _snapshots(session, section_id)
        archive = BcfArchive(project_id=section.id, project_name=section.name)
        documents: dict[str, Any] = {}
        for annotation in annotations:
            own = [c for c in comments if c.annotation_id == annotation.id]
            archive.topics.append(mapping.topic_from_annotation(annotation, own, snapshots))
            documents.update({d.guid: d for d in mapping.documents_of(annotation)})
        archive.documents = list(documents.values())
    return write_bcf(archive, name=f"{section_id}.bcf")


def _snapshots(session: Session, section_id: str) -> dict[str, bytes]:
    """Bytes of every snapshot attachment of the section, by attachment id."""
    rows = session.execute(
        select(Attachment.id, AttachmentBlob.data)
        .join(AttachmentBlob, AttachmentBlob.attachment_id == Attachment.id)
        .where(Attachment.section_id == section_id, Attachment.kind == "snapshot")
    )
    return {attachment_id: bytes(data) for attachment_id, data in rows}


def import_op_id(section_id: str, user: str, data: bytes) -> str:
    """The op id of importing ``data`` into a section by a user (a replay is a no-op)."""
    digest = hashlib.sha256(f"{section_id}\0{user}\0".encode() + data).hexdigest()
    return f"bcf-{digest[:48]}"


def import_archive(
    db: Database, actor: Actor, section_id: str, data: bytes, filename: str = "<upload>"
) -> OpResult:
    """Import a BCF 2.1 or 3.0 archive into a section as one operation.

    Returns:
        The answer: ``data`` lists ``created`` and ``skipped`` topic Guids and counts of
        ``comments_added`` and ``snapshots_added``; status 201 if anything was added.

    Raises:
        InvalidInputError: the archive is unsafe or malformed (names the entry), or an
            anchor or snapshot in it is invalid. Nothing is stored then.
        DuplicateError: a topic or comment Guid is stored in another section/annotation.
        NotFoundError: unknown section.
    """
    try:
        archive = read_bcf(data, name=filename)
    except BcfError as exc:
        raise InvalidInputError(str(exc)) from exc
    prepared = [_prepare(topic, archive, filename) for topic in archive.topics]
    op_id = import_op_id(section_id, actor.user, data)

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        summary: dict[str, Any] = {"filename": filename, "version": archive.version,
                                   "created": [], "skipped": [], "comments_added": 0,
                                   "snapshots_added": 0}  # fmt: skip
        for topic, anchor, part_id in prepared:
            _import_topic(ctx, section_id, topic, anchor, part_id, archive, summary)
        status = 201 if ctx.events else 200
        return status, {"op_id": op_id, "seqs": [e.seq for e in ctx.events], "data": summary,
                        "conflicts": []}  # fmt: skip

    return run_op(db, actor, section_id, op_id, operation)


def _prepare(
    topic: Topic, archive: BcfArchive, where: str
) -> tuple[Topic, dict[str, Any] | None, str | None]:
    """Check what can fail before the transaction: anchors and snapshot types."""
    anchor, part_id = mapping.anchor_from_topic(topic, where)
    for view in topic.viewpoints:
        if view.snapshot is not None:
            try:
                check_content("snapshot", _snapshot_type(view.snapshot), view.snapshot)
            except StoreError as exc:
                raise InvalidInputError(f"{where}: topic {topic.guid}: snapshot of viewpoint "
                                        f"{view.guid}: {exc}") from exc  # fmt: skip
    return topic, anchor, part_id or mapping.part_from_topic(topic)


def _snapshot_type(data: bytes) -> str:
    return "image/jpeg" if data.startswith(b"\xff\xd8\xff") else "image/png"


def _import_topic(
    ctx: WriteContext, section_id: str, topic: Topic, anchor: dict[str, Any] | None,
    part_id: str | None, archive: BcfArchive, summary: dict[str, Any],
) -> None:  # fmt: skip
    existing = ctx.session.get(Annotation, topic.guid)
    if existing is not None and existing.section_id != section_id:
        raise DuplicateError(f"topic {topic.guid} is stored in section {existing.section_id!r}")
    if existing is None:
        _create_annotation(ctx, section_id, topic, anchor, part_id, archive, summary)
    else:
        summary["skipped"].append(topic.guid)
    for comment in topic.comments:
        _add_comment(ctx, section_id, topic.guid, comment, summary)


def _create_annotation(
    ctx: WriteContext, section_id: str, topic: Topic, anchor: dict[str, Any] | None,
    part_id: str | None, archive: BcfArchive, summary: dict[str, Any],
) -> None:  # fmt: skip
    meta = {"version": 1, "by": ctx.actor.user, "role": ctx.actor.role}
    annotation = Annotation(
        id=topic.guid, section_id=section_id, finding_id=None, part_id=part_id,
        anchor=anchor, viewpoint=None, version=1, field_meta=dict.fromkeys(EDITABLE, meta),
        created_by=ctx.actor.user, created_at=ctx.now, modified_by=ctx.actor.user,
        modified_at=ctx.now, seq=ctx.next_seq(), **mapping.annotation_columns(topic),
    )  # fmt: skip
    snapshot_ids = {v.guid: new_id() for v in topic.viewpoints if v.snapshot is not None}
    views = (mapping.viewpoint_from_bcf(v, snapshot_ids.get(v.guid)) for v in topic.viewpoints)
    annotation.viewpoint = next((v for v in views if v is not None), None)
    wanted = {r.document_guid for r in topic.document_references}
    documents = [d for d in archive.documents if d.guid in wanted]
    annotation.bcf = mapping.stored_topic(topic, snapshot_ids, documents)
    ctx.session.add(annotation)
    ctx.session.flush()
    ctx.emit("annotation", annotation.id, "created", annotation_dict(annotation), annotation.seq)
    _store_snapshots(ctx, section_id, topic, snapshot_ids, summary)
    summary["created"].append(topic.guid)


def _store_snapshots(
    ctx: WriteContext, section_id: str, topic: Topic, ids: dict[str, str],
    summary: dict[str, Any],
) -> None:  # fmt: skip
    """Store each viewpoint's snapshot as an attachment (``ids``: viewpoint Guid -> id)."""
    for view in topic.viewpoints:
        if view.snapshot is None:
            continue
        content_type = _snapshot_type(view.snapshot)
        name = view.snapshot_name or ""
        if not SAFE_NAME.match(name) or ".." in name:
            name = f"snapshot-{view.guid}.{'jpg' if content_type == 'image/jpeg' else 'png'}"
        attachment = Attachment(
            id=ids[view.guid], annotation_id=topic.guid, section_id=section_id, kind="snapshot",
            filename=name, content_type=content_type, size_bytes=len(view.snapshot),
            sha256=hashlib.sha256(view.snapshot).hexdigest(), created_by=ctx.actor.user,
            created_at=ctx.now, seq=ctx.next_seq(),
        )  # fmt: skip
        ctx.session.add(attachment)
        ctx.session.flush()
        ctx.session.add(AttachmentBlob(attachment_id=attachment.id, data=view.snapshot))
        ctx.emit("attachment", attachment.id, "created", attachment_dict(attachment),
                 attachment.seq)  # fmt: skip
        summary["snapshots_added"] += 1


def _add_comment(
    ctx: WriteContext, section_id: str, annotation_id: str, comment: Comment,
    summary: dict[str, Any],
) -> None:  # fmt: skip
    stored = ctx.session.get(CommentRow, comment.guid)
    if stored is not None:
        if stored.annotation_id != annotation_id:
            raise DuplicateError(f"comment {comment.guid} is stored on annotation "
                                 f"{stored.annotation_id}")  # fmt: skip
        return
    row = CommentRow(
        id=comment.guid, annotation_id=annotation_id, section_id=section_id,
        author=(comment.author or ctx.actor.user)[:64], text=comment.text or "",
        viewpoint=None, bcf=mapping.stored_comment(comment), created_at=ctx.now,
        seq=ctx.next_seq(),
    )  # fmt: skip
    ctx.session.add(row)
    ctx.emit("comment", row.id, "created", comment_dict(row), row.seq)
    summary["comments_added"] += 1
