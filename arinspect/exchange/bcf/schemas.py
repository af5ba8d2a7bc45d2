"""The official BCF 3.0 XSDs shipped in ``xsd/`` and validation against them."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import xmlschema

from arinspect.exchange.bcf.errors import BcfError

XSD_DIR = Path(__file__).resolve().parent / "xsd"
ROOT_SCHEMAS = {
    "Markup": "markup.xsd",
    "VisualizationInfo": "visinfo.xsd",
    "Extensions": "extensions.xsd",
    "ProjectInfo": "project.xsd",
    "DocumentInfo": "documents.xsd",
    "Version": "version.xsd",
}


@cache
def schema(filename: str) -> xmlschema.XMLSchema10:
    """The compiled schema of one XSD file of ``xsd/`` (loaded once per process)."""
    return xmlschema.XMLSchema10(str(XSD_DIR / filename))


def validate(data: bytes, root: str, where: str, entry: str) -> None:
    """Validate one XML document whose root element is ``root`` against its BCF 3.0 XSD.

    Raises:
        BcfError: the document does not validate (message: the first reason and path).
    """
    error = next(iter(schema(ROOT_SCHEMAS[root]).iter_errors(io.BytesIO(data))), None)
    if error is not None:
        raise BcfError(where, f"not valid BCF 3.0 ({error.reason} at {error.path})", entry)
