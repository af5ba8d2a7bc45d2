"""Section models: the GLB of a section's CAD that the QA viewer renders.

An engineer uploads the GLB that ``arinspect export gltf`` writes (section frame,
metres, one node per part named by its part id). The server checks that it is a
well-formed binary glTF 2.0 container before storing it, keeps one model per section
(a new upload replaces the old one) and announces the change on the section's stream.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

from arinspect_server.db.engine import Database
from arinspect_server.db.models import SectionModel
from arinspect_server.errors import InvalidInputError, NotFoundError
from arinspect_server.services.annotations import require_section
from arinspect_server.services.context import Actor, OpResult, WriteContext, iso, run_op
from arinspect_server.services.files import check_filename

GLB_MAGIC = b"glTF"
JSON_CHUNK = 0x4E4F534A


def check_glb(filename: str, data: bytes) -> dict[str, Any]:
    """Check the GLB container (header, lengths, JSON chunk); returns the glTF JSON.

    Raises:
        InvalidInputError: not GLB 2.0, a length that does not match, or a JSON chunk
            that is missing, not JSON, or not glTF 2.x.
    """
    if len(data) < 20 or data[:4] != GLB_MAGIC:
        raise InvalidInputError(f"{filename}: not a binary glTF (GLB) file")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise InvalidInputError(f"{filename}: GLB version {version}, expected 2")
    if length != len(data):
        raise InvalidInputError(f"{filename}: header says {length} bytes, file has {len(data)}")
    chunk_length, chunk_type = struct.unpack_from("<II", data, 12)
    if chunk_type != JSON_CHUNK or 20 + chunk_length > len(data):
        raise InvalidInputError(f"{filename}: the first chunk must be the glTF JSON")
    try:
        gltf = json.loads(data[20 : 20 + chunk_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{filename}: the JSON chunk is not valid JSON ({exc})") from exc
    asset_version = str(gltf.get("asset", {}).get("version", "")) if isinstance(gltf, dict) else ""
    if not asset_version.startswith("2."):
        raise InvalidInputError(f"{filename}: asset.version {asset_version!r}, expected 2.x")
    return gltf


def model_dict(model: SectionModel) -> dict[str, Any]:
    """Public JSON form of a section model (without its bytes)."""
    return {"section_id": model.section_id, "filename": model.filename,
            "sha256": model.sha256, "size_bytes": model.size_bytes,
            "uploaded_by": model.uploaded_by, "created_at": iso(model.created_at),
            "seq": model.seq}  # fmt: skip


def put_model(
    db: Database, actor: Actor, section_id: str, op_id: str, filename: str, data: bytes
) -> OpResult:
    """Store (or replace) the section's GLB; emits ``model.uploaded``."""
    check_filename(filename)
    gltf = check_glb(filename, data)
    nodes = len(gltf.get("nodes", []))

    def operation(ctx: WriteContext) -> tuple[int, dict[str, Any]]:
        seq = ctx.next_seq()
        model = ctx.session.get(SectionModel, section_id)
        if model is None:
            model = SectionModel(section_id=section_id)
            ctx.session.add(model)
        model.filename, model.data, model.size_bytes = filename, data, len(data)
        model.sha256 = hashlib.sha256(data).hexdigest()
        model.uploaded_by, model.created_at, model.seq = ctx.actor.user, ctx.now, seq
        record = model_dict(model) | {"nodes": nodes}
        ctx.emit("model", section_id, "uploaded", record, seq)
        return 201, {"op_id": op_id, "seqs": [seq], "data": record, "conflicts": []}

    return run_op(db, actor, section_id, op_id, operation)


def get_model(db: Database, section_id: str) -> tuple[dict[str, Any], bytes]:
    """The section's model metadata and GLB bytes.

    Raises:
        NotFoundError: unknown section, or no model uploaded yet.
    """
    with db.read() as session:
        require_section(session, section_id)
        model = session.get(SectionModel, section_id)
        if model is None:
            raise NotFoundError(
                f"section {section_id!r} has no model yet: upload one with "
                "POST /api/sections/{section_id}/model (arinspect export gltf writes it)"
            )
        return model_dict(model), bytes(model.data)
