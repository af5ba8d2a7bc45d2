"""Python client of the arinspect sync server, with an offline queue persisted on disk.

Writes are queued first (each with a fresh op id) and sent when the server is
reachable; a retry of an op whose answer was lost is harmless, because the server
applies each op id once. Events are pulled over REST or streamed over WebSocket into a
`Replica`, a local copy of a section's annotations, comments and conflicts. Only
httpx and websockets are needed, never FastAPI.
"""

from arinspect.client.offline_queue import OfflineQueue, QueuedOp
from arinspect.client.replica import Replica
from arinspect.client.sync import FlushReport, SyncClient, SyncError

__all__ = ["FlushReport", "OfflineQueue", "QueuedOp", "Replica", "SyncClient", "SyncError"]
