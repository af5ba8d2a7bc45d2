"""Annotations (BCF topics), their comments and conflict records: reads and writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from arinspect_server.db.engine import Database
from arinspect_server.db.models import (
    Annotation,
    Attachment,
    Comment,
    Conflict,
    Event,
    Finding,
    Section,
)
from arinspect_server.errors import DuplicateError, InvalidInputError, NotFoundError
from arinspect_server.schemas import EDITABLE, AnnotationCreate, AnnotationUpdate, CommentCreate
from arinspect_server.services.context import (
    Actor,
    Operation,
    OpResult,
    WriteContext,
    iso,
    new_id,
    run_op,
)
from arinspect_server.services.workflow import decide


def annotation_dict(a: Annotation) -> dict[str, Any]:
    """The public JSON form of an annotation."""
    return {
        "id": a.id,
        "section_id": a.section_id,
        "finding_id": a.finding_id,
        "part_id": a.part_id,
        "kind": a.kind,
        "status": a.status,
        "title": a.title,
        "description": a.description,
        "priority": a.priority,
        "assignee": a.assignee,
        "labels": list(a.labels),
        "anchor": a.anchor,
        "viewpoint": a.viewpoint,
        "version": a.version,
        "created_by": a.created_by,
        "created_at": iso(a.created_at),
        "modified_by": a.modified_by,
        "modified_at": iso(a.modified_at),
        "seq": a.seq,
    }


def comment_dict(c: Comment) -> dict[str, Any]:
    """The public JSON form of a comment."""
    return {
        "id": c.id,
        "annotation_id": c.annotation_id,
        "section_id": c.section_id,
        "author": c.author,
        "text": c.text,
        "viewpoint": c.viewpoint,
        "created_at": iso(c.created_at),
        "seq": c.seq,
    }


def conflict_dict(c: Conflict) -> dict[str, Any]:
    """The public JSON form of a conflict record."""
    return {
        "id": c.id,
        "section_id": c.section_id,
        "annotation_id": c.annotation_id,
        "field": c.field,
        "winner": c.winner,
        "stored_value": c.stored_value,
        "incoming_value": c.incoming_value,
        "stored_by": c.stored_by,
        "stored_role": c.stored_role,
        "incoming_by": c.incoming_by,
        "incoming_role": c.incoming_role,
        "incoming_device": c.incoming_device,
        "base_version": c.base_version,
        "op_id": c.op_id,
        "reason": c.reason,
        "created_at": iso(c.created_at),
        "seq": c.seq,
    }


def _result(ctx: WriteContext, data: dict[str, Any], conflicts: list[dict[str, Any]]) -> dict:
    seqs = [e.seq for e in ctx.events]
    return {"op_id": ctx.op_id, "seqs": seqs, "data": data, "conflicts": conflicts}


def create_annotation(
    db: Database, actor: Actor, section_id: str, body: AnnotationCreate
) -> OpResult:
    """Store a new annotation (status ``open``) and emit ``annotation.created``."""
    return run_op(db, actor, section_id, body.op_id, create_operation(section_id, body))


def create_operation(section_id: str, body: AnnotationCreate) -> Operation:
    """The operation that creates an annotation (for `run_op` or `apply_ops`)."""

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        annotation_id = str(body.id) if body.id else new_id()
        if ctx.session.get(Annotation, annotation_id) is not None:
            raise DuplicateError(f"annotation {annotation_id} already exists")
        if body.finding_id is not None:
            finding = ctx.session.get(Finding, body.finding_id)
            if finding is None or finding.section_id != section_id:
                raise NotFoundError(
                    f"finding {body.finding_id!r} not found in section {section_id!r}"
                )
        _check_snapshot(ctx.session, section_id, body.viewpoint and body.viewpoint.model_dump())
        seq = ctx.next_seq()
        meta = {"version": 1, "by": ctx.actor.user, "role": ctx.actor.role}
        annotation = Annotation(
            id=annotation_id, section_id=section_id, finding_id=body.finding_id,
            part_id=body.part_id, kind=body.kind, status="open", title=body.title,
            description=body.description, priority=body.priority, assignee=body.assignee,
            labels=list(body.labels), anchor=body.anchor.stored(),
            viewpoint=body.viewpoint.model_dump(mode="json") if body.viewpoint else None,
            version=1, field_meta=dict.fromkeys(EDITABLE, meta),
            created_by=ctx.actor.user, created_at=ctx.now, modified_by=ctx.actor.user,
            modified_at=ctx.now, seq=seq,
        )  # fmt: skip
        ctx.session.add(annotation)
        data = annotation_dict(annotation)
        ctx.emit("annotation", annotation_id, "created", data, seq)
        return 201, _result(ctx, data, [])

    return operation


def update_annotation(
    db: Database, actor: Actor, section_id: str, annotation_id: str, body: AnnotationUpdate
) -> OpResult:
    """Apply an update with the role-aware conflict rule (see `workflow.decide`)."""
    changes = body.changes()

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        annotation = _get_annotation(ctx.session, section_id, annotation_id)
        if body.base_version > annotation.version:
            raise InvalidInputError(
                f"base_version {body.base_version} is newer than the stored version "
                f"{annotation.version} of annotation {annotation_id}"
            )
        _check_snapshot(ctx.session, section_id, changes.get("viewpoint"))
        meta = dict(annotation.field_meta)
        new_version = annotation.version + 1
        applied: dict[str, Any] = {}
        conflicts: list[Conflict] = []
        for name, value in changes.items():
            stored = getattr(annotation, name)
            decision = decide(name, value, stored, meta.get(name, {}), body.base_version,
                              ctx.actor.role, annotation.status)  # fmt: skip
            if decision.conflict:
                conflicts.append(_conflict(ctx, annotation, name, stored, value, meta, body,
                                           decision.apply, decision.reason))  # fmt: skip
            if decision.apply:
                applied[name] = value
        conflict_dicts = []
        if applied:
            for name, value in applied.items():
                setattr(annotation, name, value)
                meta[name] = {"version": new_version, "by": ctx.actor.user, "role": ctx.actor.role}
            annotation.field_meta = meta
            annotation.version = new_version
            annotation.modified_by = ctx.actor.user
            annotation.modified_at = ctx.now
            annotation.seq = ctx.next_seq()
            ctx.emit("annotation", annotation.id, "updated", annotation_dict(annotation),
                     annotation.seq)  # fmt: skip
        for conflict in conflicts:
            conflict.seq = ctx.next_seq()
            ctx.session.add(conflict)
            record = conflict_dict(conflict)
            conflict_dicts.append(record)
            ctx.emit("conflict", conflict.id, "created", record, conflict.seq)
        return 200, _result(ctx, annotation_dict(annotation), conflict_dicts)

    return run_op(db, actor, section_id, body.op_id, operation)


def _conflict(
    ctx: WriteContext,
    annotation: Annotation,
    name: str,
    stored: Any,
    incoming: Any,
    meta: dict[str, Any],
    body: AnnotationUpdate,
    incoming_wins: bool,
    reason: str,
) -> Conflict:
    stored_meta = meta.get(name, {})
    return Conflict(
        id=new_id(), section_id=annotation.section_id, annotation_id=annotation.id,
        field=name, winner="incoming" if incoming_wins else "stored",
        stored_value=stored, incoming_value=incoming,
        stored_by=str(stored_meta.get("by", annotation.created_by)),
        stored_role=str(stored_meta.get("role", "worker")),
        incoming_by=ctx.actor.user, incoming_role=ctx.actor.role,
        incoming_device=ctx.actor.device, base_version=body.base_version,
        op_id=body.op_id, reason=reason, created_at=ctx.now,
    )  # fmt: skip


def add_comment(
    db: Database, actor: Actor, section_id: str, annotation_id: str, body: CommentCreate
) -> OpResult:
    """Store a comment on an annotation and emit ``comment.created``."""

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        _get_annotation(ctx.session, section_id, annotation_id)
        comment_id = str(body.id) if body.id else new_id()
        if ctx.session.get(Comment, comment_id) is not None:
            raise DuplicateError(f"comment {comment_id} already exists")
        comment = Comment(
            id=comment_id, annotation_id=annotation_id, section_id=section_id,
            author=ctx.actor.user, text=body.text,
            viewpoint=body.viewpoint.model_dump(mode="json") if body.viewpoint else None,
            created_at=ctx.now, seq=ctx.next_seq(),
        )  # fmt: skip
        ctx.session.add(comment)
        data = comment_dict(comment)
        ctx.emit("comment", comment_id, "created", data, comment.seq)
        return 201, _result(ctx, data, [])

    return run_op(db, actor, section_id, body.op_id, operation)


def _check_snapshot(session: Any, section_id: str, viewpoint: dict[str, Any] | None) -> None:
    """A viewpoint's snapshot must be a snapshot attachment of the same section."""
    snapshot_id = (viewpoint or {}).get("snapshot_attachment_id")
    if snapshot_id is None:
        return
    attachment = session.get(Attachment, snapshot_id)
    if attachment is None or attachment.section_id != section_id or attachment.kind != "snapshot":
        raise NotFoundError(
            f"snapshot attachment {snapshot_id!r} not found in section {section_id!r}"
        )


