"""SQLAlchemy 2 models of every stored thing; the Alembic migrations create the same tables.

Annotations follow BCF 3.0: an annotation is a *topic* (guid, type = `kind`, status,
title, description, priority, labels, assignee, author and dates), with *comments* and
one *viewpoint* (camera pose ``T_section_cam`` and intrinsics, optional snapshot). The
anchor (part id, surface point and normal, section and part frames, metres) has no BCF
field and travels as a ``BimSnippet`` (annotations/README.md). ``events`` is the
per-section change log that streams replay from; ``audit_log`` records every change
with who, when and which device; both are append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntPk = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time, UTC, timezone-aware."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class User(Base):
    """A person; the role decides what their tokens may do."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Token(Base):
    """A bearer token of one user on one device; only its SHA-256 is stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Section(Base):
    """A ship section; ``last_seq`` is the counter row locked by every write."""

    __tablename__ = "sections"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Run(Base):
    """An inspection run of a section: the uploaded ``report.json`` and its summary."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    report: Mapped[dict[str, Any]] = mapped_column(JSONType)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Finding(Base):
    """One part's outcome in a run that needs attention (missing, misplaced, ...)."""

    __tablename__ = "findings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    part_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    offset_mm: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Annotation(Base):
    """A BCF-style topic anchored on a part of a section.

    A topic imported from another tool may have no ``part_id`` and no ``anchor``;
    ``bcf`` keeps its original BCF values that have no column (see
    ``services/bcf_mapping.py``), ``None`` for annotations made in arinspect.

    ``field_meta`` maps each editable field to the version, user and role of its last
    change: the conflict rule compares it with the client's ``base_version``.
    """

    __tablename__ = "annotations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    finding_id: Mapped[str | None] = mapped_column(ForeignKey("findings.id"), nullable=True)
    part_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    labels: Mapped[list[str]] = mapped_column(JSONType)
    anchor: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    viewpoint: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    bcf: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    field_meta: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified_by: Mapped[str] = mapped_column(String(64))
    modified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger)


class Comment(Base):
    """A BCF comment on an annotation, optionally with its own viewpoint.

    ``bcf`` keeps an imported comment's original author, dates and viewpoint Guid.
    """

    __tablename__ = "comments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    annotation_id: Mapped[str] = mapped_column(ForeignKey("annotations.id"), index=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    viewpoint: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    bcf: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger)


class Attachment(Base):
    """A snapshot image or voice note of an annotation; bytes in `AttachmentBlob`."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    annotation_id: Mapped[str] = mapped_column(ForeignKey("annotations.id"), index=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger)


class AttachmentBlob(Base):
    """The bytes of an attachment (kept apart so that listings never load them)."""

    __tablename__ = "attachment_blobs"
    attachment_id: Mapped[str] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Conflict(Base):
    """A concurrent edit of one field that the role-aware rule had to decide."""

    __tablename__ = "conflicts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    annotation_id: Mapped[str] = mapped_column(ForeignKey("annotations.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    winner: Mapped[str] = mapped_column(String(16))
    stored_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    incoming_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    stored_by: Mapped[str] = mapped_column(String(64))
    stored_role: Mapped[str] = mapped_column(String(16))
    incoming_by: Mapped[str] = mapped_column(String(64))
    incoming_role: Mapped[str] = mapped_column(String(16))
    incoming_device: Mapped[str] = mapped_column(String(64))
    base_version: Mapped[int] = mapped_column(Integer)
    op_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger)


class SectionModel(Base):
    """The GLB of a section's CAD (section frame, metres; nodes named by part id)."""

    __tablename__ = "section_models"
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """One accepted change of a section; ``body`` is the JSON message sent to streams."""

    __tablename__ = "events"
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    op_id: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Op(Base):
    """A client operation already applied: its answer is replayed on a retry."""

    __tablename__ = "ops"
    op_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"))
    user_name: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Append-only record of a change: who, when, what, from which device."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    device: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    section_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    op_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)


Index("ix_audit_section", AuditEntry.section_id, AuditEntry.id)
