"""Uploads: attachments (snapshot images, voice notes) and inspection runs (report.json).

Everything uploaded is checked before it is stored: a plain file name (no folders, no
``..``), a declared content type the kind allows, bytes that really are of that type,
and a size limit. Bytes are stored in the database, so every process sees them.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import select

from arinspect_server.db.engine import Database
from arinspect_server.db.models import Annotation, Attachment, AttachmentBlob, Finding, Run
from arinspect_server.errors import (
    InvalidInputError,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from arinspect_server.services.annotations import require_section
from arinspect_server.services.context import Actor, OpResult, WriteContext, iso, new_id, run_op

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")
MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "audio/wav": (b"RIFF",),
    "audio/ogg": (b"OggS",),
    "audio/webm": (b"\x1a\x45\xdf\xa3",),
}
ALIASES = {"audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/vnd.wave": "audio/wav"}
KINDS = {"snapshot": ("image/png", "image/jpeg"), "voice": ("audio/wav", "audio/ogg", "audio/webm")}
NOT_FINDINGS = {"present", "ok"}


def check_filename(name: str) -> str:
    """Return ``name`` if it is a plain file name, else raise `InvalidInputError`."""
    if not name or "/" in name or "\\" in name or ".." in name or not SAFE_NAME.match(name):
        raise InvalidInputError(
            f"file name {name!r} must be a plain name (letters, digits, '._- ', no folders "
            "or '..', at most 200 characters)"
        )
    return name


def check_content(kind: str, content_type: str, data: bytes) -> str:
    """Check the declared type against the kind and the bytes; returns the canonical type."""
    declared = ALIASES.get(content_type.split(";")[0].strip().lower(), content_type.lower())
    allowed = KINDS[kind]
    if declared not in allowed:
        raise UnsupportedMediaTypeError(
            f"a {kind} must be {' or '.join(allowed)}, got content type {content_type!r}"
        )
    if not data:
        raise InvalidInputError("the uploaded file is empty")
    if not any(data.startswith(m) for m in MAGIC[declared]) or (
        declared == "audio/wav" and data[8:12] != b"WAVE"
    ):
        raise UnsupportedMediaTypeError(f"the file's bytes are not {declared}")
    return declared


def attachment_dict(a: Attachment) -> dict[str, Any]:
    """Public JSON form of an attachment (without the bytes)."""
    return {
        "id": a.id, "annotation_id": a.annotation_id, "section_id": a.section_id,
        "kind": a.kind, "filename": a.filename, "content_type": a.content_type,
        "size_bytes": a.size_bytes, "sha256": a.sha256, "created_by": a.created_by,
        "created_at": iso(a.created_at), "seq": a.seq,
    }  # fmt: skip


def add_attachment(
    db: Database, actor: Actor, section_id: str, annotation_id: str, op_id: str, *,
    kind: str, filename: str, content_type: str, data: bytes,
) -> OpResult:  # fmt: skip
    """Store a checked attachment and emit ``attachment.created``."""
    if kind not in KINDS:
        raise InvalidInputError(f"kind must be snapshot or voice, got {kind!r}")
    check_filename(filename)
    canonical = check_content(kind, content_type, data)

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        annotation = ctx.session.get(Annotation, annotation_id)
        if annotation is None or annotation.section_id != section_id:
            raise NotFoundError(f"annotation {annotation_id!r} not found in section {section_id!r}")
        attachment = Attachment(
            id=new_id(), annotation_id=annotation_id, section_id=section_id, kind=kind,
            filename=filename, content_type=canonical, size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(), created_by=ctx.actor.user,
            created_at=ctx.now, seq=ctx.next_seq(),
        )  # fmt: skip
        ctx.session.add(attachment)
        ctx.session.flush()
        ctx.session.add(AttachmentBlob(attachment_id=attachment.id, data=data))
        record = attachment_dict(attachment)
        ctx.emit("attachment", attachment.id, "created", record, attachment.seq)
        return 201, {"op_id": op_id, "seqs": [attachment.seq], "data": record, "conflicts": []}

    return run_op(db, actor, section_id, op_id, operation)


def get_attachment(db: Database, attachment_id: str) -> tuple[dict[str, Any], bytes]:
    """An attachment's metadata and bytes."""
    with db.read() as session:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            raise NotFoundError(f"attachment {attachment_id!r} not found")
        blob = session.get(AttachmentBlob, attachment_id)
        return attachment_dict(attachment), bytes(blob.data) if blob else b""


def list_attachments(db: Database, section_id: str, annotation_id: str) -> list[dict[str, Any]]:
    """Attachments of an annotation, in order."""
    with db.read() as session:
        require_section(session, section_id)
        stmt = select(Attachment).where(Attachment.annotation_id == annotation_id)
        return [attachment_dict(a) for a in session.scalars(stmt.order_by(Attachment.seq))]


