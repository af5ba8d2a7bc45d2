"""The write path shared by every change: lock, idempotency, sequence numbers, audit.

`run_op` opens one write transaction per client operation: it locks the section's
counter row, looks the op id up *while holding the lock* (a retry returns the stored
answer and burns no number), lets the operation emit events (each takes the next
sequence number), records the op and its answer, writes the audit rows, queues a
``pg_notify`` wake-up on PostgreSQL (delivered on commit) and commits. The caller then
hands the committed events to the stream hub.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from arinspect_server.db.engine import Database
from arinspect_server.db.models import AuditEntry, Event, Op, Section, utcnow
from arinspect_server.errors import DuplicateError, NotFoundError

NOTIFY_CHANNEL = "arinspect_events"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a request: user name, role and the device of the token."""

    user: str
    role: str
    device: str


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """An event after commit: its sequence number and its JSON message."""

    section_id: str
    seq: int
    body: str


@dataclass(slots=True)
class OpResult:
    """Outcome of one operation: status code, answer, and the events it committed."""

    status_code: int
    response: dict[str, Any]
    events: list[CommittedEvent] = field(default_factory=list)
    replayed: bool = False


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC (SQLite gives naive datetimes back: they are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    """A fresh Guid (BCF uses UUIDs for topics, comments and viewpoints)."""
    return str(uuid.uuid4())


class WriteContext:
    """One operation inside its transaction; `emit` appends an event with the next seq."""

    def __init__(self, session: Session, section: Section, actor: Actor, op_id: str) -> None:
        self.session = session
        self.section = section
        self.actor = actor
        self.op_id = op_id
        self.now = utcnow()
        self.events: list[CommittedEvent] = []

    def next_seq(self) -> int:
        """Take the next sequence number of the section (the row is locked)."""
        self.section.last_seq += 1
        return self.section.last_seq

    def emit(
        self, entity: str, entity_id: str, action: str, data: dict[str, Any], seq: int
    ) -> None:
        """Append the event ``seq`` (from `next_seq`) with the entity's state after the change."""
        body = json.dumps(
            {
                "seq": seq,
                "section_id": self.section.id,
                "op_id": self.op_id,
                "entity": entity,
                "id": entity_id,
                "action": action,
                "user": self.actor.user,
                "device": self.actor.device,
                "at": iso(self.now),
                "data": data,
            },
            separators=(",", ":"),
        )
        self.session.add(
            Event(
                section_id=self.section.id,
                seq=seq,
                op_id=self.op_id,
                entity=entity,
                entity_id=entity_id,
                action=action,
                body=body,
                created_at=self.now,
            )
        )
        audit(
            self.session, self.actor, f"{entity}.{action}", entity, entity_id,
            section_id=self.section.id, seq=seq, op_id=self.op_id, detail=data, at=self.now,
        )  # fmt: skip
        self.events.append(CommittedEvent(self.section.id, seq, body))


def _record_op(ctx: WriteContext, status_code: int, response: object) -> None:
    """Remember an applied operation and its answer, so that a replay returns the same."""
    ctx.session.add(
        Op(
            op_id=ctx.op_id,
            section_id=ctx.section.id,
            user_name=ctx.actor.user,
            status_code=status_code,
            response=response,
            created_at=ctx.now,
        )
    )


def _notify(session: Session, payload: str) -> None:
    """Queue the PostgreSQL wake-up for the stream listeners (sent on commit)."""
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": NOTIFY_CHANNEL, "payload": payload},
    )


def notify_payload(section_id: str, seq: int, instance_id: str = "") -> str:
    """The NOTIFY payload ``section<TAB>seq<TAB>instance``.

    The writing process hands its own events to its hub directly, so its listener skips
    payloads that carry its own instance id (bulk writes carry none: all processes read).
    """
    return f"{section_id}\t{seq}\t{instance_id}"


def audit(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    *,
    section_id: str | None = None,
    seq: int | None = None,
    op_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one row to the audit log (in the caller's transaction)."""
    session.add(
        AuditEntry(
            at=at or utcnow(),
            user_name=actor.user,
            role=actor.role,
            device=actor.device,
            action=action,
            section_id=section_id,
            entity=entity,
            entity_id=entity_id,
            seq=seq,
            op_id=op_id,
            detail=detail or {},
        )
    )


def lock_section(session: Session, section_id: str) -> Section:
    """Lock and return the section's counter row (``FOR UPDATE``; SQLite: already locked)."""
    stmt = select(Section).where(Section.id == section_id).with_for_update()
    section = session.execute(stmt).scalar_one_or_none()
    if section is None:
        raise NotFoundError(f"section {section_id!r} not found")
    return section


Operation = Callable[[WriteContext], tuple[int, dict[str, Any]]]


def apply_ops(db: Database, actor: Actor, section_id: str, ops: list[tuple[str, Operation]]) -> int:
    """Apply many new operations in one transaction (bulk import, benchmarks).

    Op ids already applied are skipped, as in `run_op`. Returns the section's newest
    sequence number. Nothing is published to streams: clients catch up from the table.
    """
    with db.write() as session:
        section = lock_section(session, section_id)
        for op_id, operation in ops:
            if session.get(Op, op_id) is not None:
                continue
            ctx = WriteContext(session, section, actor, op_id)
            _record_op(ctx, *operation(ctx))
        if db.postgres:
            _notify(session, notify_payload(section_id, section.last_seq))
        return section.last_seq


def run_op(
    db: Database, actor: Actor, section_id: str, op_id: str, operation: Operation
) -> OpResult:
    """Apply one client operation exactly once.

    Args:
        db: The database.
        actor: Who asks.
        section_id: The section whose counter the operation takes numbers from.
        op_id: The client's id of the operation.
        operation: Does the change through the `WriteContext`; returns the status code
            and the answer (JSON-able). A `StoreError` it raises rolls everything back.

    Returns:
        The answer; ``replayed`` is true when ``op_id`` had been applied before.

    Raises:
        NotFoundError: unknown section.
        DuplicateError: ``op_id`` was used by another user or in another section.
    """
    with db.write() as session:
        section = lock_section(session, section_id)
        done = session.get(Op, op_id)
        if done is not None:
            if done.user_name != actor.user or done.section_id != section_id:
                raise DuplicateError(f"op_id {op_id!r} was already used for another change")
            return OpResult(done.status_code, done.response, replayed=True)
        ctx = WriteContext(session, section, actor, op_id)
        status_code, response = operation(ctx)
        _record_op(ctx, status_code, response)
        if db.postgres and ctx.events:
            _notify(session, notify_payload(section_id, section.last_seq, db.instance_id))
    return OpResult(status_code, response, ctx.events)
