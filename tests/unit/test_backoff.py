"""When a failed webhook delivery is retried: exponential ceilings, full jitter, a deadline."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from casestore.services.webhooks.backoff import Backoff

SECOND = timedelta(seconds=1)


def test_the_ceiling_doubles_per_failure_up_to_the_cap() -> None:
    backoff = Backoff(base=SECOND, cap=timedelta(hours=1))
    assert [backoff.ceiling(n) for n in range(1, 6)] == [SECOND * 2**k for k in range(5)]
    assert backoff.ceiling(12) == timedelta(seconds=2048)
    assert backoff.ceiling(13) == timedelta(hours=1)  # 4096 s is above the cap
    assert backoff.ceiling(10_000) == timedelta(hours=1)


@pytest.mark.parametrize("failures", [1, 3, 8, 13, 40])
def test_delays_are_drawn_over_the_whole_range_below_the_ceiling(failures: int) -> None:
    backoff = Backoff(rng=random.Random(failures))
    ceiling = backoff.ceiling(failures)
    delays = [backoff.delay(failures) for _ in range(2000)]
    assert all(timedelta(0) <= d <= ceiling for d in delays)
    # Full jitter: not clustered near the ceiling as "equal jitter" would be.
    assert min(delays) < ceiling * 0.05
    assert max(delays) > ceiling * 0.95
    mean = sum(delays, timedelta(0)) / len(delays)
    assert ceiling * 0.4 < mean < ceiling * 0.6


def test_it_gives_up_only_once_the_deadline_has_passed_since_the_first_failure() -> None:
    backoff = Backoff(give_up_after=timedelta(hours=24))
    first = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert not backoff.gives_up(first, first)
    assert not backoff.gives_up(first, first + timedelta(hours=24) - SECOND)
    assert backoff.gives_up(first, first + timedelta(hours=24))