def parse_report(filename: str, data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read an inspection ``report.json``: the report and the parts that need attention.

    The report is a JSON object; its optional ``parts`` list holds one object per part
    with ``id`` (or ``part_id``), ``status`` (``present``, ``missing``, ``misplaced``,
    ``not_verified``, ...) and optionally ``offset_mm``. Parts not ``present`` become
    findings.

    Raises:
        InvalidInputError: not JSON, not an object, or a malformed ``parts`` entry
            (the message names the index).
    """
    try:
        report = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{filename}: not valid JSON ({exc})") from exc
    if not isinstance(report, dict):
        raise InvalidInputError(f"{filename}: the report must be a JSON object")
    parts = report.get("parts", [])
    if not isinstance(parts, list):
        raise InvalidInputError(f"{filename}: parts must be a list")
    findings = []
    for index, part in enumerate(parts):
        part_id = part.get("id", part.get("part_id")) if isinstance(part, dict) else None
        status = part.get("status") if isinstance(part, dict) else None
        if not isinstance(part_id, str) or not isinstance(status, str):
            raise InvalidInputError(f"{filename}: parts[{index}] needs string id and status")
        offset = part.get("offset_mm")
        if offset is not None and not isinstance(offset, int | float):
            raise InvalidInputError(f"{filename}: parts[{index}].offset_mm must be a number")
        if status not in NOT_FINDINGS:
            findings.append({"part_id": part_id, "status": status, "offset_mm": offset,
                             "detail": part})  # fmt: skip
    return report, findings


def add_run(
    db: Database, actor: Actor, section_id: str, op_id: str, filename: str, data: bytes
) -> OpResult:
    """Store an uploaded report as an inspection run with its findings; emit ``run.created``."""
    check_filename(filename)
    report, findings = parse_report(filename, data)

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        run_id = new_id()
        counts: dict[str, int] = {}
        for part in report.get("parts", []):
            counts[part["status"]] = counts.get(part["status"], 0) + 1
        summary = {"parts": len(report.get("parts", [])), "by_status": counts,
                   "findings": len(findings)}  # fmt: skip
        ctx.session.add(Run(id=run_id, section_id=section_id, filename=filename, report=report,
                            summary=summary, uploaded_by=ctx.actor.user, device=ctx.actor.device,
                            created_at=ctx.now))  # fmt: skip
        ctx.session.flush()
        rows = [Finding(id=new_id(), run_id=run_id, section_id=section_id, **f) for f in findings]
        ctx.session.add_all(rows)
        record = {"id": run_id, "section_id": section_id, "filename": filename,
                  "summary": summary, "uploaded_by": ctx.actor.user, "created_at": iso(ctx.now),
                  "findings": [finding_dict(r) for r in rows]}  # fmt: skip
        ctx.emit("run", run_id, "created", record, ctx.next_seq())
        return 201, {"op_id": op_id, "seqs": [e.seq for e in ctx.events], "data": record,
                     "conflicts": []}  # fmt: skip

    return run_op(db, actor, section_id, op_id, operation)


def finding_dict(f: Finding) -> dict[str, Any]:
    """Public JSON form of a finding."""
    return {"id": f.id, "run_id": f.run_id, "section_id": f.section_id, "part_id": f.part_id,
            "status": f.status, "offset_mm": f.offset_mm}  # fmt: skip


def get_run(db: Database, run_id: str) -> dict[str, Any]:
    """A run with its report and findings."""
    with db.read() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"run {run_id!r} not found")
        findings = session.scalars(select(Finding).where(Finding.run_id == run_id))
        return {"id": run.id, "section_id": run.section_id, "filename": run.filename,
                "summary": run.summary, "report": run.report, "uploaded_by": run.uploaded_by,
                "created_at": iso(run.created_at),
                "findings": [finding_dict(f) for f in findings]}  # fmt: skip


def list_runs(db: Database, section_id: str) -> list[dict[str, Any]]:
    """Runs of a section (without the reports)."""
    with db.read() as session:
        require_section(session, section_id)
        rows = session.scalars(
            select(Run).where(Run.section_id == section_id).order_by(Run.created_at)
        )
        return [
            {"id": r.id, "filename": r.filename, "summary": r.summary,
             "uploaded_by": r.uploaded_by, "created_at": iso(r.created_at)}
            for r in rows
        ]  # fmt: skip


def list_findings(db: Database, section_id: str) -> list[dict[str, Any]]:
    """Findings of every run of a section."""
    with db.read() as session:
        require_section(session, section_id)
        rows = session.scalars(select(Finding).where(Finding.section_id == section_id))
        return [finding_dict(f) for f in rows]
