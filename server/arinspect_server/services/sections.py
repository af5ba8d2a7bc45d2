"""Sections, the per-section event log (catch-up) and the audit log: reads and writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from arinspect_server.db.engine import Database
from arinspect_server.db.models import AuditEntry, Event, Section
from arinspect_server.errors import DuplicateError, NotFoundError
from arinspect_server.schemas import SectionCreate
from arinspect_server.services.context import Actor, audit, iso


def section_dict(s: Section) -> dict[str, Any]:
    """The public JSON form of a section (``head_seq``: its newest sequence number)."""
    return {
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "head_seq": s.last_seq,
        "created_by": s.created_by,
        "created_at": iso(s.created_at),
    }


def create_section(db: Database, actor: Actor, body: SectionCreate) -> tuple[bool, dict]:
    """Create a section; repeating the same request is harmless.

    Returns:
        ``(created, section)``; ``created`` is false when an identical section existed.

    Raises:
        DuplicateError: the id is taken by a section with another name.
    """
    with db.write() as session:
        existing = session.get(Section, body.id)
        if existing is not None:
            if existing.name != body.name:
                raise DuplicateError(f"section {body.id!r} exists with name {existing.name!r}")
            return False, section_dict(existing)
        section = Section(id=body.id, name=body.name, description=body.description,
                          last_seq=0, created_by=actor.user)  # fmt: skip
        session.add(section)
        session.flush()
        audit(session, actor, "section.created", "section", body.id, section_id=body.id,
              detail=body.model_dump())  # fmt: skip
        return True, section_dict(section)


def list_sections(db: Database) -> list[dict[str, Any]]:
    """Every section, by id."""
    with db.read() as session:
        return [section_dict(s) for s in session.scalars(select(Section).order_by(Section.id))]


def get_section(db: Database, section_id: str) -> dict[str, Any]:
    """One section, or `NotFoundError`."""
    with db.read() as session:
        section = session.get(Section, section_id)
        if section is None:
            raise NotFoundError(f"section {section_id!r} not found")
        return section_dict(section)


def head_seqs(db: Database, section_ids: list[str]) -> dict[str, int]:
    """Newest sequence number of each named section."""
    with db.read() as session:
        rows = session.execute(
            select(Section.id, Section.last_seq).where(Section.id.in_(section_ids))
        )
        return {row[0]: int(row[1]) for row in rows}


def event_bodies(db: Database, section_id: str, since: int, limit: int) -> list[tuple[int, str]]:
    """Events with ``seq > since`` in order, at most ``limit``: ``(seq, JSON body)``."""
    with db.read() as session:
        rows = session.execute(
            select(Event.seq, Event.body)
            .where(Event.section_id == section_id, Event.seq > since)
            .order_by(Event.seq)
            .limit(limit)
        )
        return [(int(seq), body) for seq, body in rows]


def audit_entries(
    db: Database, *, section_id: str | None = None, after_id: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Audit rows in order of writing, after ``after_id``."""
    with db.read() as session:
        stmt = select(AuditEntry).where(AuditEntry.id > after_id)
        if section_id:
            stmt = stmt.where(AuditEntry.section_id == section_id)
        rows = session.scalars(stmt.order_by(AuditEntry.id).limit(limit))
        return [
            {
                "id": r.id,
                "at": iso(r.at),
                "user": r.user_name,
                "role": r.role,
                "device": r.device,
                "action": r.action,
                "section_id": r.section_id,
                "entity": r.entity,
                "entity_id": r.entity_id,
                "seq": r.seq,
                "op_id": r.op_id,
                "detail": r.detail,
            }  # fmt: skip
            for r in rows
        ]
