"""The QA web viewer: the page at ``/``, its scripts, and three.js from the npm install.

three.js is installed by ``npm ci`` in ``arinspect_server/viewer`` (pinned in its
``package-lock.json``; ``scripts/install.sh`` runs it) and served from
``/vendor/three``; only its ``build`` and ``examples/jsm`` folders are exposed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)
VIEWER_DIR = Path(__file__).resolve().parent.parent / "viewer"
STATIC_DIR = VIEWER_DIR / "static"
THREE_DIR = VIEWER_DIR / "node_modules" / "three"


def mount_viewer(app: FastAPI) -> None:
    """Serve the viewer page at ``/`` and its assets under ``/viewer`` and ``/vendor/three``."""
    if not (THREE_DIR / "build" / "three.module.js").is_file():
        log.warning(
            "three.js is not installed in %s: the QA viewer cannot render "
            "(run `npm ci` there, or scripts/install.sh)", VIEWER_DIR,
        )  # fmt: skip

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})

    app.mount("/viewer", StaticFiles(directory=STATIC_DIR), name="viewer")
    for folder in ("build", "examples/jsm"):
        app.mount(f"/vendor/three/{folder}", StaticFiles(directory=THREE_DIR / folder,
                  check_dir=False), name=f"three-{folder}")  # fmt: skip
