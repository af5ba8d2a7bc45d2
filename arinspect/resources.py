"""Where the data that ships with the repository lives (catalog, sample section, detector, schemas).

arinspect is installed in editable mode from its repository (README), so the data
folders sit beside the package: ``models/catalog``, ``models/sections/sample``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
SCHEMA_DIR = PACKAGE_DIR / "schemas"
CATALOG_DIR = REPO_ROOT / "models" / "catalog"
SAMPLE_SECTION_DIR = REPO_ROOT / "models" / "sections" / "sample"


def schema_path(name: str) -> Path:
    """Path of a bundled JSON Schema, e.g. ``schema_path("section")``."""
    return SCHEMA_DIR / f"{name}.schema.json"


DETECTOR_DIR = REPO_ROOT / "models" / "detector"
DETECTOR_MODEL = DETECTOR_DIR / "part_detector.onnx"
DETECTOR_FLOAT_MODEL = DETECTOR_DIR / "part_detector_float.onnx"
"""The trained detector in float, which `DETECTOR_MODEL` (int8) is quantised from."""
