"""BCF exchange of a section: download all annotations as BCF 3.0, upload BCF 2.1/3.0."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse, Response

from arinspect_server.deps import AnyUser, DbDep, HubDep, Reviewer, SettingsDep
from arinspect_server.routes.annotations import read_upload
from arinspect_server.routes.common import op_response
from arinspect_server.schemas import WriteResult
from arinspect_server.services import bcf

router = APIRouter(prefix="/api", tags=["bcf"])
BASE = "/sections/{section_id}/bcf"


@router.get(BASE, response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the BCF 3.0 archive"}})  # fmt: skip
def export_bcf(section_id: str, _: AnyUser, db: DbDep) -> Response:
    """The section's annotations as a BCF 3.0 archive (``SECTION.bcf``)."""
    data = bcf.export_section(db, section_id)
    disposition = f'attachment; filename="{section_id}.bcf"'
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": disposition})  # fmt: skip


@router.post(BASE, responses={200: {"model": WriteResult}, 201: {"model": WriteResult}})
def import_bcf(
    section_id: str,
    file: Annotated[UploadFile, File(description="a BCF 2.1 or 3.0 archive (.bcf, .bcfzip)")],
    actor: Reviewer,
    db: DbDep,
    hub: HubDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Import a BCF archive (QA or engineer; multipart/form-data, field ``file``).

    New topics become annotations (with comments and snapshots); topics whose Guid is
    stored already are skipped, their new comments added. Uploading the same archive
    again changes nothing (the op id is derived from the bytes). 201 when something was
    added, 200 otherwise; 422 with the entry named for an unsafe or malformed archive.
    """
    data = read_upload(file, settings.max_upload_bytes)
    result = bcf.import_archive(db, actor, section_id, data, file.filename or "upload.bcf")
    return op_response(result, hub)
