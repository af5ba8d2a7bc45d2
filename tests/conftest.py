"""Shared fixtures: the bundled sample section, generated sections and recorded frames."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from arinspect.cad.section import Section, load_section
from arinspect.markers import marker_corners_marker
from arinspect.recording.bop import Recording
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


@pytest.fixture
def markers_hidden(tmp_path: Path, fixtures_dir: Path) -> Callable[..., Path]:
    """Copies of the ``walk_depth`` fixture whose first frames show none of its markers.

    Call with the number of frames to hide the markers in and whether to keep the depth.
    """

    def copy(frames: int, depth: bool = True) -> Path:
        folder = tmp_path / f"walk-{frames}-hidden{'-depth' if depth else ''}"
        ignore = None if depth else shutil.ignore_patterns("depth")
        shutil.copytree(fixtures_dir / "walk_depth", folder, ignore=ignore)
        meta_path = folder / "recording.json"
        meta = json.loads(meta_path.read_text())
        meta["section"] = str(SAMPLE_SECTION_DIR)
        meta_path.write_text(json.dumps(meta))
        recording = Recording(folder)
        section = load_section(recording.section_folder)
        for im_id in recording.frame_ids[:frames]:
            image = recording.bgr(im_id)
            T_cam_section = recording.T_cam_section(im_id)
            for marker in section.markers:
                uv, z = recording.camera.project(
                    T_cam_section @ marker.T_section_marker,
                    marker_corners_marker(marker.size_m * 1.3),
                )
                if np.all(z > 0):
                    cv2.fillConvexPoly(image, np.round(uv).astype(np.int32), (110, 110, 110))
            cv2.imwrite(str(folder / "rgb" / f"{im_id:06d}.png"), image)
        return folder

    return copy
