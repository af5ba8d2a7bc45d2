"""Helpers for tests against real server processes (``arinspect serve``) on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from arinspect.client import SyncClient
from arinspect_server.pgtemp import free_port


class ServerProcess:
    """``arinspect serve`` in a subprocess; always stopped by `stop` (or `kill`)."""

    def __init__(self, db_url: str, port: int | None = None, **env: str) -> None:
        self.db_url = db_url
        self.port = port or free_port()
        self.env = {**os.environ, **env}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> ServerProcess:
        cmd = [
            sys.executable,
            "-m",
            "arinspect",
            "serve",
            "--db",
            self.db_url,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server on port {self.port} did not start in {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StreamReader(threading.Thread):
    """Reads a section's stream with `SyncClient.stream` (reconnecting) in a thread."""

    def __init__(self, base_url: str, token: str, section: str, state_dir: Path) -> None:
        super().__init__(daemon=True)
        self.client = SyncClient(base_url, token, state_dir)
        self.section = section
        self.seqs: list[int] = []
        self.caught_up = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task | None = None

    def run(self) -> None:
        self._loop.run_until_complete(self._read())

    async def _read(self) -> None:
        self._task = asyncio.current_task()
        try:
            async for message in self.client.stream(self.section, max_backoff_s=0.2):
                if message.get("type") == "caught_up":
                    self.caught_up.set()
                elif "seq" in message:
                    self.seqs.append(message["seq"])
        except asyncio.CancelledError:
            pass

    def wait_for(self, count: int, timeout_s: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.seqs) >= count:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self.join(timeout=5)
        self.client.close()
