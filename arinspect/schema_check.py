"""Checking JSON documents against the JSON Schemas bundled in ``arinspect/schemas``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from arinspect.errors import DataFormatError
from arinspect.resources import schema_path


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of a bundled schema, e.g. ``validator("section")``."""
    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def field_name(path: Any) -> str:
    """A JSON path as people read it: ``parts[3].T_section_part``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def check_document(doc: Any, name: str, path: str | Path) -> None:
    """Raise DataFormatError (file, field, message) for the most relevant schema violation."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(doc))
    if error is not None:
        raise DataFormatError(path, error.message[:200], field_name(error.absolute_path))
