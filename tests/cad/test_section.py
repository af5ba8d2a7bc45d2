import json
import shutil

import numpy as np
import pytest

from arinspect.cad.section import load_section, save_section
from arinspect.errors import DataFormatError
from arinspect.resources import SAMPLE_SECTION_DIR


def test_sample_section_loads_with_its_parts_markers_and_meshes(sample_section):
    assert sample_section.name == "block-2"
    assert 30 <= len(sample_section.parts) <= 80
    assert 6 <= len(sample_section.markers) <= 12
    assert sum(m.control for m in sample_section.markers) >= 3
    part = sample_section.parts[0]
    assert sample_section.part(part.id) is part
    assert len(sample_section.mesh(part).faces) > 0
    with pytest.raises(KeyError, match="no part 'NOPE'"):
        sample_section.part("NOPE")
    ids = [e.id for e in sample_section.elements()]
    assert ids[: len(sample_section.structure)] == [s.id for s in sample_section.structure]


def test_save_then_load_roundtrips_every_field(tmp_path, sample_section):
    shutil.copytree(SAMPLE_SECTION_DIR / "meshes", tmp_path / "meshes")
    save_section(sample_section, tmp_path)
    reloaded = load_section(tmp_path)
    assert reloaded.to_dict() == sample_section.to_dict()
    assert reloaded.parts[3].tolerance_mm == sample_section.parts[3].tolerance_mm
    np.testing.assert_array_equal(
        reloaded.markers[0].T_section_marker, sample_section.markers[0].T_section_marker
    )


def test_arrays_of_a_loaded_section_are_read_only(sample_section):
    with pytest.raises(ValueError):
        sample_section.parts[0].T_section_part[0, 3] = 1.0


def test_load_refuses_a_broken_section_listing_every_problem(tmp_path):
    shutil.copytree(SAMPLE_SECTION_DIR, tmp_path / "s")
    doc = json.loads((tmp_path / "s" / "section.json").read_text())
    doc["parts"][0]["class"] = "teapot"
    doc["parts"][1]["mesh"] = "meshes/parts/missing.ply"
    (tmp_path / "s" / "section.json").write_text(json.dumps(doc))
    with pytest.raises(DataFormatError) as info:
        load_section(tmp_path / "s")
    message = str(info.value)
    assert "2 problem(s)" in message
    assert "parts[0].class" in message and "parts[1].mesh" in message
