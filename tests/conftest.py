"""Shared fixtures: the bundled sample section, generated sections and recorded frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from arinspect.cad.section import Section, load_section
from arinspect.resources import SAMPLE_SECTION_DIR

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def sample_section() -> Section:
    return load_section(SAMPLE_SECTION_DIR)


@pytest.fixture(scope="session")
def generated_section_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A section generated from a seed other than the sample's, written once per session."""
    from arinspect.cad.generator import generate_section

    folder = tmp_path_factory.mktemp("generated") / "block-5"
    generate_section(5, folder)
    return folder


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
