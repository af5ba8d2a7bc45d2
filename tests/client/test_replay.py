"""``replay`` against a live server: taps on the truth parts, voice, an offline stretch, a run.

The recording is the 5-frame walk-past fixture (depth and truth label maps); the oracle
detector stands in for the ONNX one (the CLI test runs the real one).
"""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from arinspect.annotate.gesture import GestureAnchoring
from arinspect.cad.section import load_section
from arinspect.client import SyncClient
from arinspect.client.link import switchable_client
from arinspect.client.replay import replay
from arinspect.client.replay_script import load_script
from arinspect.inspection.pipeline import Inspector
from arinspect.recording.bop import Recording
from tests.annotate.speech import ESPEAK, speak
from tests.client.replay_helpers import (
    SECTION_ID,
    get,
    interior_pixel,
    live_section,
    write_script,
)
from tests.inspection.oracle import OracleDetector
from tests.server.sync_factories import auth

pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not on PATH")


@pytest.fixture(scope="module")
def recording(fixtures_dir):
    return Recording(fixtures_dir / "walk_depth")


@pytest.fixture(scope="module")
def taps(recording):
    """Truth pixels: a part in frame 0, another part in frame 1, structure, background."""
    u0, v0, part0 = interior_pixel(recording, 0, "part")
    u1, v1, part1 = interior_pixel(recording, 1, "part", skip={part0})
    us, vs, structure = interior_pixel(recording, 1, "structure")
    background = np.argwhere(recording.label_map(1) == 0)[0]  # (row, col)
    return {
        "part0": (u0, v0, part0),
        "part1": (u1, v1, part1),
        "structure": (us, vs, structure),
        "background": (float(background[1]), float(background[0])),
    }


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, recording, taps):
    folder = tmp_path_factory.mktemp("replay")
    speech = folder / "speech"
    speech.mkdir()
    wav = {text: speak(text, "en-us", 150, speech).name for text in
           ("mark missing", "confirm", "next part", "add note", "what time is it")}  # fmt: skip
    (u0, v0, _), (u1, v1, _) = taps["part0"], taps["part1"]
    ray_cam = np.linalg.solve(recording.camera.K, [u0, v0, 1.0])
    steps = [
        {"action": "tap", "frame": 0, "u": u0, "v": v0, "kind": "defect", "title": "weld spatter"},
        {"action": "point", "frame": 0, "direction_cam": ray_cam.tolist(), "kind": "measurement",
         "title": "pointed"},
        {"action": "offline", "from_frame": 1, "to_frame": 3},
        {"action": "tap", "frame": 1, "u": u1, "v": v1, "kind": "note", "note": "check torque"},
        {"action": "tap", "frame": 1, "u": taps["structure"][0], "v": taps["structure"][1],
         "kind": "defect"},
        {"action": "tap", "frame": 1, "u": taps["background"][0], "v": taps["background"][1],
         "kind": "note"},
        {"action": "stroke", "frame": 1, "uv": [[u1 - 3, v1], [u1 + 3, v1 + 1]], "note": "crack"},
        {"action": "voice", "frame": 2, "wav": f"speech/{wav['mark missing']}"},
        {"action": "voice", "frame": 2, "wav": f"speech/{wav['confirm']}"},
        {"action": "voice", "frame": 2, "wav": f"speech/{wav['what time is it']}"},
        {"action": "voice", "frame": 4, "wav": f"speech/{wav['next part']}"},
        {"action": "voice", "frame": 4, "wav": f"speech/{wav['add note']}"},
    ]  # fmt: skip
    script = load_script(write_script(folder / "script.json", steps))
    section = load_section(recording.section_folder)
    inspector = Inspector(section, recording.camera, OracleDetector(recording))
    with live_section(folder) as (server, tokens):
        http, link = switchable_client(server.url)
        client = SyncClient(server.url, tokens["worker"], folder / "queue", http=http)
        summary = replay(
            recording, inspector, client, link, SECTION_ID, script, detector_name="oracle"
        )
        qa = tokens["qa"]
        state = {
            "annotations": get(server, qa, f"/api/sections/{SECTION_ID}/annotations"),
            "events": get(server, qa, f"/api/sections/{SECTION_ID}/events", limit=1000),
            "runs": get(server, qa, f"/api/sections/{SECTION_ID}/runs"),
            "findings": get(server, qa, f"/api/sections/{SECTION_ID}/findings"),
        }
        first_create = next(e for e in state["events"]["events"] if e["entity"] == "annotation")
        body = {k: first_create["data"][k] for k in ("id", "part_id", "kind", "title")}
        retry = httpx.post(
            f"{server.url}/api/sections/{SECTION_ID}/annotations",
            json={**body, "op_id": first_create["op_id"], "anchor": first_create["data"]["anchor"]},
            headers=auth(tokens["worker"]),
            timeout=10,
        )
        state["retry"] = retry.json()
        state["head_after_retry"] = get(server, qa, f"/api/sections/{SECTION_ID}/events")[
            "head_seq"
        ]
        http.close()
    return summary, state, section