def _get_annotation(session: Any, section_id: str, annotation_id: str) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.section_id != section_id:
        raise NotFoundError(f"annotation {annotation_id!r} not found in section {section_id!r}")
    return annotation


def require_section(session: Any, section_id: str) -> Section:
    """The section, or `NotFoundError`."""
    section = session.get(Section, section_id)
    if section is None:
        raise NotFoundError(f"section {section_id!r} not found")
    return section


def get_annotation(db: Database, section_id: str, annotation_id: str) -> dict[str, Any]:
    """One annotation with its comments."""
    with db.read() as session:
        require_section(session, section_id)
        annotation = _get_annotation(session, section_id, annotation_id)
        out = annotation_dict(annotation)
        comments = session.scalars(
            select(Comment).where(Comment.annotation_id == annotation_id).order_by(Comment.seq)
        )
        out["comments"] = [comment_dict(c) for c in comments]
        return out


def list_annotations(
    db: Database,
    section_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    part_id: str | None = None,
) -> list[dict[str, Any]]:
    """Annotations of a section in creation order, optionally filtered."""
    with db.read() as session:
        require_section(session, section_id)
        stmt = select(Annotation).where(Annotation.section_id == section_id)
        if status:
            stmt = stmt.where(Annotation.status == status)
        if kind:
            stmt = stmt.where(Annotation.kind == kind)
        if part_id:
            stmt = stmt.where(Annotation.part_id == part_id)
        rows = session.scalars(stmt.order_by(Annotation.created_at, Annotation.id))
        return [annotation_dict(a) for a in rows]


