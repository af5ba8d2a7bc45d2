"""Linking a report's findings to their annotations in the QA viewer."""

from __future__ import annotations

import json

import pytest

from arinspect.errors import DataFormatError
from arinspect.inspection.report_links import link_report, viewer_url
from tests.inspection.report_fixture import write_report


@pytest.fixture
def report_dir(tmp_path):
    return write_report(tmp_path)


def annotation(aid: str, part_id: str | None, title: str, created: str) -> dict:
    return {"id": aid, "part_id": part_id, "title": title, "status": "open", "kind": "defect",
            "created_at": created}  # fmt: skip


def test_findings_link_to_their_annotations_in_the_viewer(report_dir) -> None:
    annotations = [
        annotation("a2", "COL-1", "second <b>look</b>", "2026-11-29T10:00:00Z"),
        annotation("a1", "COL-1", "collar missing", "2026-11-29T09:00:00Z"),
        annotation("a3", "OTHER", "elsewhere", "2026-11-29T09:00:00Z"),
        annotation("a4", None, "imported topic", "2026-11-29T09:00:00Z"),
    ]
    links = link_report(report_dir, annotations, "http://qa:8765/", "block-2")
    assert list(links) == ["COL-1"]
    assert [link.title for link in links["COL-1"]] == ["collar missing", "second <b>look</b>"]
    page = (report_dir / "report.html").read_text()
    assert 'href="http://qa:8765/?section=block-2&amp;annotation=a1"' in page
    assert "second &lt;b&gt;look&lt;/b&gt;" in page and "<b>look" not in page
    assert "elsewhere" not in page
    assert 'src="crops/COL-1.jpg"' in page and 'src="overlays/frame_000003.jpg"' in page
    assert "<th>annotations</th>" in page
    stored = json.loads((report_dir / "annotations.json").read_text())
    assert stored["COL-1"][0]["url"] == viewer_url("http://qa:8765", "block-2", "a1")


def test_a_folder_without_a_report_is_refused(tmp_path) -> None:
    with pytest.raises(DataFormatError, match="report.json: cannot read the report"):
        link_report(tmp_path, [], "http://qa", "block-2")
    (tmp_path / "report.json").write_text('{"section": "x"}')
    with pytest.raises(DataFormatError, match="no 'parts' list"):
        link_report(tmp_path, [], "http://qa", "block-2")


def test_a_linked_report_of_two_passes_keeps_each_frames_pass_and_the_suggested_views(
    report_dir,
) -> None:
    path = report_dir / "report.json"
    document = json.loads(path.read_text())
    document["passes"] = ["/data/walk", "/data/orbit"]
    document["parts"][0] |= {"status": "not_verified", "best_pass": 1, "suggested_view": {
        "eye_section_m": [1.5, 0.5, 1.1], "look_at_section_m": [1.0, 0.4, 0.2],
        "distance_m": 1.0, "visible_ratio": 0.9, "height_px": 120}}  # fmt: skip
    path.write_text(json.dumps(document))
    (report_dir / "overlays" / "pass2_frame_000007.jpg").write_bytes(b"jpg")
    (report_dir / "looks").mkdir()
    (report_dir / "looks" / "COL-1.jpg").write_bytes(b"jpg")
    link_report(report_dir, [], "http://qa:8765", "block-2")
    page = (report_dir / "report.html").read_text()
    assert "2 passes (1: <code>/data/walk</code>, 2: <code>/data/orbit</code>)" in page
    assert "<figcaption>frame 3 (pass 1)</figcaption>" in page
    assert "<figcaption>frame 7 (pass 2)</figcaption>" in page
    assert "<td>2 (pass 2)</td>" in page  # COL-1's best frame
    assert 'src="looks/COL-1.jpg"' in page and "look from (1.50, 0.50, 1.10) m" in page
