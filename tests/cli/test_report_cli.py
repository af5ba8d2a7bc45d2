"""``arinspect report link`` against a real sync server on loopback."""

from __future__ import annotations

import uuid

import httpx
import pytest

from arinspect.cli import main
from tests.inspection.report_fixture import write_report
from tests.server.live_server import ServerProcess
from tests.server.sync_factories import anchor, make_tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db_url = f"sqlite:///{tmp_path_factory.mktemp('report-link') / 'sync.db'}"
    tokens = make_tokens(db_url)
    with ServerProcess(db_url) as process:
        with httpx.Client(base_url=process.url) as http:
            engineer = {"Authorization": f"Bearer {tokens['engineer']}"}
            http.post("/api/sections", json={"id": "block-2", "name": "B2"}, headers=engineer)
            body = {"op_id": str(uuid.uuid4()), "part_id": "COL-1", "kind": "defect",
                    "title": "collar plate missing on frame 1", "anchor": anchor()}  # fmt: skip
            answer = http.post("/api/sections/block-2/annotations", json=body,
                               headers={"Authorization": f"Bearer {tokens['worker']}"})  # fmt: skip
            assert answer.status_code == 201, answer.text
        yield process.url, tokens, answer.json()["data"]["id"]


def test_report_link_lists_annotations_per_finding(server, tmp_path, capsys) -> None:
    url, tokens, annotation_id = server
    report = write_report(tmp_path / "report")
    code = main(["report", "link", str(report), "--server", url, "--token", tokens["qa"]])
    assert code == 0
    assert "1 annotation(s) on 1 part(s)" in capsys.readouterr().out
    page = (report / "report.html").read_text()
    assert f'href="{url}/?section=block-2&amp;annotation={annotation_id}"' in page
    assert "collar plate missing on frame 1" in page


def test_report_link_errors_name_the_server_and_the_answer(server, tmp_path, capsys) -> None:
    url, tokens, _ = server
    report = write_report(tmp_path / "report", section="no-such-section")
    assert main(["report", "link", str(report), "--server", url, "--token", tokens["qa"]]) == 1
    assert "server answered 404" in capsys.readouterr().err
    assert main(["report", "link", str(report), "--server", url, "--token", "bad"]) == 1
    assert "401" in capsys.readouterr().err
    closed = "http://127.0.0.1:9"
    assert main(["report", "link", str(report), "--server", closed, "--token", "t"]) == 1
    assert "cannot reach the sync server" in capsys.readouterr().err
