"""A per-process signal that new events may have been committed, for live feeds to await.

A wakeup is only a hint. Readers keep their own position and, after every wakeup or a
timeout of a few seconds, re-read the feed after it; a missed or spurious wakeup costs
latency or one empty read, never an event. That is what makes a lossy signal sufficient.

Sources, per backend:
- PostgreSQL: one dedicated connection per process LISTENs on the recorder's channel (every
  save NOTIFYs it inside its transaction, so the notification arrives after the commit).
  It reconnects after losing the server and wakes everyone when it is back, since
  notifications sent while it was away are gone. The library's own `recorder.subscribe()`
  is not used: it holds a pooled connection and two threads per subscriber, reads every
  event of every organisation, and stops for good on the first connection error.
- SQLite: there is no push. Saves through this process wake readers at once (the
  application's after-save hook), and a poll of the highest position every half second
  picks up writes by other processes on the same file.

Channel names are per database, not per schema: processes on other schemas of the same
database wake each other needlessly, which costs one empty read each.

On PostgreSQL the same connection keeps the process's cache of API clients honest
(casestore.adapters.token_cache.TokenCache), which, unlike a wakeup, must never miss anything: it
applies the revocations broadcast on their own channel and pings itself to confirm how
far it has got; whenever the connection is lost or new, the cache is reset and trusted
again only after the next ping. Each revocation it receives also ends the revoked
client's live streams in this process (casestore.adapters.live_streams).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import psycopg
import structlog
from psycopg.sql import SQL, Identifier, Literal

from casestore.adapters.token_cache import TokenCache

log = structlog.get_logger("casestore.adapters.wakeup")

SQLITE_POLL_SECONDS = 0.5
LISTEN_POLL_SECONDS = 0.5  # how often the listener looks up to see whether to stop
RECONNECT_SECONDS = (0.1, 5.0)  # first and longest pause before reconnecting
PING_TIMEOUT_SECONDS = 5.0  # a ping unanswered this long: the connection is dead


REVOCATIONS_CHANNEL = "casestore_clients"
"""Where a revoked client's id is broadcast (casestore.adapters.persistence.client_table)."""

OnSaved = Callable[[Callable[[], None]], Callable[[], None]]
"""Registers a listener for this process's committed saves; returns its remover."""

OnRevoked = Callable[[str], None]
"""Told the id of every client revoked (e.g. to end its live streams)."""


class Wakeup:
    """Waiters on any event loop, woken from any thread.

    A counter of wakeups closes the race between reading and waiting: take `generation`
    before reading, then `wait(seen)` returns at once if a wakeup came in between."""

    def __init__(self, on_saved: OnSaved) -> None:
        self._on_saved = on_saved
        self._lock = threading.Lock()
        self._generation = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unhook: Callable[[], None] | None = None

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def notify(self) -> None:
        """Wake every waiter (thread-safe)."""
        with self._lock:
            self._generation += 1
            waiters, self._waiters = self._waiters, set()
        for loop, future in waiters:
            with suppress(RuntimeError):  # that loop has closed: nobody is waiting there
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, seen: int, timeout: float) -> bool:
        """Until a wakeup after generation `seen`, a stop, or `timeout` seconds; true when
        woken. Cancelling the caller cancels the wait."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._lock:
            if self._generation != seen or self.stopped:
                return True
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)
        return True

    # ---- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._unhook = self._on_saved(self.notify)
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the source and release every waiter (they see `stopped`)."""
        self._stopping.set()
        self.notify()
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError


