import json
import shutil
from pathlib import Path

import pytest

from arinspect.cad.validate import validate_section
from arinspect.resources import SAMPLE_SECTION_DIR


@pytest.fixture
def section_copy(tmp_path) -> Path:
    folder = tmp_path / "section"
    shutil.copytree(SAMPLE_SECTION_DIR, folder)
    return folder


def edit(folder: Path, change) -> None:
    path = folder / "section.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def errors(folder: Path) -> dict[str, str]:
    return {p.field: p.message for p in validate_section(folder) if p.severity == "error"}


def test_the_bundled_sample_is_valid():
    assert validate_section(SAMPLE_SECTION_DIR) == []


def test_every_kind_of_problem_is_reported_with_its_field(section_copy):
    def break_it(doc):
        doc["parts"][0]["mesh"] = "meshes/parts/gone.ply"
        doc["parts"][1]["class"] = "teapot"
        doc["parts"][2]["T_section_part"][0][0] = 2.0  # scaled: not rigid
        doc["parts"][3]["id"] = doc["parts"][4]["id"]
        doc["markers"][0]["id"] = 250  # DICT_5X5_250 has ids 0..249
        doc["markers"][1]["family"] = "DICT_9X9_1"
        doc["markers"][2]["T_section_marker"][3] = [0, 0, 1, 1]
        doc["parts"][5]["mounted_on"] = "F99"
        del doc["parts"][6]["tolerance_mm"]

    edit(section_copy, break_it)
    found = errors(section_copy)
    assert "file not found" in found["parts[0].mesh"] and "gone.ply" in found["parts[0].mesh"]
    assert "unknown class 'teapot'" in found["parts[1].class"]
    assert "not a rigid transform" in found["parts[2].T_section_part"]
    assert "duplicate id" in found["parts[4].id"]
    assert "outside DICT_5X5_250 (0..249)" in found["markers[0].id"]
    assert "unknown marker family" in found["markers[1].family"]
    assert "not a rigid transform" in found["markers[2].T_section_marker"]
    assert "no structure element 'F99'" in found["parts[5].mounted_on"]
    assert "'tolerance_mm' is a required property" in found["parts[6]"]
    assert all(
        p.file == section_copy / "section.json" for p in validate_section(section_copy) if p.field
    )


def test_wrong_units_and_shapes_are_schema_errors(section_copy):
    def break_it(doc):
        doc["units"] = "mm"
        doc["structure"][0]["T_section_part"] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]

    edit(section_copy, break_it)
    found = errors(section_copy)
    assert "units" in found
    assert "structure[0].T_section_part" in found


def test_malformed_json_reports_line_and_column(section_copy):
    (section_copy / "section.json").write_text('{"name": "x",\n  "units": "m",,\n}')
    (problem,) = validate_section(section_copy)
    assert problem.file == section_copy / "section.json"
    assert "line 2 column" in problem.message


def test_unreadable_mesh_and_missing_folder(section_copy, tmp_path):
    (section_copy / "meshes" / "parts" / "collar_plate.ply").write_bytes(b"ply\nformat garbage\n")
    found = errors(section_copy)
    assert any("cannot be read as a mesh" in m or "holds no triangles" in m for m in found.values())
    (problem,) = validate_section(tmp_path / "nowhere")
    assert "section folder not found" in problem.message


def test_too_few_control_markers_is_a_warning_not_an_error(section_copy):
    edit(section_copy, lambda doc: [m.update(control=False) for m in doc["markers"]])
    problems = validate_section(section_copy)
    assert [p.severity for p in problems] == ["warning"]
    assert "0 control marker(s)" in problems[0].message


def test_mesh_paths_must_be_relative_and_should_stay_inside(section_copy, tmp_path):
    outside = tmp_path / "shared_meshes"
    outside.mkdir()
    (outside / "plate.ply").write_bytes(
        (section_copy / "meshes/structure/shell_plate.ply").read_bytes()
    )

    def break_it(doc):
        doc["structure"][0]["mesh"] = str(section_copy / "meshes/structure/shell_plate.ply")
        doc["structure"][1]["mesh"] = "../shared_meshes/plate.ply"

    edit(section_copy, break_it)
    problems = {p.field: p for p in validate_section(section_copy)}
    assert problems["structure[0].mesh"].severity == "error"
    assert "relative to the section folder" in problems["structure[0].mesh"].message
    assert problems["structure[1].mesh"].severity == "warning"
