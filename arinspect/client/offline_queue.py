"""The offline queue: pending operations, rejected ones and stream positions, on disk.

Everything is kept in one folder; each file is replaced atomically (written beside,
flushed to disk, then renamed over the old one), so a crash leaves either the old or
the new state, never half a file. Attachment bytes are stored beside as their own files
until they are sent.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arinspect.atomic_write import write_atomic
from arinspect.errors import DataFormatError


def _read_json(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"unreadable queue file ({exc})") from exc


@dataclass
class QueuedOp:
    """One write waiting to be sent.

    Attributes:
        op_id: The client-generated id the server deduplicates on.
        method: ``POST`` or ``PATCH``.
        path: URL path under the server, e.g. ``/api/sections/S/annotations``.
        body: JSON body (or the form fields of an upload).
        upload: For uploads: ``{"filename", "content_type", "blob"}`` (blob = file in
            the queue folder holding the bytes).
        result: The server's answer once sent, or the error of a rejected op.
    """

    op_id: str
    method: str
    path: str
    body: dict[str, Any]
    upload: dict[str, str] | None = None
    result: dict[str, Any] | None = field(default=None)


class OfflineQueue:
    """Pending and rejected operations and per-section stream positions in ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "blobs").mkdir(exist_ok=True)
        self._pending = [QueuedOp(**op) for op in _read_json(self._file("pending"), [])]
        self._rejected = [QueuedOp(**op) for op in _read_json(self._file("rejected"), [])]
        self._positions: dict[str, int] = _read_json(self._file("positions"), {})

    def _file(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def _save(self, name: str) -> None:
        data: Any
        if name == "positions":
            data = self._positions
        else:
            data = [asdict(op) for op in (self._pending if name == "pending" else self._rejected)]
        write_atomic(
            self._file(name), json.dumps(data, separators=(",", ":")).encode(), durable=True
        )

    def add(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        blob: bytes | None = None,
        filename: str = "",
        content_type: str = "",
    ) -> QueuedOp:
        """Queue an operation (``body["op_id"]`` is set if missing) and persist the queue."""
        op_id = body.setdefault("op_id", str(uuid.uuid4()))
        upload = None
        if blob is not None:
            blob_path = self.folder / "blobs" / op_id
            blob_path.write_bytes(blob)
            with open(blob_path, "rb+") as handle:
                os.fsync(handle.fileno())
            upload = {"filename": filename, "content_type": content_type, "blob": op_id}
        op = QueuedOp(op_id, method, path, body, upload)
        self._pending.append(op)
        self._save("pending")
        return op

    def pending(self) -> list[QueuedOp]:
        """Operations not yet acknowledged, oldest first."""
        return list(self._pending)

    def rejected(self) -> list[QueuedOp]:
        """Operations the server refused (4xx), with its answer in ``result``."""
        return list(self._rejected)

    def blob(self, op: QueuedOp) -> bytes:
        """The bytes of an upload."""
        if op.upload is None:
            raise ValueError(f"op {op.op_id} has no upload")
        return (self.folder / "blobs" / op.upload["blob"]).read_bytes()

    def done(self, op_id: str) -> None:
        """Drop an acknowledged operation."""
        self._remove(op_id)
        self._save("pending")

    def reject(self, op_id: str, result: dict[str, Any]) -> None:
        """Move a refused operation to the rejected list, with the server's answer."""
        op = self._remove(op_id)
        if op is not None:
            op.result = result
            self._rejected.append(op)
            self._save("rejected")
        self._save("pending")

    def _remove(self, op_id: str) -> QueuedOp | None:
        for index, op in enumerate(self._pending):
            if op.op_id == op_id:
                del self._pending[index]
                if op.upload is not None:
                    (self.folder / "blobs" / op.upload["blob"]).unlink(missing_ok=True)
                return op
        return None

    def position(self, section_id: str) -> int:
        """The last sequence number received for a section (0: none)."""
        return int(self._positions.get(section_id, 0))

    def set_position(self, section_id: str, seq: int) -> None:
        """Store the last sequence number received (never moves backwards)."""
        if seq > self.position(section_id):
            self._positions[section_id] = seq
            self._save("positions")
