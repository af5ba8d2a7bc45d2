"""``arinspect export gltf`` from a report.json and from the sync server's database."""

from __future__ import annotations

import argparse
import json
import uuid

import numpy as np
import pytest

from arinspect.cli import export_cmd
from arinspect.errors import ArInspectError, ConfigError, DataFormatError
from arinspect.exchange.gltf import T_GLTF_SECTION
from arinspect.resources import SAMPLE_SECTION_DIR
from tests.exchange.gltf_validator import problems, validate
from tests.exchange.test_gltf_export import gltf_json, node_matrix

REPORT = {
    "section": "block-2",
    "parts": [
        {"id": "LUG-F1", "class": "lifting_lug", "status": "missing", "offset_mm": None},
        {"id": "CTH-1", "class": "cable_tray_hanger", "status": "misplaced", "offset_mm": 38.2},
        {"id": "COL-F1-L1", "class": "collar_plate", "status": "present", "offset_mm": 2.1},
    ],
}


def export(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="arinspect")
    export_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["export", "gltf", *map(str, argv)])
    return args.func(args)


def part_extras(doc: dict) -> dict[str, dict]:
    return {n["name"]: n["extras"] for n in doc["nodes"] if "part_id" in n.get("extras", {})}


@pytest.fixture
def report_path(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(REPORT))
    return path


@pytest.fixture
def database(tmp_path) -> tuple[str, str, dict]:
    """A migrated SQLite database with the sample section, one run and one annotation."""
    from arinspect_server.db.engine import Database
    from arinspect_server.schemas import AnnotationCreate, SectionCreate
    from arinspect_server.services.annotations import create_annotation
    from arinspect_server.services.context import Actor
    from arinspect_server.services.files import add_run
    from arinspect_server.services.sections import create_section

    url = f"sqlite:///{tmp_path / 'sync.db'}"
    db = Database(url)
    db.migrate()
    actor = Actor("cli:test", "admin", "pytest")
    try:
        create_section(db, actor, SectionCreate(id="block-2", name="sample block"))
        report = {**REPORT, "parts": [{**REPORT["parts"][0], "status": "present"}]}
        run = add_run(db, actor, "block-2", str(uuid.uuid4()), "report.json",
                      json.dumps(report).encode())  # fmt: skip
        T_section_part = np.eye(4)
        T_section_part[:3, 3] = [1.0, 2.0, 0.5]
        body = AnnotationCreate(
            op_id=str(uuid.uuid4()), part_id="LUG-F1", kind="defect", title="lug bent",
            labels=["weld"],
            anchor={"point_section": [1.0, 2.1, 0.6], "normal_section": [0.0, 1.0, 0.0],
                    "T_section_part": T_section_part.tolist()},
        )  # fmt: skip
        annotation = create_annotation(db, actor, "block-2", body)
    finally:
        db.dispose()
    return url, run.response["data"]["id"], annotation.response["data"]


def test_export_from_a_report(tmp_path, report_path, capsys):
    out = tmp_path / "out" / "block.glb"
    assert export("--section", SAMPLE_SECTION_DIR, "--report", report_path, "--out", out) == 0
    printed = capsys.readouterr().out
    assert "43 parts (misplaced 1, missing 1, not_inspected 40, present 1), 0 annotation(s)" in (
        printed
    )
    doc = gltf_json(out.read_bytes())
    extras = part_extras(doc)
    assert extras["CTH-1"] == {"part_id": "CTH-1", "class": "cable_tray_hanger",
                               "status": "misplaced", "offset_mm": 38.2}  # fmt: skip
    assert extras["LUG-S1"]["status"] == "not_inspected"
    assert [p.name for p in out.parent.iterdir()] == ["block.glb"]  # no temporary left
    report = validate(out)
    assert report["issues"]["numErrors"] == 0, problems(report)
    assert report["issues"]["numWarnings"] == 0, problems(report)


def test_export_from_the_database(tmp_path, database, report_path, capsys):
    url, run_id, annotation = database
    out = tmp_path / "db.glb"
    assert export("--section", SAMPLE_SECTION_DIR, "--db", url, "--out", out) == 0
    assert "1 annotation(s)" in capsys.readouterr().out
    doc = gltf_json(out.read_bytes())
    assert doc["scenes"][0]["extras"]["run_id"] == run_id
    assert part_extras(doc)["LUG-F1"]["status"] == "present"  # the run's status
    node = next(n for n in doc["nodes"] if n["name"] == annotation["id"])
    assert node["extras"]["title"] == "lug bent"
    assert node["extras"]["anchor"] == annotation["anchor"]
    np.testing.assert_allclose(node["extras"]["anchor"]["point_part"], [0.0, 0.1, 0.1])
    root = next(n for n in doc["nodes"] if n["name"] == "section")
    T_gltf_node = node_matrix(root) @ node_matrix(node)
    np.testing.assert_allclose(T_gltf_node[:3, 3], T_GLTF_SECTION[:3, :3] @ [1.0, 2.1, 0.6],
                               atol=1e-6)  # fmt: skip
    report = validate(out)
    assert report["issues"]["numErrors"] == 0, problems(report)
    assert report["issues"]["numWarnings"] == 0, problems(report)

    # a report file overrides the run's statuses; the annotations still come from the db
    args = ("--section", SAMPLE_SECTION_DIR, "--db", url, "--report", report_path)
    assert export(*args, "--out", out) == 0
    doc = gltf_json(out.read_bytes())
    assert part_extras(doc)["LUG-F1"]["status"] == "missing"
    assert doc["scenes"][0]["extras"]["run_id"] is None
    assert any(n["name"] == annotation["id"] for n in doc["nodes"])


def test_unknown_section_in_the_database(tmp_path, database, generated_section_dir):
    url = database[0]
    with pytest.raises(
        ArInspectError, match=r"section .block-5. not found \(the id is the name in section\.json\)"
    ):
        export("--section", generated_section_dir, "--db", url, "--out", tmp_path / "a.glb")
    assert not (tmp_path / "a.glb").exists()


@pytest.mark.parametrize(
    ("argv", "error", "message"),
    [
        (["--section", "{tmp}/nope"], DataFormatError, "section folder not found"),
        (["--report", "{tmp}/bad.json"], DataFormatError, r"bad\.json: malformed JSON at line 1"),
        (["--report", "{tmp}/other.json"], ArInspectError, "report is of section 'block-9'"),
        (["--report", "{tmp}/alien.json"], ArInspectError, r"has no part\(s\) ALIEN-1"),
        (["--db", "{tmp}/none.db"], ArInspectError, r"none\.db: file not found"),
        (["--db", "{tmp}/bad.json"], ArInspectError, r"bad\.json: cannot be read"),
        (["--out", "{tmp}/a.gltf"], ConfigError, r"must end in \.glb"),
    ],
)
def test_bad_input_is_named(tmp_path, argv, error, message):
    (tmp_path / "bad.json").write_text('{"parts": [')
    (tmp_path / "other.json").write_text(json.dumps({**REPORT, "section": "block-9"}))
    (tmp_path / "alien.json").write_text(
        json.dumps({"parts": [{"id": "ALIEN-1", "status": "missing"}]})
    )
    options = {"--section": str(SAMPLE_SECTION_DIR), "--out": str(tmp_path / "a.glb")}
    options.update(zip(argv[::2], [a.format(tmp=tmp_path) for a in argv[1::2]], strict=True))
    with pytest.raises(error, match=message):
        export(*(x for pair in options.items() for x in pair))
    assert not (tmp_path / "a.glb").exists()