def test_taps_land_on_the_truth_part_within_millimetres(replayed, recording, taps):
    summary, state, section = replayed
    by_title = {a["title"]: a for a in state["annotations"]}
    anchoring = GestureAnchoring(section)
    for title, (key, im_id) in {"weld spatter": ("part0", 0), "note on": ("part1", 1)}.items():
        u, v, truth_part = taps[key]
        annotation = next(a for t, a in by_title.items() if t.startswith(title))
        assert annotation["part_id"] == truth_part
        truth = anchoring.tap(u, v, recording.camera, recording.T_cam_section(im_id), True)
        error_mm = np.linalg.norm(np.subtract(annotation["anchor"]["point_section"],
                                              truth.hit.point_section)) * 1000  # fmt: skip
        assert error_mm < 5.0, error_mm
        T_section_cam = np.asarray(annotation["viewpoint"]["T_section_cam"])
        eye_error = np.linalg.norm(
            T_section_cam[:3, 3] - np.linalg.inv(recording.T_cam_section(im_id))[:3, 3]
        )
        assert eye_error < 0.01
    assert by_title["pointed"]["part_id"] == taps["part0"][2]
    assert by_title["pointed"]["kind"] == "measurement"
    assert by_title["weld spatter"]["kind"] == "defect"
    assert by_title["weld spatter"]["viewpoint"]["intrinsics"]["image_size_wh"] == [640, 480]


def test_structure_and_empty_taps_are_reported_not_attached(replayed, taps):
    summary, state, _ = replayed
    taps_done = [s for s in summary.steps if s.action == "tap"]
    assert [s.result for s in taps_done] == ["annotated", "annotated", "not_a_part", "no_hit"]
    assert taps["structure"][2] in taps_done[2].detail
    assert {a["part_id"] for a in state["annotations"]} == {  # taps, point, stroke, voice
        taps["part0"][2],
        taps["part1"][2],
    }


def test_voice_commands_make_a_defect_and_out_of_grammar_sends_nothing(replayed, taps, recording):
    summary, state, _ = replayed
    voice = [
        (s.frame, s.result, s.voice["command"] if s.voice else None)
        for s in summary.steps
        if s.action == "voice"
    ]
    assert voice == [
        (2, "pending", "mark missing"),
        (2, "sent", "confirm"),
        (2, "rejected", None),
        (4, "selected", "next part"),
        (4, "pending", "add note"),
        (4, "unconfirmed", None),  # "add note" never confirmed: nothing sent
    ]
    defects = [a for a in state["annotations"] if a["labels"] == ["missing"]]
    assert len(defects) == 1
    assert defects[0]["kind"] == "defect" and defects[0]["part_id"] == taps["part1"][2]
    assert summary.voice_results() == {
        "pending": 2, "sent": 1, "rejected": 1, "selected": 1, "unconfirmed": 1
    }  # fmt: skip
    stepped = next(s for s in summary.steps if s.result == "selected" and s.action == "voice")
    label = {e["id"]: e["index"] for e in recording.meta["labels"]}[stepped.part_id]
    assert (recording.label_map(4) == label).sum() >= 200  # the part stepped to is in view


def test_a_stroke_becomes_ink_on_the_part_it_is_drawn_on(replayed, recording, taps):
    summary, state, _ = replayed
    [ink] = [a for a in state["annotations"] if a["kind"] == "ink"]
    assert ink["part_id"] == taps["part1"][2]
    note, polyline = ink["description"].split("\n")
    assert note == "crack"
    points_mm = np.asarray(json.loads(polyline)["ink_section_mm"][0])
    assert len(points_mm) >= 2
    T_cam_section = recording.T_cam_section(1)
    uv, _ = recording.camera.project(T_cam_section, points_mm / 1000)
    assert np.abs(uv - [taps["part1"][0], taps["part1"][1]]).max() < 5  # drawn where tapped


def test_offline_queue_fills_then_drains_each_op_applied_once(replayed):
    summary, state, _ = replayed
    # Offline in frames 1-2: a note, an ink stroke, the voice defect (annotation + snapshot each).
    assert summary.max_queue_depth == 6
    assert summary.drained_ops == 6
    assert summary.pending_ops == 0 and summary.rejected_ops == 0
    events = state["events"]["events"]
    ops = len(summary.annotations) + summary.attachments + summary.updates + 1  # + the run
    assert [e["seq"] for e in events] == list(range(1, ops + 1))
    assert len({e["op_id"] for e in events}) == ops
    assert state["retry"]["replayed"] is True
    assert state["head_after_retry"] == ops


def test_the_run_and_its_findings_are_uploaded(replayed):
    summary, state, _ = replayed
    [run] = state["runs"]
    assert run["id"] == summary.run_id
    assert summary.findings_pushed == run["summary"]["findings"] == len(state["findings"]) > 0
    assert summary.frames == 5 and summary.pose_status.get("lost", 0) == 0
