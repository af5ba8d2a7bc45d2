"""``arinspect replay`` with the bundled ONNX detector against a live server; bad scripts."""

from __future__ import annotations

import argparse
import json

import pytest

from arinspect.cli import replay_cmd
from arinspect.client.replay_script import load_script
from arinspect.errors import ConfigError, DataFormatError
from arinspect.recording.bop import Recording
from arinspect.resources import REPO_ROOT
from tests.client.replay_helpers import SECTION_ID, get, interior_pixel, live_section, write_script


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="arinspect")
    replay_cmd.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["replay", *argv])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_section(tmp_path_factory.mktemp("replay-cli")) as live:
        yield live


def test_default_replay_pushes_the_findings(server, fixtures_dir, tmp_path, capsys):
    live, tokens = server
    args = parse(str(fixtures_dir / "walk_depth"), "--server", live.url,
                 "--token", tokens["worker"], "--out", str(tmp_path / "out"))  # fmt: skip
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "replayed 5 frames in" in printed and "0 lost" in printed
    runs = get(live, tokens["qa"], f"/api/sections/{SECTION_ID}/runs")
    findings = runs[-1]["summary"]["findings"]
    assert f"findings pushed: {findings} (run {runs[-1]['id']})" in printed
    assert "annotations created: 0" in printed
    assert "max depth 0, drained 0 ops, rejected 0, still queued 0" in printed
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["detector"].endswith("part_detector.onnx") and len(report["parts"]) == 43


def test_scripted_replay_json_summary(server, fixtures_dir, tmp_path, capsys):
    live, tokens = server
    recording = Recording(fixtures_dir / "walk_depth")
    u, v, part_id = interior_pixel(recording, 1, "part")
    script = write_script(tmp_path / "script.json", [
        {"action": "offline", "from_frame": 0, "to_frame": 2},
        {"action": "tap", "frame": 1, "u": u, "v": v, "kind": "defect"},
    ])  # fmt: skip
    args = parse(str(fixtures_dir / "walk_depth"), "--server", live.url, "--token",
                 tokens["worker"], "--script", str(script), "--out", str(tmp_path),
                 "--json")  # fmt: skip
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 5 and summary["run_id"]
    assert [a["part_id"] for a in summary["annotations"]] == [part_id]
    assert summary["max_queue_depth"] == 2 and summary["drained_ops"] == 2
    assert summary["steps"][0]["result"] == "annotated"
    assert summary["frames_per_s"] > 0


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"action": "tap", "frame": 0, "u": "left", "v": 3, "kind": "note"}],
         r"script.json: steps\[0\].u: 'left' is not of type 'number'"),
        ([{"action": "wave", "frame": 0}], r"script.json: steps\[0\].action: 'wave' is not one"),
        ([{"action": "offline", "from_frame": 3, "to_frame": 1}],
         r"script.json: steps\[0\].to_frame: to_frame must be after from_frame"),
        ([{"action": "voice", "frame": 1, "wav": "none.wav"}],
         r"script.json: steps\[0\].wav: WAV file .*none.wav not found"),
    ],
)  # fmt: skip
def test_malformed_script_names_file_and_field(tmp_path, fixtures_dir, steps, message):
    script = write_script(tmp_path / "script.json", steps)
    args = parse(str(fixtures_dir / "walk_depth"), "--server", "http://127.0.0.1:9",
                 "--token", "t", "--script", str(script))  # fmt: skip
    with pytest.raises(DataFormatError, match=message):
        args.func(args)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"action": "tap", "frame": 9, "u": 10, "v": 10, "kind": "note"},
         r"steps\[0\].frame: frame 9 is beyond the recording's 5 frames"),
        ({"action": "stroke", "frame": 1, "uv": [[10, 10], [700, 10]]},
         r"steps\[0\]: pixel \(700, 10\) is outside the 640x480 frames"),
    ],
)  # fmt: skip
def test_script_outside_the_recording_fails_before_the_server_is_asked(
    tmp_path, fixtures_dir, step, message
):
    script = write_script(tmp_path / "script.json", [step])
    args = parse(str(fixtures_dir / "walk_depth"), "--server", "http://127.0.0.1:9",
                 "--token", "t", "--script", str(script), "--out", str(tmp_path))  # fmt: skip
    with pytest.raises(DataFormatError, match=message):
        args.func(args)


def test_unknown_section_is_a_clear_error(server, fixtures_dir, tmp_path):
    live, tokens = server
    args = parse(str(fixtures_dir / "walk_depth"), "--server", live.url, "--token",
                 tokens["worker"], "--section-id", "blk-99", "--out", str(tmp_path))  # fmt: skip
    with pytest.raises(ConfigError, match="section 'blk-99' is not registered"):
        args.func(args)


def test_the_documented_example_script_fits_the_fixture(fixtures_dir):
    script = load_script(REPO_ROOT / "docs" / "replay-example.json")
    script.check_against(5, Recording(fixtures_dir / "walk_depth").camera)
    assert [s.action for s in script.steps] == ["tap", "point", "tap", "tap", "stroke", "tap"]
    assert script.is_offline(1) and script.is_offline(2) and not script.is_offline(3)
