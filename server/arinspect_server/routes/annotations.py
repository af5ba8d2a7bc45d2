"""Annotations, comments and attachments of a section."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from arinspect_server.deps import AnyUser, DbDep, HubDep, SettingsDep
from arinspect_server.errors import PayloadTooLargeError
from arinspect_server.routes.common import op_response
from arinspect_server.schemas import (
    AnnotationCreate,
    AnnotationPublic,
    AnnotationUpdate,
    AttachmentKind,
    CommentCreate,
    Kind,
    OpId,
    Status,
    WriteResult,
)
from arinspect_server.services import annotations, files

router = APIRouter(prefix="/api", tags=["annotations"])
BASE = "/sections/{section_id}/annotations"
WRITE = {"model": WriteResult, "description": "the change, its sequence numbers, conflicts"}


@router.post(BASE, status_code=201, responses={201: WRITE})
def create_annotation(
    section_id: str, body: AnnotationCreate, actor: AnyUser, db: DbDep, hub: HubDep
) -> JSONResponse:
    """Create an annotation (status ``open``). A retry with the same ``op_id`` is a no-op."""
    return op_response(annotations.create_annotation(db, actor, section_id, body), hub)


@router.get(BASE)
def list_annotations(
    section_id: str,
    _: AnyUser,
    db: DbDep,
    status: Status | None = None,
    kind: Kind | None = None,
    part_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[AnnotationPublic]:
    """Annotations of the section, optionally filtered by status, kind or part."""
    return annotations.list_annotations(db, section_id, status=status, kind=kind, part_id=part_id)


@router.get(BASE + "/{annotation_id}")
def get_annotation(section_id: str, annotation_id: str, _: AnyUser, db: DbDep) -> dict[str, Any]:
    """One annotation with its comments."""
    return annotations.get_annotation(db, section_id, annotation_id)


@router.patch(BASE + "/{annotation_id}", responses={200: WRITE})
def update_annotation(
    section_id: str, annotation_id: str, body: AnnotationUpdate, actor: AnyUser, db: DbDep,
    hub: HubDep,
) -> JSONResponse:  # fmt: skip
    """Change fields on top of ``base_version``; concurrent edits follow the role-aware rule.

    A field changed by someone else since ``base_version`` is a conflict: an author of
    equal or higher rank (QA > worker, engineer) wins as the later write, a lower one
    loses; either way a conflict record is stored and streamed.
    """
    result = annotations.update_annotation(db, actor, section_id, annotation_id, body)
    return op_response(result, hub)


@router.get(BASE + "/{annotation_id}/history")
def annotation_history(section_id: str, annotation_id: str, _: AnyUser, db: DbDep) -> Response:
    """Events of the annotation and of its comments, attachments and conflicts, in order."""
    body = annotations.annotation_history(db, section_id, annotation_id)
    return Response(content=body, media_type="application/json")


@router.get(BASE + "/{annotation_id}/comments")
def list_comments(
    section_id: str, annotation_id: str, _: AnyUser, db: DbDep
) -> list[dict[str, Any]]:
    """Comments of an annotation, oldest first."""
    return annotations.list_comments(db, section_id, annotation_id)


@router.post(BASE + "/{annotation_id}/comments", status_code=201, responses={201: WRITE})
def add_comment(
    section_id: str, annotation_id: str, body: CommentCreate, actor: AnyUser, db: DbDep,
    hub: HubDep,
) -> JSONResponse:  # fmt: skip
    """Comment on an annotation (BCF comment, optional viewpoint)."""
    return op_response(annotations.add_comment(db, actor, section_id, annotation_id, body), hub)


@router.get(BASE + "/{annotation_id}/attachments")
def list_attachments(
    section_id: str, annotation_id: str, _: AnyUser, db: DbDep
) -> list[dict[str, Any]]:
    """Attachments of an annotation (metadata; bytes at ``/api/attachments/{id}``)."""
    return files.list_attachments(db, section_id, annotation_id)


@router.post(BASE + "/{annotation_id}/attachments", status_code=201, responses={201: WRITE})
def add_attachment(
    section_id: str,
    annotation_id: str,
    op_id: Annotated[OpId, Form()],
    kind: Annotated[
        AttachmentKind, Form(description="snapshot (PNG/JPEG) or voice (WAV/Ogg/WebM)")
    ],
    file: Annotated[UploadFile, File()],
    actor: AnyUser,
    db: DbDep,
    hub: HubDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Upload a snapshot image or a voice note (multipart/form-data)."""
    data = read_upload(file, settings.max_upload_bytes)
    result = files.add_attachment(
        db, actor, section_id, annotation_id, op_id, kind=kind,
        filename=file.filename or "", content_type=file.content_type or "", data=data,
    )  # fmt: skip
    return op_response(result, hub)


@router.get("/attachments/{attachment_id}", response_class=Response)
def get_attachment(attachment_id: str, _: AnyUser, db: DbDep) -> Response:
    """The bytes of an attachment, with its content type."""
    meta, data = files.get_attachment(db, attachment_id)
    disposition = f'attachment; filename="{meta["filename"]}"'
    return Response(data, media_type=meta["content_type"],
                    headers={"content-disposition": disposition})  # fmt: skip


def read_upload(file: UploadFile, limit: int) -> bytes:
    """The bytes of an uploaded file, refusing more than ``limit``."""
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"upload exceeds the limit of {limit} bytes")
    return data
