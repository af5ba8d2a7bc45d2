"""Shared fixtures: the bundled sample section, generated sections and recorded frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from arinspect.cad.section import Section, load_section
from arinspect.geometry import pose_error
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


def assert_pose_close(
    T_est: np.ndarray, T_true: np.ndarray, trans_m: float, rot_deg: float
) -> None:
    """Per-quantity tolerance check of two transforms of the same frames."""
    dt, dr = pose_error(T_est, T_true)
    assert dt <= trans_m, f"translation off by {dt * 1000:.3f} mm (limit {trans_m * 1000:.3f} mm)"
    assert np.degrees(dr) <= rot_deg, (
        f"rotation off by {np.degrees(dr):.4f} deg (limit {rot_deg} deg)"
    )
