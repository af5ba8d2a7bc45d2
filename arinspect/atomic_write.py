"""Writing files atomically: readers see the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from arinspect.errors import DataFormatError


def write_atomic(path: str | Path, data: bytes, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it and one rename.

    Args:
        path: The file; its folder is created.
        data: The bytes.
        durable: Also flush the file and its folder to disk (the write survives a crash),
            for state that is acknowledged to others (the offline queue).

    Returns:
        The path.

    Raises:
        DataFormatError: the file cannot be written (the message names it and why).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                if durable:
                    stream.flush()
                    os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if durable:
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
    except OSError as exc:
        raise DataFormatError(path, f"cannot write ({exc.strerror or exc})") from exc
    return path
