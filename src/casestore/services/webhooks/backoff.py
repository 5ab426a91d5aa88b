"""When to retry a failed delivery: exponential backoff with full jitter, and a deadline.

The n-th failure in a row waits a uniformly random time in [0, min(cap, base·2^(n-1))]
("full jitter"): receivers that come back after an outage are not hit by every
subscription at the same instant. Retries go on until `give_up_after` has passed since
the first failure of the event; the failure after that parks the subscription.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_EXPONENT = 40  # beyond this the ceiling is the cap anyway; keeps 2**n small


@dataclass(frozen=True)
class Backoff:
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    rng: random.Random = field(default_factory=random.SystemRandom, compare=False)

    def ceiling(self, failures: int) -> timedelta:
        """The longest wait after the `failures`-th failure in a row (1-based)."""
        exponent = min(max(failures, 1) - 1, MAX_EXPONENT)
        return min(self.cap, self.base * (1 << exponent))

    def delay(self, failures: int) -> timedelta:
        return self.ceiling(failures) * self.rng.random()

    def gives_up(self, failing_since: datetime, now: datetime) -> bool:
        return now - failing_since >= self.give_up_after