def annotation_history(db: Database, section_id: str, annotation_id: str) -> str:
    """The events of an annotation, its comments, attachments and conflicts, oldest first.

    Returns:
        A JSON array of the events as the stream sent them (who, device, when, what).
    """
    with db.read() as session:
        require_section(session, section_id)
        _get_annotation(session, section_id, annotation_id)
        ids = {annotation_id}
        for model in (Comment, Attachment, Conflict):
            owned = select(model.id).where(model.annotation_id == annotation_id)
            ids.update(session.scalars(owned))
        bodies = session.scalars(
            select(Event.body)
            .where(Event.section_id == section_id, Event.entity_id.in_(ids))
            .order_by(Event.seq)
        )
        return "[" + ",".join(bodies) + "]"


def list_comments(db: Database, section_id: str, annotation_id: str) -> list[dict[str, Any]]:
    """Comments of an annotation in order."""
    return get_annotation(db, section_id, annotation_id)["comments"]


def list_conflicts(
    db: Database, section_id: str, annotation_id: str | None = None
) -> list[dict[str, Any]]:
    """Conflict records of a section (or of one annotation) in sequence order."""
    with db.read() as session:
        require_section(session, section_id)
        stmt = select(Conflict).where(Conflict.section_id == section_id)
        if annotation_id:
            stmt = stmt.where(Conflict.annotation_id == annotation_id)
        return [conflict_dict(c) for c in session.scalars(stmt.order_by(Conflict.seq))]
