"""Per-section fan-out of committed events to WebSocket clients (one process).

The database is the truth; this hub only moves events along fast:

- A write in this process hands its committed events to `Hub.publish_threadsafe`.
- A write in another process reaches us as a wake-up (PostgreSQL NOTIFY, see
  `listener.py`) or through the safety poll of section heads; the hub then reads the
  missing events from the ``events`` table.
- Per section, the hub forwards events in sequence order: an event that arrives before
  its predecessor waits while the predecessor is read from the table (commit order is
  sequence order, so it is there).
- Each client has its own bounded queue and sender task, so a slow client never slows
  the others; a client whose queue overflows is disconnected (close code 1013) and may
  reconnect with ``since`` = the last sequence number it received.
- Each client keeps its own position: it catches up from the table, then takes live
  events, skipping what it already has and filling any gap from the table.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio

from arinspect_server.db.engine import Database
from arinspect_server.services.context import CommittedEvent
from arinspect_server.services.sections import event_bodies, head_seqs

log = logging.getLogger(__name__)

OVERFLOW_CLOSE_CODE = 1013


def events_message(bodies: Sequence[str]) -> str:
    """The ``events`` message carrying event bodies (already JSON) in order."""
    return '{"type":"events","events":[' + ",".join(bodies) + "]}"


@dataclass(eq=False)
class Subscriber:
    """One stream client: its position and its bounded queue of live events."""

    section_id: str
    next_seq: int
    queue: asyncio.Queue[CommittedEvent]
    overflowed: bool = False
    on_overflow: list = field(default_factory=list)

    def push(self, event: CommittedEvent) -> None:
        """Queue a live event, or mark the client as stalled when the queue is full."""
        if self.overflowed or event.seq < self.next_seq:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            for callback in self.on_overflow:
                callback()


@dataclass(eq=False)
class Channel:
    """Subscribers of one section and the next sequence number to forward."""

    subscribers: set[Subscriber] = field(default_factory=set)
    next_seq: int | None = None
    pending: dict[int, CommittedEvent] = field(default_factory=dict)
    fetching: bool = False
    refetch: bool = False


class Hub:
    """Fan-out of one server process; lives in the app's event loop."""

    def __init__(self, db: Database, buffer_events: int, page_events: int, poll_s: float) -> None:
        self.db = db
        self.buffer_events = buffer_events
        self.page_events = page_events
        self.poll_s = poll_s
        self.channels: dict[str, Channel] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task | None = None
        self.stalled_disconnects = 0

    async def start(self) -> None:
        """Bind to the running loop and start the safety poll."""
        self.loop = asyncio.get_running_loop()
        self._poller = asyncio.create_task(self._poll_heads())

    async def stop(self) -> None:
        """Stop the poll."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)

    # --- entry points -------------------------------------------------------------------

    def publish_threadsafe(self, events: Sequence[CommittedEvent]) -> None:
        """Hand committed events over from a worker thread (cheap when nobody listens)."""
        if events and self.loop is not None and events[0].section_id in self.channels:
            self.loop.call_soon_threadsafe(self.offer, list(events))

    def wake_threadsafe(self, section_id: str, seq: int | None) -> None:
        """A wake-up from another thread: section ``section_id`` has reached ``seq``."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.wake, section_id, seq)

    def wake(self, section_id: str, seq: int | None) -> None:
        """Read the section's new events from the table if ``seq`` is news (None: check)."""
        channel = self.channels.get(section_id)
        if channel is None or channel.next_seq is None:
            return
        if seq is None or seq >= channel.next_seq:
            self._schedule_fetch(section_id, channel)

    def wake_all(self) -> None:
        """Check every section with subscribers (after a lost LISTEN connection)."""
        for section_id in list(self.channels):
            self.wake(section_id, None)

    def offer(self, events: Sequence[CommittedEvent]) -> None:
        """Forward events (any order, duplicates allowed) to the section's subscribers."""
        if not events:
            return
        section_id = events[0].section_id
        channel = self.channels.get(section_id)
        if channel is None:
            return
        for event in events:
            if channel.next_seq is None or event.seq >= channel.next_seq:
                channel.pending[event.seq] = event
        self._drain(section_id, channel)

    # --- subscribers --------------------------------------------------------------------

    async def subscribe(self, section_id: str, since: int) -> Subscriber:
        """Register a client that has everything up to ``since``."""
        subscriber = Subscriber(section_id, since + 1, asyncio.Queue(self.buffer_events))
        channel = self.channels.setdefault(section_id, Channel())
        channel.subscribers.add(subscriber)
        if channel.next_seq is None:
            heads = await anyio.to_thread.run_sync(head_seqs, self.db, [section_id])
            if channel.next_seq is None:
                channel.next_seq = heads.get(section_id, 0) + 1
                channel.pending = {
                    s: e for s, e in channel.pending.items() if s >= channel.next_seq
                }
                self._drain(section_id, channel)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a client; the section's channel goes when its last client goes."""
        channel = self.channels.get(subscriber.section_id)
        if channel is None:
            return
        channel.subscribers.discard(subscriber)
        if not channel.subscribers:
            del self.channels[subscriber.section_id]

    def stats(self) -> dict:
        """Stream clients per section in this process, and stalled clients dropped so far."""
        return {
            "sections": {
                section_id: {"clients": len(c.subscribers), "next_seq": c.next_seq}
                for section_id, c in self.channels.items()
            },
            "stalled_disconnects": self.stalled_disconnects,
        }

    async def read_events(self, section_id: str, since: int, limit: int) -> list[tuple[int, str]]:
        """Events after ``since`` from the table (in a worker thread)."""
        return await anyio.to_thread.run_sync(event_bodies, self.db, section_id, since, limit)

    # --- internals ----------------------------------------------------------------------

    def _drain(self, section_id: str, channel: Channel) -> None:
        if channel.next_seq is None:
            return
        seq = channel.next_seq
        while seq in channel.pending:
            event = channel.pending.pop(seq)
            for subscriber in channel.subscribers:
                subscriber.push(event)
            seq += 1
        channel.next_seq = seq
        if channel.pending:  # a gap: its events are committed, read them
            self._schedule_fetch(section_id, channel)

    def _schedule_fetch(self, section_id: str, channel: Channel) -> None:
        if channel.fetching:
            channel.refetch = True
            return
        channel.fetching = True
        asyncio.get_running_loop().create_task(self._fetch(section_id, channel))

    async def _fetch(self, section_id: str, channel: Channel) -> None:
        try:
            while True:
                channel.refetch = False
                if self.channels.get(section_id) is not channel or channel.next_seq is None:
                    return
                since = channel.next_seq - 1
                rows = await self.read_events(section_id, since, self.page_events)
                self.offer([CommittedEvent(section_id, seq, body) for seq, body in rows])
                if len(rows) < self.page_events and not channel.refetch:
                    return
        except Exception:
            log.exception("reading events of section %s failed", section_id)
        finally:
            channel.fetching = False

    async def _poll_heads(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            if not self.channels:
                continue
            try:
                heads = await anyio.to_thread.run_sync(head_seqs, self.db, list(self.channels))
            except Exception:
                log.exception("polling section heads failed")
                continue
            for section_id, head in heads.items():
                self.wake(section_id, head)


async def run_sender(send_text, hub: Hub, subscriber: Subscriber) -> None:  # noqa: ANN001
    """Send a client everything after its position, then live events, in order."""
    await _catch_up(send_text, hub, subscriber, None)
    await send_text(json.dumps({"type": "caught_up", "seq": subscriber.next_seq - 1}))
    queue = subscriber.queue
    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        batch = [e for e in batch if e.seq >= subscriber.next_seq]
        if not batch:
            continue
        if batch[0].seq > subscriber.next_seq:
            await _catch_up(send_text, hub, subscriber, batch[0].seq - 1)
            batch = [e for e in batch if e.seq >= subscriber.next_seq]
        if not batch:
            continue
        await send_text(events_message([e.body for e in batch]))
        subscriber.next_seq = batch[-1].seq + 1


async def _catch_up(send_text, hub: Hub, subscriber: Subscriber, upto: int | None) -> None:  # noqa: ANN001
    page = hub.page_events
    while True:
        since = subscriber.next_seq - 1
        limit = page if upto is None else min(page, upto - since)
        if limit <= 0:
            return
        rows = await hub.read_events(subscriber.section_id, since, limit)
        if rows:
            await send_text(events_message([body for _, body in rows]))
            subscriber.next_seq = rows[-1][0] + 1
        if len(rows) < limit:
            return
