"""Helpers of the replay tests: a live server with a registered section, truth pixels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import httpx
import numpy as np

from arinspect.recording.bop import Recording
from arinspect_server.config import sqlite_url
from tests.server.live_server import ServerProcess
from tests.server.sync_factories import auth, make_tokens

SECTION_ID = "block-2"  # the bundled sample section's name


@contextmanager
def live_section(folder: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """``arinspect serve`` on loopback (SQLite in ``folder``) with section block-2 registered."""
    db_url = sqlite_url(folder / "sync.db")
    tokens = make_tokens(db_url)
    with ServerProcess(db_url) as server:
        answer = httpx.post(
            server.url + "/api/sections",
            json={"id": SECTION_ID, "name": "Block 2"},
            headers=auth(tokens["engineer"]),
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        yield server, tokens


def get(server: ServerProcess, token: str, path: str, **params) -> object:
    answer = httpx.get(server.url + path, params=params, headers=auth(token), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def labels_of(recording: Recording) -> dict[int, dict]:
    return {entry["index"]: entry for entry in recording.meta["labels"]}


def interior_pixel(recording: Recording, im_id: int, kind: str, skip: set[str] = frozenset()):
    """(u, v, id) deep inside the largest element of ``kind`` in the truth label map."""
    label_map = recording.label_map(im_id)
    labels = labels_of(recording)
    best = None
    for index, entry in labels.items():
        if entry["kind"] != kind or entry["id"] in skip:
            continue
        mask = cv2.erode((label_map == index).astype(np.uint8), np.ones((7, 7), np.uint8))
        if best is None or mask.sum() > best[1].sum():
            best = (entry["id"], mask)
    element_id, mask = best
    rows, cols = np.nonzero(mask)
    k = np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2)
    return float(cols[k]), float(rows[k]), element_id


def write_script(path: Path, steps: list[dict]) -> Path:
    path.write_text(json.dumps({"schema_version": 1, "steps": steps}))
    return path
