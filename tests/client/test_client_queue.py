"""The client's offline queue on disk, and how flush treats each kind of answer."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from arinspect.client import OfflineQueue, Replica, SyncClient
from arinspect.errors import DataFormatError


def test_queue_survives_a_restart(tmp_path):
    queue = OfflineQueue(tmp_path)
    first = queue.add("POST", "/api/sections/S/annotations", {"title": "a"})
    queue.add(
        "POST",
        "/api/x/attachments",
        {"kind": "voice"},
        blob=b"RIFF....WAVE",
        filename="n.wav",
        content_type="audio/wav",
    )
    queue.set_position("S", 7)
    reopened = OfflineQueue(tmp_path)
    assert [op.op_id for op in reopened.pending()] == [first.op_id, reopened.pending()[1].op_id]
    assert reopened.pending()[0].body == {"title": "a", "op_id": first.op_id}
    assert reopened.blob(reopened.pending()[1]) == b"RIFF....WAVE"
    assert reopened.position("S") == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "blobs",
        "pending.json",
        "positions.json",
    ]  # no temp files left behind


def test_done_reject_and_positions(tmp_path):
    queue = OfflineQueue(tmp_path)
    a = queue.add("POST", "/a", {})
    b = queue.add("POST", "/b", {}, blob=b"x", filename="f.png", content_type="image/png")
    queue.done(a.op_id)
    queue.reject(b.op_id, {"status": 422, "detail": "bad"})
    reopened = OfflineQueue(tmp_path)
    assert reopened.pending() == []
    assert reopened.rejected()[0].result == {"status": 422, "detail": "bad"}
    assert list((tmp_path / "blobs").iterdir()) == []
    queue.set_position("S", 5)
    queue.set_position("S", 3)  # never backwards
    assert OfflineQueue(tmp_path).position("S") == 5


def test_corrupt_queue_file_names_the_file(tmp_path):
    (tmp_path / "pending.json").write_text("[{")
    with pytest.raises(DataFormatError, match="pending.json"):
        OfflineQueue(tmp_path)


class ScriptedHTTP:
    """Answers requests from a script: a status code, or an exception to raise."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs.get("json")))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"detail": f"status {answer}", "seqs": []})


def queued_client(tmp_path, http, n=3):
    client = SyncClient("http://x", "tok", tmp_path, http=http)
    for i in range(n):
        client.add_comment("S", "A", f"c{i}", flush=False)
    return client


def test_flush_stops_offline_and_keeps_order(tmp_path):
    http = ScriptedHTTP(201, httpx.ConnectError("down"))
    client = queued_client(tmp_path, http)
    report = client.flush()
    assert (len(report.sent), report.remaining, report.offline) == (1, 2, True)
    http.answers = [201, 201]
    assert client.flush().remaining == 0
    texts = [call[2]["text"] for call in http.calls]
    assert texts == ["c0", "c1", "c1", "c2"]  # retried in order
    assert http.calls[1][2]["op_id"] == http.calls[2][2]["op_id"]  # same op id on retry


@pytest.mark.parametrize(
    ("status", "kept", "rejected"),
    [(500, 3, 0), (401, 3, 0), (429, 3, 0), (422, 2, 1), (404, 2, 1)],
)
def test_flush_answers(tmp_path, status, kept, rejected):
    client = queued_client(tmp_path, ScriptedHTTP(status, httpx.ConnectError("down")))
    report = client.flush()
    assert report.remaining == kept and len(client.queue.rejected()) == rejected
    if rejected:
        result = client.queue.rejected()[0].result
        assert (result["status"], result["detail"]) == (status, f"status {status}")


def test_replica_applies_in_order_and_refuses_gaps():
    replica = Replica("S")
    event = {"seq": 1, "section_id": "S", "entity": "annotation", "id": "a", "data": {"v": 1}}
    assert replica.apply(event) is True
    assert replica.apply(event) is False  # duplicate
    with pytest.raises(ValueError, match="gap in section S: have 1, got 3"):
        replica.apply({**event, "seq": 3})
    assert replica.annotations == {"a": {"v": 1}}


def test_client_does_not_import_fastapi():
    code = (
        "import sys, arinspect.client; print('fastapi' in sys.modules, 'sqlalchemy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_queue_files_are_plain_json(tmp_path):
    queue = OfflineQueue(tmp_path)
    op = queue.add("PATCH", "/p", {"base_version": 2})
    assert json.loads((tmp_path / "pending.json").read_text())[0]["op_id"] == op.op_id
