"""FastAPI dependencies: settings, database, hub, and the authenticated actor by role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from arinspect_server.config import Settings, get_settings
from arinspect_server.db.engine import Database
from arinspect_server.errors import ForbiddenError
from arinspect_server.services.auth import authenticate
from arinspect_server.services.context import Actor
from arinspect_server.stream import Hub

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_db(request: Request) -> Database:
    """The app's database (opened in the lifespan)."""
    return request.app.state.db


def get_hub(request: Request) -> Hub:
    """The app's stream hub."""
    return request.app.state.hub


DbDep = Annotated[Database, Depends(get_db)]
HubDep = Annotated[Hub, Depends(get_hub)]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def get_actor(request: Request, db: DbDep) -> Actor:
    """The caller, from the bearer token (401 without a valid one)."""
    return authenticate(db, bearer_token(request.headers.get("authorization")))


def require_roles(*roles: str):  # noqa: ANN201
    """A dependency that admits only callers with one of ``roles`` (403 otherwise)."""

    def check(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        if actor.role not in roles:
            raise ForbiddenError(f"role {actor.role} may not do this; needs {' or '.join(roles)}")
        return actor

    return check


AnyUser = Annotated[Actor, Depends(require_roles("worker", "qa", "engineer"))]
Reviewer = Annotated[Actor, Depends(require_roles("qa", "engineer"))]
Engineer = Annotated[Actor, Depends(require_roles("engineer"))]
