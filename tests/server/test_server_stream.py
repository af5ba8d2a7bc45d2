"""The WebSocket stream: catch-up from ``since``, live events, errors (in-process)."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect
from sync_factories import annotation_body, auth, new_op


def post(client, section, token, n):
    ids = []
    for _ in range(n):
        answer = client.post(
            f"/api/sections/{section}/annotations", json=annotation_body(), headers=auth(token)
        )
        ids.append(answer.json()["data"]["id"])
    return ids


def receive_events(ws, count):
    seqs = []
    while len(seqs) < count:
        message = ws.receive_json()
        assert message["type"] == "events"
        seqs += [e["seq"] for e in message["events"]]
    return seqs


def test_catch_up_then_live_in_order(client, section, tokens):
    post(client, section, tokens["worker"], 5)
    url = f"/api/sections/{section}/stream?since=2"
    with client.websocket_connect(url, headers=auth(tokens["qa"])) as ws:
        hello = ws.receive_json()
        assert hello == {
            "type": "hello",
            "section_id": section,
            "since": 2,
            "head_seq": 5,
            "user": "quinn",
            "server": hello["server"],
        }
        assert receive_events(ws, 3) == [3, 4, 5]
        assert ws.receive_json() == {"type": "caught_up", "seq": 5}
        [aid] = post(client, section, tokens["worker"], 1)
        client.patch(
            f"/api/sections/{section}/annotations/{aid}",
            headers=auth(tokens["worker"]),
            json={"op_id": new_op(), "base_version": 1, "status": "in_progress"},
        )
        message = ws.receive_json()
        event = message["events"][0]
        assert (
            event["seq"] == 6 and event["entity"] == "annotation" and event["action"] == "created"
        )
        assert event["user"] == "wim" and event["device"] == "hl2-07"
        assert receive_events(ws, 1) == [7]


def test_token_in_query_for_browsers(client, section, tokens):
    with client.websocket_connect(f"/api/sections/{section}/stream?token={tokens['qa']}") as ws:
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["type"] == "caught_up"  # app idle before the client closes


@pytest.mark.parametrize(
    ("path", "token", "code", "detail"),
    [
        ("/api/sections/blk-2/stream", None, 4401, "missing bearer token"),
        ("/api/sections/blk-2/stream", "bad", 4401, "unknown token"),
        ("/api/sections/nope/stream", "qa", 4404, "section 'nope' not found"),
        ("/api/sections/blk-2/stream?since=-1", "qa", 4400, "since must be a sequence number"),
        ("/api/sections/blk-2/stream?since=x", "qa", 4400, "since must be a sequence number"),
        ("/api/sections/blk-2/stream?since=5", "qa", 4400, "is ahead of the section's newest"),
    ],
)
def test_stream_refusals_say_why(client, section, tokens, path, token, code, detail):
    headers = auth(tokens.get(token, token)) if token else {}
    with client.websocket_connect(path, headers=headers) as ws:
        message = ws.receive_json()
        assert message["type"] == "error" and message["code"] == code
        assert detail in message["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == code


def test_two_streams_get_the_same_sequence(client, section, tokens):
    url = f"/api/sections/{section}/stream?since=0"
    with (
        client.websocket_connect(url, headers=auth(tokens["qa"])) as a,
        client.websocket_connect(url, headers=auth(tokens["worker"])) as b,
    ):
        for ws in (a, b):
            assert ws.receive_json()["type"] == "hello"
            assert ws.receive_json()["type"] == "caught_up"
        post(client, section, tokens["worker"], 20)
        assert receive_events(a, 20) == list(range(1, 21))
        assert receive_events(b, 20) == list(range(1, 21))


def test_tokens_in_query_strings_are_redacted_in_logs():
    import logging

    from arinspect_server.app import REDACT

    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        "",
        0,
        '%s - "WebSocket %s"',
        ("127.0.0.1:5", "/api/sections/s/stream?since=3&token=ari_secret"),
        None,
    )
    REDACT.filter(record)
    assert (
        record.getMessage() == '127.0.0.1:5 - "WebSocket /api/sections/s/stream?since=3&token=***"'
    )
