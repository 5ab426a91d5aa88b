"""How long a write keeps trying when concurrent writers take the version it meant to write.

Appends are optimistic: a writer reads the case, records its event on the next version
and saves; a concurrent save of that version makes this one fail, and the writer tries
again on a fresh read. Losing is the store's business, not the caller's, unless the
caller named the version it expects. Writers that collided once tend to collide again if
they all retry at once, so each waits a random pause below a ceiling that doubles per
loss ("full jitter"); past a bound in time it gives up, and the caller is asked to come
back later (`CaseBusy`) rather than told of a conflict it did not cause.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

WRITE_PATIENCE_SECONDS = 5.0
FIRST_CEILING_SECONDS = 0.002
LAST_CEILING_SECONDS = 0.05


class Retries:
    """The retries of one write: pauses with full jitter until `patience` has passed."""

    def __init__(
        self,
        patience: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._monotonic, self._sleep, self._uniform = monotonic, sleep, uniform
        self._started = monotonic()
        self._deadline = self._started + patience
        self._ceiling = FIRST_CEILING_SECONDS

    @property
    def waited(self) -> float:
        return self._monotonic() - self._started

    @property
    def expired(self) -> bool:
        return self._monotonic() >= self._deadline

    def pause(self) -> bool:
        """Wait before the next attempt; False (without waiting) once time is up."""
        left = self._deadline - self._monotonic()
        if left <= 0:
            return False
        self._sleep(min(left, self._uniform(0, self._ceiling)))
        self._ceiling = min(self._ceiling * 2, LAST_CEILING_SECONDS)
        return True
