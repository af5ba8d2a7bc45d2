"""Sections, the REST event log, conflicts, audit log, and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from arinspect_server import __version__
from arinspect_server.deps import AnyUser, DbDep, Engineer, Reviewer
from arinspect_server.schemas import ConflictPublic, SectionCreate
from arinspect_server.services import annotations, sections
from arinspect_server.services.workflow import RANK, TRANSITIONS

router = APIRouter(prefix="/api", tags=["sections"])


@router.get("/health", tags=["health"])
def health(db: DbDep) -> dict[str, Any]:
    """Liveness (no token needed): version and database backend."""
    return {"status": "ok", "version": __version__, "database": db.engine.dialect.name}


@router.get("/me")
def me(actor: AnyUser) -> dict[str, str]:
    """The caller's user, role and device."""
    return {"user": actor.user, "role": actor.role, "device": actor.device}


@router.get("/workflow")
def workflow(_: AnyUser) -> dict[str, Any]:
    """The status workflow: for each status, the next statuses and the roles allowed."""
    return {
        "transitions": {
            current: {new: sorted(roles) for new, roles in steps.items()}
            for current, steps in TRANSITIONS.items()
        },
        "rank": RANK,
    }


@router.post("/sections", status_code=201)
def create_section(body: SectionCreate, actor: Engineer, db: DbDep) -> JSONResponse:
    """Register a section (engineer). Repeating an identical request answers 200."""
    created, section = sections.create_section(db, actor, body)
    return JSONResponse(section, 201 if created else 200)


@router.get("/sections")
def list_sections(_: AnyUser, db: DbDep) -> list[dict[str, Any]]:
    """Every section with its newest sequence number (``head_seq``)."""
    return sections.list_sections(db)


@router.get("/sections/{section_id}")
def get_section(section_id: str, _: AnyUser, db: DbDep) -> dict[str, Any]:
    """One section."""
    return sections.get_section(db, section_id)


@router.get("/sections/{section_id}/events")
def list_events(
    section_id: str,
    _: AnyUser,
    db: DbDep,
    since: Annotated[int, Query(ge=0, description="last sequence number the client has")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """Events after ``since`` in order (the stream's catch-up, over plain HTTP)."""
    head = sections.get_section(db, section_id)["head_seq"]
    rows = sections.event_bodies(db, section_id, since, limit)
    events = ",".join(body for _, body in rows)
    body = f'{{"head_seq":{head},"events":[{events}]}}'
    return Response(content=body, media_type="application/json")


@router.get("/sections/{section_id}/conflicts")
def list_conflicts(
    section_id: str, _: AnyUser, db: DbDep, annotation_id: str | None = None
) -> list[ConflictPublic]:
    """Conflict records of the section (or of one annotation), oldest first."""
    return annotations.list_conflicts(db, section_id, annotation_id)


@router.get("/audit")
def audit_log(
    _: Reviewer,
    db: DbDep,
    section_id: str | None = None,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The append-only audit log (QA and engineers): who, when, what, which device."""
    return sections.audit_entries(db, section_id=section_id, after_id=after_id, limit=limit)
