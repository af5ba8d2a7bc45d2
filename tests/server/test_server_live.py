"""Real server processes on loopback: SIGKILL and restart, two processes on one
PostgreSQL (LISTEN/NOTIFY wake-ups, a dropped LISTEN connection), a stalled client."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import psycopg
import pytest
from live_server import ServerProcess, StreamReader
from sync_factories import anchor, auth, make_tokens

from arinspect.client import SyncClient

pytestmark = pytest.mark.slow


def make_section(server: ServerProcess, token: str, section: str = "blk-9") -> str:
    answer = httpx.post(
        server.url + "/api/sections",
        json={"id": section, "name": section},
        headers=auth(token),
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text
    return section


class Writer(threading.Thread):
    """Creates annotations one after the other through the offline queue until stopped."""

    def __init__(
        self,
        base_url: str,
        token: str,
        section: str,
        folder,
        limit: int = 10_000,
        description: str = "",
    ) -> None:
        super().__init__(daemon=True)
        self.client = SyncClient(base_url, token, folder, timeout_s=2.0)
        self.section, self.limit, self.description = section, limit, description
        self.created: list[str] = []
        self.acked: list[str] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set() and len(self.created) < self.limit:
            self.created.append(
                self.client.create_annotation(
                    self.section,
                    part_id="P1",
                    kind="note",
                    title=f"n{len(self.created)}",
                    anchor=anchor(),
                    description=self.description,
                    flush=False,
                )
            )
            report = self.client.flush()
            self.acked += [op.result["data"]["id"] for op in report.sent if op.method == "POST"]
            if report.offline:
                time.sleep(0.02)

    def finish(self) -> None:
        self.stop_flag.set()
        self.join(timeout=30)
        report = self.client.flush()
        self.acked += [op.result["data"]["id"] for op in report.sent if op.method == "POST"]
        assert report.remaining == 0
        self.client.close()


def server_events(server: ServerProcess, token: str, section: str) -> list[int]:
    answer = httpx.get(
        f"{server.url}/api/sections/{section}/events",
        params={"limit": 10_000},
        headers=auth(token),
        timeout=10,
    )
    return [e["seq"] for e in answer.json()["events"]]


def test_sigkill_mid_stream_loses_no_acknowledged_change(db_url, tmp_path):
    tokens = make_tokens(db_url)
    server = ServerProcess(db_url).start()
    reader = writer = None
    try:
        section = make_section(server, tokens["engineer"])
        reader = StreamReader(server.url, tokens["qa"], section, tmp_path / "reader")
        reader.start()
        assert reader.caught_up.wait(10)
        writer = Writer(server.url, tokens["worker"], section, tmp_path / "writer")
        writer.start()
        assert reader.wait_for(15)
        server.kill()  # mid-stream: writes and deliveries in flight
        acked_before_kill = list(writer.acked)
        time.sleep(0.3)
        server.start()
        time.sleep(0.5)
        writer.finish()
        head = len(writer.created)
        seqs = server_events(server, tokens["qa"], section)
        assert seqs == list(range(1, head + 1))  # one event per op: retries burnt no number
        listed = httpx.get(
            f"{server.url}/api/sections/{section}/annotations",
            headers=auth(tokens["qa"]),
            timeout=10,
        ).json()
        stored = {a["id"] for a in listed}
        assert set(acked_before_kill) <= stored
        assert stored == set(writer.created) and len(listed) == len(writer.created)
        assert writer.client.queue.rejected() == []
        assert reader.wait_for(head)
        assert reader.seqs == list(range(1, head + 1))  # resumed with since: no gap, no dup
    finally:
        if reader is not None:
            reader.stop()
        if writer is not None and writer.is_alive():
            writer.stop_flag.set()
        server.stop()


def test_two_processes_on_one_postgresql_deliver_everything(pg_server, tmp_path):
    url = pg_server.create_schema()
    tokens = make_tokens(url)
    servers = [ServerProcess(url).start(), ServerProcess(url).start()]
    readers: list[StreamReader] = []
    try:
        section = make_section(servers[0], tokens["engineer"])
        for i in range(4):
            reader = StreamReader(servers[i % 2].url, tokens["qa"], section, tmp_path / f"r{i}")
            reader.start()
            readers.append(reader)
        assert all(r.caught_up.wait(10) for r in readers)

        def write_batch(batch: int, count: int) -> None:
            writers = [
                Writer(s.url, tokens["worker"], section, tmp_path / f"w{batch}-{i}", limit=count)
                for i, s in enumerate(servers)
            ]
            for w in writers:
                w.start()
            for w in writers:
                w.join(timeout=60)
                w.finish()

        write_batch(0, 40)
        assert all(r.wait_for(80) for r in readers)
        # drop every LISTEN connection: the listeners must notice, reconnect and catch up
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'arinspect-listener'"
            ).fetchall()
        assert len(killed) == 2
        write_batch(1, 40)
        assert all(r.wait_for(160) for r in readers)
        for reader in readers:
            assert reader.seqs == list(range(1, 161))
        assert server_events(servers[1], tokens["qa"], section) == list(range(1, 161))
    finally:
        for reader in readers:
            reader.stop()
        for server in servers:
            server.stop()
        pg_server.drop_schema(url)


def open_raw_stream(port: int, section: str, token: str) -> socket.socket:
    """A WebSocket handshake on a socket with a tiny receive buffer that is never read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        (
            f"GET /api/sections/{section}/stream?since=0 HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


MAX_STALL_EVENTS = 2000  # 18 MB of events: far more than any socket buffers hold


def test_stalled_client_is_disconnected_and_others_get_everything(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'stall.db'}"
    tokens = make_tokens(db_url)
    server = ServerProcess(db_url, ARINSPECT_STREAM_BUFFER_EVENTS="20").start()
    reader = None
    try:
        section = make_section(server, tokens["engineer"])
        reader = StreamReader(server.url, tokens["qa"], section, tmp_path / "reader")
        reader.start()
        stalled = open_raw_stream(server.port, section, tokens["worker"])
        assert reader.caught_up.wait(10)
        written = 0
        with httpx.Client(base_url=server.url, headers=auth(tokens["qa"]), timeout=10) as http:
            stats = http.get("/api/stream/stats").json()
            assert stats["sections"][section]["clients"] == 2
            while stats["stalled_disconnects"] == 0 and written < MAX_STALL_EVENTS:
                for _ in range(25):  # 9 kB changes until the server drops the stalled client
                    body = {
                        "op_id": f"stall-{written:06d}",
                        "part_id": "P1",
                        "kind": "note",
                        "title": f"n{written}",
                        "anchor": anchor(),
                        "description": "x" * 9000,
                    }
                    answer = http.post(f"/api/sections/{section}/annotations", json=body)
                    assert answer.status_code == 201
                    written += 1
                time.sleep(0.05)
                stats = http.get("/api/stream/stats").json()
            assert stats["stalled_disconnects"] == 1
            assert stats["sections"][section]["clients"] == 1
        assert reader.wait_for(written)
        assert reader.seqs == list(range(1, written + 1))  # the others got everything, in order
        received = 0
        while chunk := stalled.recv(1 << 16):  # what was buffered, then EOF
            received += len(chunk)
        assert received < written * 9000  # a bounded buffer, not the whole stream
        stalled.close()
    finally:
        if reader is not None:
            reader.stop()
        server.stop()