class PostgresWakeup(Wakeup):
    """LISTEN on the events' channel over a connection of its own; with `tokens`, also
    on the revocations channel and a ping channel of this connection's own."""

    backend_pid: int | None = None  # the listening connection's server process, if any

    def __init__(
        self,
        on_saved: OnSaved,
        connect: Callable[[], psycopg.Connection[Any]],
        channel: str,
        tokens: TokenCache[Any] | None = None,
        on_revoked: OnRevoked | None = None,
    ) -> None:
        super().__init__(on_saved)
        self._connect = connect
        self._channel = channel
        self.tokens = tokens
        self._on_revoked = on_revoked

    def stop(self) -> None:
        super().stop()
        if self.tokens is not None:
            self.tokens.reset()

    def _run(self) -> None:
        listen = SQL("LISTEN {}").format(Identifier(self._channel))
        pause = RECONNECT_SECONDS[0]
        while not self.stopped:
            try:
                with self._connect() as conn:
                    conn.execute(listen)
                    tokens = (
                        _TokenListener(conn, self.tokens, self._on_revoked) if self.tokens else None
                    )
                    self.backend_pid = conn.info.backend_pid
                    pause = RECONNECT_SECONDS[0]
                    self.notify()  # (re)connected: whatever was missed meanwhile is re-read
                    while not self.stopped:
                        poll = LISTEN_POLL_SECONDS if tokens is None else tokens.poll_seconds
                        for notice in conn.notifies(timeout=poll):
                            if tokens is None or not tokens.take(notice):
                                self.notify()
                        if tokens is not None:
                            tokens.ping_if_wanted()
            except psycopg.Error as exc:
                self.backend_pid = None
                if self.tokens is not None:
                    self.tokens.reset()
                if self.stopped:
                    break
                log.warning("feed listener lost the database", error=str(exc), retry_in=pause)
                self.notify()  # readers fall back on their own re-reads meanwhile
                self._stopping.wait(pause)
                pause = min(pause * 2, RECONNECT_SECONDS[1])


class _TokenListener:
    """The token cache's half of a listening connection: revocations and self-pings."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        cache: TokenCache[Any],
        on_revoked: OnRevoked | None = None,
    ) -> None:
        self.conn, self.cache, self.on_revoked = conn, cache, on_revoked
        self.ping_channel = f"casestore_ping_{conn.info.backend_pid}"
        # A ping commits a transaction of its own; nothing is lost if one is never flushed.
        conn.execute("SET synchronous_commit = off")
        conn.execute(SQL("LISTEN {}").format(Identifier(REVOCATIONS_CHANNEL)))
        conn.execute(SQL("LISTEN {}").format(Identifier(self.ping_channel)))
        # Only now is every revocation seen: whatever was cached before may have missed one.
        cache.reset()
        self._sent: tuple[str, float] | None = None  # the ping on its way: payload, when
        self._pings = 0

    @property
    def poll_seconds(self) -> float:
        # Often enough, even while idle, that the first requests after a pause find the
        # cache confirmed again within a few hundredths of a second.
        return self.cache.bound / 4

    def take(self, notice: psycopg.Notify) -> bool:
        """Apply a notification meant for the cache; False if it is not one."""
        if notice.channel == REVOCATIONS_CHANNEL:
            self.cache.invalidate(notice.payload)
            if self.on_revoked is not None:
                self.on_revoked(notice.payload)
        elif notice.channel == self.ping_channel:
            if self._sent is not None and notice.payload == self._sent[0]:
                self.cache.confirm(self._sent[1])
                self._sent = None
        else:
            return False
        return True

    def ping_if_wanted(self) -> None:
        if self._sent is not None:
            if self.cache.now() - self._sent[1] > PING_TIMEOUT_SECONDS:
                # Silently gone (a dropped idle connection sends no error): reconnect.
                raise psycopg.OperationalError("the listener's ping went unanswered")
            return
        if not self.cache.wants_confirmation():
            return
        self._pings += 1
        payload = str(self._pings)
        self._sent = (payload, self.cache.now())
        # Its echo arrives after every notification committed before it was sent.
        self.conn.execute(
            SQL("NOTIFY {}, {}").format(Identifier(self.ping_channel), Literal(payload))
        )


class SQLiteWakeup(Wakeup):
    """Poll the highest position: other processes writing to the file cannot tell us."""

    def __init__(self, on_saved: OnSaved, max_position: Callable[[], int]) -> None:
        super().__init__(on_saved)
        self._max_position = max_position

    def _run(self) -> None:
        last: int | None = None  # the first look wakes everyone: one may have read before
        while not self.stopped:
            current: int | None = last
            try:
                current = self._max_position()
            except Exception as exc:  # keep polling: readers re-read on their own anyway
                log.warning("feed poll failed", error=str(exc))
            if current != last:
                self.notify()
                last = current
            self._stopping.wait(SQLITE_POLL_SECONDS)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
