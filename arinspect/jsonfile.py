"""Reading JSON files with errors that name the file and the place of the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arinspect.errors import DataFormatError


def read_json(path: str | Path, not_found: str = "file not found") -> Any:
    """The decoded JSON document in ``path``.

    Args:
        path: The file.
        not_found: Message when the file does not exist.

    Raises:
        DataFormatError: missing, not UTF-8, or malformed JSON (with line and column).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, not_found)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            path, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
