"""Factories for sync-server tests: tokens, sections, annotation bodies, op ids."""

from __future__ import annotations

import uuid
from typing import Any

from arinspect_server.db.engine import Database
from arinspect_server.services.auth import create_token
from arinspect_server.services.context import Actor

ADMIN = Actor("cli:test", "admin", "pytest")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40


def new_op() -> str:
    return str(uuid.uuid4())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_tokens(db_url: str) -> dict[str, str]:
    """One token per role (users wim/worker, quinn/qa, eve/engineer) plus a second worker."""
    db = Database(db_url)
    db.migrate()
    try:
        return {
            "worker": create_token(db, ADMIN, "wim", "worker", "hl2-07"),
            "worker2": create_token(db, ADMIN, "wanda", "worker", "hl2-08"),
            "qa": create_token(db, ADMIN, "quinn", "qa", "desk-1"),
            "engineer": create_token(db, ADMIN, "eve", "engineer", "desk-2"),
        }
    finally:
        db.dispose()


def anchor(**over: Any) -> dict[str, Any]:
    """An anchor 1 m along x on a part displaced by (1, 0, 0) in the section."""
    data = {
        "point_section": [2.0, 0.5, 0.1],
        "normal_section": [0.0, 0.0, 1.0],
        "T_section_part": [[1, 0, 0, 1.0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    }
    data.update(over)
    return data


def viewpoint() -> dict[str, Any]:
    return {
        "T_section_cam": [[1, 0, 0, 2.0], [0, -1, 0, 0.5], [0, 0, -1, 1.5], [0, 0, 0, 1]],
        "intrinsics": {
            "K": [[600, 0, 319.5], [0, 600, 239.5], [0, 0, 1]],
            "image_size_wh": [640, 480],
        },
    }


def annotation_body(**over: Any) -> dict[str, Any]:
    body = {
        "op_id": new_op(),
        "part_id": "COL-F1-L2",
        "kind": "defect",
        "title": "collar plate missing",
        "anchor": anchor(),
    }
    body.update(over)
    return body
