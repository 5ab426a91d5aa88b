"""A process's cache of API clients, trusted only as far as its listener vouches for it.

Pure bookkeeping, no I/O: the PostgreSQL listener (casestore.adapters.wakeup) feeds it
revocations and confirmations, `casestore.services.clients.Clients` reads and fills it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Entry = TypeVar("Entry")

REVOCATION_BOUND_SECONDS = 0.1
"""The most a process's `TokenCache` may lag behind the revocations committed; a revoke
waits slightly longer than this before it returns (only where caches exist)."""


class TokenCache(Generic[Entry]):
    """Clients by id in one API process, trusted only as far as a listener vouches for it.

    The listener (`casestore.adapters.wakeup.PostgresWakeup`) receives every revocation the
    database broadcasts and drops that client, and it pings itself over the same
    connection: notifications arrive in commit order, so when its ping comes back, every
    revocation committed before the ping was sent has been applied (`confirm`). Entries
    are used only while that moment is at most `bound` seconds old; a lost connection
    (`reset`) or a slow listener sends requests back to the database, never to a stale
    entry. Since `Clients.revoke` waits out the bound after its commit, a revoked token is
    refused by every process once the revoke has returned. Expiry needs no broadcast:
    every request compares the cached expiry with the clock.

    A row read from the database is kept only if no invalidation came in between the read
    and the keeping (`generation`): otherwise a revocation that arrived during the read
    would be overwritten by the row from before it.
    """

    IDLE_SECONDS = 1.0  # without requests for this long, the listener stops pinging

    def __init__(
        self,
        bound: float = REVOCATION_BOUND_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bound = bound
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._generation = 0
        self._confirmed = -math.inf
        self._wanted = -math.inf

    # ---- the listener's side -----------------------------------------------------------

    def invalidate(self, client_id: str) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop(client_id, None)

    def reset(self) -> None:
        """Forget everything and trust nothing until the next `confirm`: revocations may
        have been missed (the listener lost the database, or has only just started)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._confirmed = -math.inf

    def confirm(self, as_of: float) -> None:
        """Every revocation committed before `as_of` (this clock) has been applied."""
        with self._lock:
            self._confirmed = max(self._confirmed, as_of)

    def wants_confirmation(self) -> bool:
        """Whether requests would soon find the cache untrusted without a new ping."""
        now = self._monotonic()
        return now - self._wanted < self.IDLE_SECONDS and now - self._confirmed > self.bound / 4

    def now(self) -> float:
        """The clock `confirm` is given times of."""
        return self._monotonic()

    # ---- the request side --------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, client_id: str) -> Entry | None:
        now = self._monotonic()
        self._wanted = now
        if now - self._confirmed > self.bound:
            return None
        return self._entries.get(client_id)

    def put(self, client_id: str, entry: Entry, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._entries[client_id] = entry
