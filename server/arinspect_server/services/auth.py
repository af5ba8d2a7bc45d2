"""Users and bearer tokens: create, revoke, authenticate. Only token hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select

from arinspect_server.db.engine import Database
from arinspect_server.db.models import Token, User, utcnow
from arinspect_server.errors import DuplicateError, InvalidInputError, NotAuthenticatedError
from arinspect_server.services.context import Actor, audit, iso

ROLES = ("worker", "qa", "engineer")
TOKEN_PREFIX = "ari_"


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (what the database keeps)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, admin: Actor, user: str, role: str, device: str = "default") -> str:
    """Make a token for ``user`` on ``device``; the user is created on first use.

    Returns:
        The token (shown once; the database keeps only its hash).

    Raises:
        InvalidInputError: unknown role or bad name.
        DuplicateError: the user exists with another role.
    """
    if role not in ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    for label, value in (("user", user), ("device", device)):
        if not value or len(value) > 64 or not all(c.isalnum() or c in "._@-" for c in value):
            raise InvalidInputError(f"{label} must be 1-64 letters, digits or ._@-, got {value!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        row = session.scalar(select(User).where(User.name == user))
        if row is None:
            row = User(name=user, role=role)
            session.add(row)
            session.flush()
            audit(session, admin, "user.created", "user", user, detail={"role": role})
        elif row.role != role:
            raise DuplicateError(f"user {user!r} exists with role {row.role}, not {role}")
        record = Token(user_id=row.id, device=device, token_hash=hash_token(token))
        session.add(record)
        session.flush()
        audit(session, admin, "token.created", "token", str(record.id),
              detail={"user": user, "role": role, "device": device})  # fmt: skip
    return token


def revoke_tokens(
    db: Database, admin: Actor, *, token: str | None = None, user: str | None = None,
    device: str | None = None,
) -> int:  # fmt: skip
    """Revoke one token, or every token of a user (on one device); returns how many."""
    if token is None and user is None:
        raise InvalidInputError("give a token or a user")
    with db.write() as session:
        stmt = select(Token).join(User).where(Token.revoked_at.is_(None))
        if token is not None:
            stmt = stmt.where(Token.token_hash == hash_token(token))
        if user is not None:
            stmt = stmt.where(User.name == user)
        if device is not None:
            stmt = stmt.where(Token.device == device)
        rows = list(session.scalars(stmt))
        for row in rows:
            row.revoked_at = utcnow()
            audit(
                session, admin, "token.revoked", "token", str(row.id), detail={"device": row.device}
            )
        return len(rows)


def list_tokens(db: Database) -> list[dict[str, Any]]:
    """Every token (without secrets): id, user, role, device, created, revoked."""
    with db.read() as session:
        rows = session.execute(select(Token, User).join(User).order_by(Token.id))
        return [
            {
                "id": t.id,
                "user": u.name,
                "role": u.role,
                "device": t.device,
                "created_at": iso(t.created_at),
                "revoked_at": iso(t.revoked_at) if t.revoked_at else None,
            }  # fmt: skip
            for t, u in rows
        ]


def authenticate(db: Database, token: str | None) -> Actor:
    """The actor of a bearer token.

    Raises:
        NotAuthenticatedError: no token, unknown token, revoked token.
    """
    if not token:
        raise NotAuthenticatedError("missing bearer token (Authorization: Bearer TOKEN)")
    with db.read() as session:
        row = session.execute(
            select(Token, User).join(User).where(Token.token_hash == hash_token(token))
        ).first()
    if row is None:
        raise NotAuthenticatedError("unknown token")
    record, user = row
    if record.revoked_at is not None:
        raise NotAuthenticatedError("token revoked")
    return Actor(user=user.name, role=user.role, device=record.device)
