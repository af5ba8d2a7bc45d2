"""Batch manifests: JSON and CSV, relative paths, clear errors."""

from __future__ import annotations

import pytest

from arinspect.batch.manifest import load_manifest
from arinspect.errors import DataFormatError


def test_json_manifest_resolves_paths_against_its_folder(tmp_path) -> None:
    (tmp_path / "m").mkdir()
    path = tmp_path / "m" / "batch.json"
    path.write_text(
        '{"recordings": ["walks/a", {"recording": "walks/b", "id": "pass-2",'
        ' "section": "../sections/s1", "camera": "cams/hl2.yaml"}]}'
    )
    first, second = load_manifest(path)
    assert first.unit_id == "a"
    assert first.recording == tmp_path / "m" / "walks" / "a"
    assert first.section is None and first.camera is None
    assert second.unit_id == "pass-2"
    assert second.section == tmp_path / "sections" / "s1"
    assert second.camera == tmp_path / "m" / "cams" / "hl2.yaml"
    assert second.where.endswith("recordings[1]")


def test_csv_manifest(tmp_path) -> None:
    path = tmp_path / "batch.csv"
    path.write_text("recording,section,id\nwalks/a,,\nwalks/b,sec,b2\n")
    units = load_manifest(path)
    assert [u.unit_id for u in units] == ["a", "b2"]
    assert units[0].section is None and units[1].section == tmp_path / "sec"
    assert units[1].where.endswith("line 3")


def test_a_unit_may_name_several_passes(tmp_path) -> None:
    json_path = tmp_path / "batch.json"
    json_path.write_text('[{"recording": ["walks/a", "walks/a2"], "id": "bay-3"}, "walks/b"]')
    csv_path = tmp_path / "batch.csv"
    csv_path.write_text("recording,id\nwalks/a; walks/a2,bay-3\nwalks/b,\n")
    for path in (json_path, csv_path):
        both, one = load_manifest(path)
        assert both.passes == (tmp_path / "walks" / "a", tmp_path / "walks" / "a2")
        assert both.recording == tmp_path / "walks" / "a" and both.unit_id == "bay-3"
        assert one.passes == (tmp_path / "walks" / "b",) and one.more_passes == ()


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("{not json", ".json", "not valid JSON"),
        ('{"recordings": 3}', ".json", "expected a list"),
        ("[]", ".json", "lists no recordings"),
        ('[{"section": "s"}]', ".json", "recordings[0]: every entry needs a recording"),
        ('[{"recording": "a", "colour": "red"}]', ".json", "unknown field(s) colour"),
        ('["a", "x/a"]', ".json", "id 'a' is used twice"),
        ('[{"recording": "a", "id": "../up"}]', ".json", "must be letters, digits"),
        ('[{"recording": 7}]', ".json", "recording must be a path or a non-empty list"),
        ('[{"recording": []}]', ".json", "recording must be a path or a non-empty list"),
        ('[{"recording": ["walks/a", ""]}]', ".json", "recording must name non-empty paths"),
        ("recording\nwalks/a;\n", ".csv", "recording must name non-empty paths"),
        ("path,section\na,b\n", ".csv", "must name a 'recording' column"),
    ],
)
def test_bad_manifests_name_the_file_and_entry(tmp_path, text, suffix, message) -> None:
    path = tmp_path / f"batch{suffix}"
    path.write_text(text)
    with pytest.raises(DataFormatError, match="batch") as caught:
        load_manifest(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_manifest_file(tmp_path) -> None:
    with pytest.raises(DataFormatError, match="cannot read the manifest"):
        load_manifest(tmp_path / "nope.json")
