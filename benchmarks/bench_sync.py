"""Benchmark of the sync server on loopback: delivery latency, catch-up, a stalled client.

The server runs as ``arinspect serve`` in its own process, the stream clients in this
process (asyncio) and the writer in a third one. Scenarios:

- delivery: N WebSocket clients on one section, one writer creating annotations at R
  changes/s; latency = receipt time - the event's server time stamp (taken inside the
  write transaction, before commit), p50/p99 over every (client, event); every client's
  sequence numbers are checked for gaps and duplicates.
- stalled: the 50-client scenario again with one more client that never reads.
- catch-up: 10,000 changes written in bulk, then a client connects with since=0; time
  until it has all of them.

Run: python benchmarks/bench_sync.py [--db sqlite|postgresql] [--duration 8]
It stops by itself and prints figures; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from arinspect_server.db.engine import Database
from arinspect_server.pgtemp import TempPostgres, free_port
from arinspect_server.schemas import AnnotationCreate
from arinspect_server.services.annotations import create_operation
from arinspect_server.services.auth import create_token
from arinspect_server.services.context import Actor, apply_ops

EVENT = re.compile(r'\{"seq":(\d+),.*?"at":"([^"]+)"')
ANCHOR = {
    "point_section": [1, 2, 0.1],
    "normal_section": [0, 0, 1],
    "point_part": [0, 0, 0],
    "normal_part": [0, 0, 1],
}


def start_server(db_url: str, port: int) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "arinspect",
        "serve",
        "--db",
        db_url,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


class Receiver:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.got: list[tuple[int, str, float]] = []
        self.ready = asyncio.Event()
        self.closed = False

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with connect(
            self.url, additional_headers=headers, max_size=None, open_timeout=30
        ) as ws:
            async for raw in ws:
                now = time.time()
                if raw.startswith('{"type":"events"'):
                    self.got += [(int(m[1]), m[2], now) for m in EVENT.finditer(raw)]
                elif '"caught_up"' in raw:
                    self.ready.set()
        self.closed = True


def stalled_socket(port: int, section: str, token: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        (
            f"GET /api/sections/{section}/stream?since=0 HTTP/1.1\r\nHost: x\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    return sock


async def delivery(
    port: int,
    tokens: dict[str, str],
    section: str,
    clients: int,
    rate: float,
    duration_s: float,
    stall: bool = False,
) -> dict:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await http.post(
            "/api/sections",
            json={"id": section, "name": section},
            headers={"Authorization": f"Bearer {tokens['engineer']}"},
        )
        url = f"ws://127.0.0.1:{port}/api/sections/{section}/stream?since=0"
        receivers = [Receiver(url, tokens["qa"]) for _ in range(clients)]
        tasks = []
        for i in range(0, clients, 25):  # connect in waves
            tasks += [asyncio.create_task(r.run()) for r in receivers[i : i + 25]]
            await asyncio.wait_for(
                asyncio.gather(*(r.ready.wait() for r in receivers[i : i + 25])), 60
            )
        stalled = stalled_socket(port, section, tokens["worker"]) if stall else None
        count = int(rate * duration_s)
        ctx = multiprocessing.get_context("spawn")
        result_queue = ctx.Queue()
        writer = ctx.Process(
            target=write_at_rate, args=(port, tokens["worker"], section, rate, count, result_queue)
        )
        writer.start()
        accepted, achieved = await asyncio.get_running_loop().run_in_executor(
            None, result_queue.get, True, duration_s + 60
        )
        writer.join(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(len(r.got) < count for r in receivers):
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if stalled is not None:
            stalled.close()
    latencies = []
    gaps = dups = missing = 0
    for receiver in receivers:
        seqs = [s for s, _, _ in receiver.got]
        dups += len(seqs) - len(set(seqs))
        gaps += sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b != a + 1)
        missing += count - len(set(seqs))
        latencies += [now - datetime.fromisoformat(at).timestamp() for _, at, now in receiver.got]
    latencies.sort()
    return {
        "clients": clients,
        "rate": rate,
        "achieved_rate": achieved,
        "changes": count,
        "accepted": accepted,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
        "gaps": gaps,
        "dups": dups,
        "missing": missing,
    }


def write_at_rate(port: int, token: str, section: str, rate: float, count: int, results) -> None:  # noqa: ANN001
    """The writer, in its own process: ``count`` creates at ``rate`` per second."""

    async def write() -> tuple[int, float]:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            t0 = time.perf_counter()
            posts = []
            for i in range(count):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = {
                    "op_id": f"{section}-{i:08d}",
                    "part_id": "P1",
                    "kind": "note",
                    "title": f"n{i}",
                    "anchor": ANCHOR,
                }
                posts.append(
                    asyncio.create_task(
                        http.post(
                            f"/api/sections/{section}/annotations", json=body, headers=headers
                        )
                    )
                )
            answers = await asyncio.gather(*posts)
            achieved = count / (time.perf_counter() - t0)
        return sum(a.status_code == 201 for a in answers), achieved

    results.put(run(write()))


async def catch_up(port: int, token: str, section: str, expected: int) -> tuple[float, int]:
    url = f"ws://127.0.0.1:{port}/api/sections/{section}/stream?since=0"
    receiver = Receiver(url, token)
    start = time.perf_counter()
    task = asyncio.create_task(receiver.run())
    await asyncio.wait_for(receiver.ready.wait(), 60)
    elapsed = time.perf_counter() - start
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    seqs = [s for s, _, _ in receiver.got]
    assert seqs == list(range(1, expected + 1)), "catch-up lost or reordered events"
    return elapsed, len(seqs)


def bulk_write(db_url: str, section: str, count: int) -> float:
    db = Database(db_url)
    actor = Actor("bench", "worker", "bench")
    start = time.perf_counter()
    with db.write() as session:
        from arinspect_server.db.models import Section

        session.add(
            Section(id=section, name=section, description="", last_seq=0, created_by="bench")
        )
    for first in range(0, count, 2000):
        ops = []
        for i in range(first, min(first + 2000, count)):
            body = AnnotationCreate(
                op_id=f"bulk-{section}-{i:06d}",
                part_id="P1",
                kind="note",
                title=f"n{i}",
                anchor=ANCHOR,
            )
            ops.append((body.op_id, create_operation(section, body)))
        apply_ops(db, actor, section, ops)
    db.dispose()
    return time.perf_counter() - start


def run(coro):  # noqa: ANN001, ANN201
    """Run a coroutine on uvloop when installed (as the server does), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario")
    parser.add_argument("--quick", action="store_true", help="only the two delivery targets")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    pg = TempPostgres().start() if args.db == "postgresql" else None
    db_url = pg.url() if pg else f"sqlite:///{folder / 'bench.db'}"
    db = Database(db_url)
    db.migrate()
    admin = Actor("bench", "admin", "bench")
    tokens = {
        role: create_token(db, admin, f"b-{role}", role, "bench")
        for role in ("worker", "qa", "engineer")
    }
    db.dispose()
    port = free_port()
    server = start_server(db_url, port)
    print(f"sync server on {args.db}, {os.cpu_count()} cores, clients in another process")
    try:
        rows = []
        plan = [
            ("delivery", 50, 20, False),
            ("delivery", 200, 50, False),
            ("stalled+1", 50, 20, True),
            ("delivery", 50, 20, False),
            ("stalled+1", 50, 20, True),
        ]
        if args.quick:
            plan = plan[:2]
        for index, (name, clients, rate, stall) in enumerate(plan):
            section = f"s{index}-{clients}"
            result = run(delivery(port, tokens, section, clients, rate, args.duration, stall))
            rows.append((name, result))
        print(
            f"{'scenario':<11} {'clients':>7} {'rate/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'max ms':>7} {'gaps':>5} {'dups':>5} {'missing':>7}"
        )
        for name, r in rows:
            print(
                f"{name:<11} {r['clients']:>7} {r['achieved_rate']:>7.1f} {r['p50_ms']:>7.1f} "
                f"{r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} {r['gaps']:>5} {r['dups']:>5} "
                f"{r['missing']:>7}"
            )
        if args.quick:
            return
        base = statistics.mean(
            r["p99_ms"] for n, r in rows if n == "delivery" and r["clients"] == 50
        )
        stalled = statistics.mean(r["p99_ms"] for n, r in rows if n == "stalled+1")
        change = 100 * (stalled / base - 1)
        print(
            f"stalled client (mean of 2 runs each): p99 {base:.1f} -> {stalled:.1f} ms "
            f"({change:+.0f} %)"
        )
        written_s = bulk_write(db_url, "catchup", 10_000)
        elapsed, got = run(catch_up(port, tokens["qa"], "catchup", 10_000))
        print(
            f"catch-up: {got} missed changes in {elapsed:.2f} s over one WebSocket "
            f"(bulk-written in {written_s:.1f} s)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        if pg is not None:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
