"""glTF export of a section: structure, colours, annotation nodes, and the Khronos validator."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import trimesh

from arinspect.atomic_write import write_atomic
from arinspect.errors import ArInspectError, DataFormatError
from arinspect.exchange.gltf import T_GLTF_SECTION, section_glb
from arinspect.exchange.inspection_status import read_report, statuses_from_report
from tests.exchange.gltf_validator import problems, validate

DATA = Path(__file__).resolve().parents[1] / "data" / "gltf"
STATUSES = {
    "LUG-F1": "missing",
    "COL-F1-L1": "present",
    "COL-F1-L2": "present",
    "CTH-1": "misplaced",
    "VLV-P1-1": "not_verified",
}
OFFSETS = {"CTH-1": 42.5}


def gltf_json(data: bytes) -> dict:
    """The JSON chunk of a GLB."""
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    chunk_length, chunk_type = struct.unpack_from("<I4s", data, 12)
    assert chunk_type == b"JSON"
    return json.loads(data[20 : 20 + chunk_length])


def node_matrix(node: dict) -> np.ndarray:
    return np.array(node.get("matrix", np.eye(4).reshape(-1)), dtype=float).reshape(4, 4).T


def annotations_on(section) -> list[dict]:
    """Three annotations on real parts, normals along -y, +z and an oblique direction."""
    out = []
    normals = [[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.6, -0.48, 0.64]]
    for i, (part_id, normal) in enumerate(
        zip(("LUG-F1", "CTH-1", "COL-F1-L1"), normals, strict=True)
    ):
        point = section.part(part_id).T_section_part[:3, 3] + [0.01, 0.02, 0.03]
        out.append({
            "id": f"7d1c0d6e-0000-4000-8000-00000000000{i}",
            "section_id": section.name, "finding_id": None, "part_id": part_id,
            "kind": ("defect", "note", "voice")[i], "status": "open", "title": f"title {i}",
            "description": "flange bolt missing", "priority": "high", "assignee": "quinn",
            "labels": ["weld", "bay 3"], "created_by": "wim",
            "created_at": "2025-03-01T10:00:00+00:00", "modified_by": "quinn",
            "modified_at": "2025-03-02T11:30:00+00:00", "version": 2, "seq": 7,
            "anchor": {"point_section": point.tolist(), "normal_section": normal,
                       "point_part": [0.01, 0.02, 0.03], "normal_part": normal},
            "viewpoint": None,
        })  # fmt: skip
    return out


@pytest.fixture(scope="module")
def exported(sample_section) -> tuple[bytes, dict, list[dict]]:
    annotations = annotations_on(sample_section)
    data = section_glb(
        sample_section, STATUSES, annotations, offsets_mm=OFFSETS, run_id="run-1",
        exported_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
    )  # fmt: skip
    return data, gltf_json(data), annotations


def test_validator_harness_passes_a_khronos_sample():
    report = validate(DATA / "BoxInterleaved.glb")
    assert report["validatorVersion"] == "2.0.0-dev.3.10"
    assert report["issues"]["numErrors"] == 0, problems(report)
    assert report["issues"]["numWarnings"] == 0, problems(report)


def test_validator_harness_reports_a_broken_glb(exported, tmp_path):
    data = exported[0]
    doc = gltf_json(data)  # a copy: the fixture's stays intact
    part = next(n for n in doc["nodes"] if n["name"] == "LUG-F1")
    part["mesh"] = 999  # no such mesh
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary = data[20 + struct.unpack_from("<I", data, 12)[0] :]
    broken = struct.pack("<4sII", b"glTF", 2, 20 + len(text) + len(binary))
    broken += struct.pack("<I4s", len(text), b"JSON") + text + binary
    (tmp_path / "broken.glb").write_bytes(broken)
    (tmp_path / "truncated.glb").write_bytes(data[: len(data) // 2])
    for name in ("broken.glb", "truncated.glb"):
        assert validate(tmp_path / name)["issues"]["numErrors"] > 0, name


def test_export_passes_the_validator_without_errors_or_warnings(exported, tmp_path):
    path = write_atomic(tmp_path / "block.glb", exported[0])
    report = validate(path)
    assert report["issues"]["numErrors"] == 0, problems(report)
    assert report["issues"]["numWarnings"] == 0, problems(report)
    assert report["info"]["materialCount"] == 6  # structure + 4 statuses + not_inspected


def test_root_turns_section_z_up_into_gltf_y_up(exported):
    _, doc, _ = exported
    scene = doc["scenes"][doc["scene"]]
    assert scene["extras"] == {
        "section": "block-2", "exported_utc": "2025-03-04T05:06:07+00:00",
        "arinspect_version": "0.1.0", "run_id": "run-1",
    }  # fmt: skip
    (root,) = (doc["nodes"][i] for i in scene["nodes"])
    assert root["name"] == "section"
    assert root["extras"] == {"frame": "section", "units": "m", "up": "z"}
    np.testing.assert_allclose(node_matrix(root), T_GLTF_SECTION)
    np.testing.assert_allclose(T_GLTF_SECTION[:3, :3] @ [0, 0, 1], [0, 1, 0])  # z up -> y up
    assert [doc["nodes"][i]["name"] for i in root["children"]] == [
        "structure", "parts", "annotations"
    ]  # fmt: skip
    assert doc["asset"]["generator"].startswith("arinspect 0.1.0")


def test_one_node_per_part_and_structure_element_with_extras(exported, sample_section):
    _, doc, _ = exported
    by_name = {n["name"]: n for n in doc["nodes"]}
    groups = {g: [doc["nodes"][i]["name"] for i in by_name[g]["children"]]
              for g in ("structure", "parts")}  # fmt: skip
    assert groups["parts"] == [p.id for p in sample_section.parts]
    assert groups["structure"] == [s.id for s in sample_section.structure]
    for part in sample_section.parts:
        node = by_name[part.id]
        assert node["extras"] == {
            "part_id": part.id, "class": part.class_name,
            "status": STATUSES.get(part.id, "not_inspected"), "offset_mm": OFFSETS.get(part.id),
        }  # fmt: skip
        np.testing.assert_allclose(node_matrix(node), part.T_section_part, atol=1e-12)
    shell = by_name["SHELL"]
    assert shell["extras"] == {"structure_id": "SHELL", "kind": sample_section.structure[0].kind}
    assert (
        doc["materials"][doc["meshes"][shell["mesh"]]["primitives"][0]["material"]]["name"]
        == "structure"
    )


def test_parts_take_the_material_of_their_status(exported, sample_section):
    _, doc, _ = exported
    by_name = {n["name"]: n for n in doc["nodes"]}
    colour = {}
    for part in sample_section.parts:
        (primitive,) = doc["meshes"][by_name[part.id]["mesh"]]["primitives"]
        material = doc["materials"][primitive["material"]]
        status = STATUSES.get(part.id, "not_inspected")
        assert material["name"] == status
        colour.setdefault(status, tuple(material["pbrMetallicRoughness"]["baseColorFactor"]))
        assert colour[status] == tuple(material["pbrMetallicRoughness"]["baseColorFactor"])
    assert len(set(colour.values())) == len(colour) == 5
    missing = next(m for m in doc["materials"] if m["name"] == "missing")
    assert missing["alphaMode"] == "BLEND"
    assert 0.2 < missing["pbrMetallicRoughness"]["baseColorFactor"][3] < 0.5
    red, green, blue, _ = missing["pbrMetallicRoughness"]["baseColorFactor"]
    assert red > 0.5 > max(green, blue)
    present = colour["present"]
    assert present[1] > 0.3 > max(present[0], present[2])
    others = [m for m in doc["materials"] if m["name"] != "missing"]
    assert all(m["alphaMode"] == "OPAQUE" for m in others)


def test_annotation_nodes_sit_on_their_anchor_in_y_up(exported):
    _, doc, annotations = exported
    by_name = {n["name"]: n for n in doc["nodes"]}
    root = node_matrix(by_name["section"])
    group = [doc["nodes"][i]["name"] for i in by_name["annotations"]["children"]]
    assert group == [a["id"] for a in annotations]
    for annotation in annotations:
        node = by_name[annotation["id"]]
        assert "mesh" not in node
        T_gltf_node = root @ node_matrix(node)
        anchor = annotation["anchor"]
        expected = T_GLTF_SECTION @ [*anchor["point_section"], 1.0]
        np.testing.assert_allclose(T_gltf_node[:3, 3], expected[:3], atol=1e-6)
        normal = T_GLTF_SECTION[:3, :3] @ np.array(anchor["normal_section"])
        np.testing.assert_allclose(T_gltf_node[:3, 1], normal, atol=1e-6)  # node +Y = normal
        np.testing.assert_allclose(T_gltf_node[:3, :3].T @ T_gltf_node[:3, :3], np.eye(3),
                                   atol=1e-9)  # fmt: skip
        expected_extras = {k: v for k, v in annotation.items() if k != "seq"}
        assert node["extras"] == expected_extras


def test_trimesh_reads_the_export_back(exported, sample_section):
    data, _, annotations = exported
    scene = trimesh.load(io.BytesIO(data), file_type="glb")
    for part in sample_section.parts:
        T_gltf_part, geometry = scene.graph[part.id]
        np.testing.assert_allclose(T_gltf_part, T_GLTF_SECTION @ part.T_section_part, atol=1e-9)
        expected = sample_section.mesh(part)
        np.testing.assert_allclose(
            np.sort(scene.geometry[geometry].vertices, axis=0),
            np.sort(expected.vertices, axis=0), atol=1e-6,
        )  # fmt: skip
    point = annotations[0]["anchor"]["point_section"]
    T_gltf_note, _ = scene.graph[annotations[0]["id"]]
    np.testing.assert_allclose(T_gltf_note[:3, 3], T_GLTF_SECTION[:3, :3] @ point, atol=1e-6)


def test_plain_geometry_for_the_viewer(sample_section):
    doc = gltf_json(section_glb(sample_section))
    parts = [n for n in doc["nodes"] if "part_id" in n.get("extras", {})]
    assert [n["name"] for n in parts] == [p.id for p in sample_section.parts]
    assert {n["extras"]["status"] for n in parts} == {"not_inspected"}
    assert {m["name"] for m in doc["materials"]} == {"structure", "not_inspected"}
    assert doc["scenes"][0]["extras"]["run_id"] is None
    # parts of one mesh file and status share one glTF mesh
    assert len(doc["meshes"]) < len(sample_section.parts) + len(sample_section.structure)


@pytest.mark.parametrize(
    ("statuses", "annotation", "message"),
    [
        ({"NOPE-1": "missing"}, None, "has no part(s) NOPE-1"),
        ({}, {"anchor": {"point_section": [0, 0, 0], "normal_section": [0, 0, 1]}},
         "annotations[0]: needs a string id"),
        ({}, {"id": "a", "anchor": {"point_section": [0, 0], "normal_section": [0, 0, 1]}},
         "annotations[0] (a): anchor.point_section: needs 3 finite numbers"),
        ({}, {"id": "a", "anchor": {"point_section": [0, 0, 0], "normal_section": [0, 0, 0]}},
         "anchor.normal_section has zero length"),
        ({}, {"id": "SHELL", "anchor": {"point_section": [0, 0, 0], "normal_section": [1, 0, 0]}},
         "two glTF nodes would be named 'SHELL'"),
    ],
)  # fmt: skip
def test_bad_input_is_named(sample_section, statuses, annotation, message):
    with pytest.raises(ArInspectError, match=re.escape(message)):
        section_glb(sample_section, statuses, [annotation] if annotation else [])


def test_report_statuses(tmp_path):
    doc = {
        "section": "block-2", "run_id": "r-9",
        "parts": [{"id": "A", "status": "present", "offset_mm": None},
                  {"part_id": "B", "status": "misplaced", "offset_mm": 31.5}],
    }  # fmt: skip
    (tmp_path / "report.json").write_text(json.dumps(doc))
    statuses = read_report(tmp_path / "report.json")
    assert statuses.statuses == {"A": "present", "B": "misplaced"}
    assert statuses.offsets_mm == {"B": 31.5}
    assert (statuses.section, statuses.run_id) == ("block-2", "r-9")
    assert statuses_from_report(doc, "x", run_id="r-1").run_id == "r-1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "report file not found"),
        ('{"parts": [', "malformed JSON at line 1"),
        ("[]", "must be a JSON object"),
        ('{"parts": {}}', "parts: must be a list"),
        ('{"parts": [{"id": "A"}]}', r"parts\[0\]: needs a string id and status"),
        ('{"parts": [{"id": "A", "status": "present", "offset_mm": "5"}]}',
         r"parts\[0\].offset_mm: must be a finite number"),
        ('{"parts": [{"id": "A", "status": "x"}, {"id": "A", "status": "x"}]}',
         r"parts\[1\]: part 'A' listed twice"),
    ],
)  # fmt: skip
def test_malformed_reports_are_named(tmp_path, text, message):
    path = tmp_path / "report.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataFormatError, match=message) as caught:
        read_report(path)
    assert str(path) in str(caught.value)
