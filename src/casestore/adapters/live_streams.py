"""The live streams open in one API process, by client, so that revoking a client ends them.

A request is authenticated once, when it comes in; a Server-Sent Events stream is one
request that lasts for hours. So the process keeps its open streams by client id, and
whatever learns of a revocation ends that client's streams: on PostgreSQL the listener
that receives every revocation broadcast (casestore.adapters.wakeup), in any process
`Clients.revoke` of this process. Each stream also authenticates its token again before
it sends what it read (casestore.entrypoints.api.stream): where nothing tells a process
of a revocation (SQLite, or a listener that lost its connection) the stream still sends
nothing committed after it and ends at its next read, within seconds.

Pure bookkeeping, no I/O: ending is setting an event on the stream's own event loop,
from whichever thread learns of it.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress


class Ending:
    """One stream's signal to end, set from any thread and awaited on the stream's loop."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    def end(self) -> None:
        self._ended = True
        with suppress(RuntimeError):  # that loop has closed: the stream is gone
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self) -> None:
        await self._event.wait()


class LiveStreams:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, set[Ending]] = {}

    def open(self, client_id: str) -> Ending:
        """Register a stream of `client_id` (on the running event loop)."""
        ending = Ending(client_id)
        with self._lock:
            self._open.setdefault(client_id, set()).add(ending)
        return ending

    def close(self, ending: Ending) -> None:
        with self._lock:
            streams = self._open.get(ending.client_id, set())
            streams.discard(ending)
            if not streams:
                self._open.pop(ending.client_id, None)

    def end(self, client_id: str) -> None:
        """End every open stream of `client_id` (thread-safe)."""
        with self._lock:
            streams = list(self._open.get(client_id, ()))
        for ending in streams:
            ending.end()

    def count(self, client_id: str) -> int:
        with self._lock:
            return len(self._open.get(client_id, ()))
