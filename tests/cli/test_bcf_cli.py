"""``arinspect bcf import|export`` against a SQLite sync database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from arinspect.cli import bcf_cmd
from arinspect.exchange.bcf import read_bcf
from arinspect_server.db.engine import Database
from arinspect_server.schemas import SectionCreate
from arinspect_server.services.annotations import list_annotations
from arinspect_server.services.context import Actor
from arinspect_server.services.sections import create_section

sys.path.insert(0, str(Path(__file__).parents[1] / "exchange"))
from bcf_helpers import assert_valid_v3, case  # noqa: E402


def run(argv: list[str]) -> int:
    """Parse and run like ``arinspect`` does (until ``bcf`` is registered in cli/__init__)."""
    parser = argparse.ArgumentParser(prog="arinspect")
    bcf_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    db = Database(url)
    db.migrate()
    create_section(db, Actor("cli:test", "admin", "pytest"), SectionCreate(id="blk-2", name="B2"))
    db.dispose()
    return url


def test_import_then_export(db_url, tmp_path, capsys):
    source = case("Markup__User_assignment")
    assert run(["bcf", "import", str(source), "--db", db_url, "--section", "blk-2"]) == 0
    assert "1 topic(s) created, 0 skipped, 1 comment(s), 1 snapshot(s)" in capsys.readouterr().out
    assert run(["bcf", "import", str(source), "--db", db_url, "--section", "blk-2"]) == 0
    assert "already imported (nothing changed)" in capsys.readouterr().out
    db = Database(db_url)
    try:
        rows = list_annotations(db, "blk-2")
    finally:
        db.dispose()
    assert [(r["title"], r["assignee"], r["part_id"]) for r in rows] == [
        ("User assignment", "Architect@example.com", None)
    ]
    out = tmp_path / "exports" / "blk-2.bcf"
    assert run(["bcf", "export", "--db", db_url, "--section", "blk-2", "--out", str(out)]) == 0
    assert_valid_v3(out.read_bytes())
    topic = read_bcf(out).topics[0]
    assert (topic.title, topic.assigned_to, topic.topic_status) == (
        "User assignment",
        "Architect@example.com",
        "OPEN",
    )
    assert [c.text for c in topic.comments] == [c.text for c in read_bcf(source).topics[0].comments]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_bad_archive_is_a_clear_error(db_url, tmp_path):
    from arinspect.errors import ArInspectError

    bad = tmp_path / "bad.bcf"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(ArInspectError, match="bad.bcf: not a zip archive"):
        run(["bcf", "import", str(bad), "--db", db_url, "--section", "blk-2"])
    with pytest.raises(ArInspectError, match="section 'nope' not found"):
        run(["bcf", "export", "--db", db_url, "--section", "nope", "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()
