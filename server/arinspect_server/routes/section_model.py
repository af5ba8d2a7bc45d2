"""The section's 3-D model (GLB) that the QA viewer renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from arinspect_server.deps import AnyUser, DbDep, Engineer, HubDep, SettingsDep
from arinspect_server.routes.annotations import WRITE, read_upload
from arinspect_server.routes.common import op_response
from arinspect_server.schemas import OpId
from arinspect_server.services import section_models

router = APIRouter(prefix="/api", tags=["sections"])
PATH = "/sections/{section_id}/model"


@router.post(PATH, status_code=201, responses={201: WRITE})
def upload_model(
    section_id: str,
    op_id: Annotated[OpId, Form()],
    file: Annotated[UploadFile, File(description="GLB written by `arinspect export gltf`")],
    actor: Engineer,
    db: DbDep,
    hub: HubDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Upload (or replace) the section's GLB (engineer); viewers reload it live."""
    data = read_upload(file, settings.max_upload_bytes)
    result = section_models.put_model(db, actor, section_id, op_id, file.filename or "", data)
    return op_response(result, hub)


@router.get(PATH, response_class=Response)
def get_model(section_id: str, _: AnyUser, db: DbDep) -> Response:
    """The section's GLB (``model/gltf-binary``); its sha256 is the ETag."""
    meta, data = section_models.get_model(db, section_id)
    return Response(data, media_type="model/gltf-binary",
                    headers={"etag": f'"{meta["sha256"]}"'})  # fmt: skip
