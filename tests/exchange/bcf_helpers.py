"""Paths and checks shared by the BCF tests (official data: tests/data/bcf/SOURCES.md)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import xmlschema

BCF_DATA = Path(__file__).parents[1] / "data" / "bcf"
CASES = sorted((BCF_DATA / "test_cases_v3.0").glob("*/*.bcf"))
XSD_V3 = Path(__file__).parents[2] / "arinspect" / "exchange" / "bcf" / "xsd"
ROOTS = {
    "markup.bcf": "markup.xsd",
    "bcf.version": "version.xsd",
    "extensions.xml": "extensions.xsd",
    "project.bcfp": "project.xsd",
    "documents.xml": "documents.xsd",
}


def case(name: str) -> Path:
    """The archive of the official test case folder ``name``."""
    return next(p for p in CASES if p.parent.name == name)


def assert_valid_v3(data: bytes) -> list[str]:
    """Validate every XML entry of an archive against the BCF 3.0 XSDs; its entry names."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        for name in names:
            leaf = name.rsplit("/", 1)[-1]
            xsd = "visinfo.xsd" if leaf.endswith(".bcfv") else ROOTS.get(leaf)
            if xsd is not None:
                xmlschema.XMLSchema10(str(XSD_V3 / xsd)).validate(io.BytesIO(archive.read(name)))
    return names
