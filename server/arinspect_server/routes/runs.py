"""Inspection runs (uploaded report.json) and their findings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from arinspect_server.deps import AnyUser, DbDep, HubDep, SettingsDep
from arinspect_server.errors import UnsupportedMediaTypeError
from arinspect_server.routes.annotations import WRITE, read_upload
from arinspect_server.routes.common import op_response
from arinspect_server.schemas import OpId
from arinspect_server.services import files

router = APIRouter(prefix="/api", tags=["runs"])
JSON_TYPES = {"application/json", "text/json"}


@router.post("/sections/{section_id}/runs", status_code=201, responses={201: WRITE})
def upload_run(
    section_id: str,
    op_id: Annotated[OpId, Form()],
    file: Annotated[UploadFile, File(description="report.json of an inspection run")],
    actor: AnyUser,
    db: DbDep,
    hub: HubDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Upload an inspection report; parts not ``present`` become findings."""
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaTypeError(f"a report must be application/json, got {content_type!r}")
    data = read_upload(file, settings.max_upload_bytes)
    result = files.add_run(db, actor, section_id, op_id, file.filename or "", data)
    return op_response(result, hub)


@router.get("/sections/{section_id}/runs")
def list_runs(section_id: str, _: AnyUser, db: DbDep) -> list[dict[str, Any]]:
    """Runs of a section, oldest first (summaries only)."""
    return files.list_runs(db, section_id)


@router.get("/sections/{section_id}/findings")
def list_findings(section_id: str, _: AnyUser, db: DbDep) -> list[dict[str, Any]]:
    """Findings of every run of the section."""
    return files.list_findings(db, section_id)


@router.get("/runs/{run_id}")
def get_run(run_id: str, _: AnyUser, db: DbDep) -> dict[str, Any]:
    """A run with its full report and findings."""
    return files.get_run(db, run_id)
