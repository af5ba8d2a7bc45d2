"""PostgreSQL LISTEN/NOTIFY wake-ups for the hub (several server processes, one database).

A NOTIFY is only a wake-up: it is delivered on commit, lost for good while the listener
is disconnected, and a dropped connection fails silently. So the listener runs a
keep-alive query every second, reconnects after any error, and after each (re)connect
wakes every section so that the hub catches up from the events table.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from arinspect_server.services.context import NOTIFY_CHANNEL
from arinspect_server.stream import Hub

log = logging.getLogger(__name__)
POLL_S = 0.1  # longest wait in notifies(): bounds the time stop() takes
APP_NAME = "arinspect-listener"  # shows in pg_stat_activity


class PgListener:
    """A daemon thread that LISTENs and forwards wake-ups to the hub's loop."""

    def __init__(self, dsn: str, hub: Hub, instance_id: str = "", keepalive_s: float = 1.0) -> None:
        self.dsn = dsn
        self.instance_id = instance_id
        self.hub = hub
        self.keepalive_s = keepalive_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="arinspect-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        """Start listening."""
        self._thread.start()

    def stop(self) -> None:
        """Stop (within about ``POLL_S``)."""
        self._stop.set()
        self._thread.join(timeout=POLL_S + 5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.dsn, autocommit=True, connect_timeout=5, application_name=APP_NAME
                ) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.connected.set()
                    self._wake_all()
                    last_check = time.monotonic()
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=POLL_S):
                            self._forward(notify.payload)
                        if time.monotonic() - last_check >= self.keepalive_s:
                            conn.execute("SELECT 1")  # raises if the connection is gone
                            last_check = time.monotonic()
            except psycopg.Error as exc:
                self.connected.clear()
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(0.5)

    def _forward(self, payload: str) -> None:
        section_id, _, rest = payload.partition("\t")
        seq, _, instance_id = rest.partition("\t")
        if instance_id and instance_id == self.instance_id:
            return  # written here: already handed to the hub after commit
        try:
            self.hub.wake_threadsafe(section_id, int(seq))
        except ValueError:
            log.warning("ignoring malformed NOTIFY payload %r", payload)

    def _wake_all(self) -> None:
        if self.hub.loop is not None:
            self.hub.loop.call_soon_threadsafe(self.hub.wake_all)
