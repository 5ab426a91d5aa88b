"""Tailing the feed while eight writers append at once, on SQLite and PostgreSQL.

A live feed resumes after the last position it saw, so it is only correct if positions
become visible in order: an event committed later with a lower position would be passed
over for good. Eight stores (as eight API processes would) write concurrently while one
reader tails; the reader must end up with exactly what was committed, once each, in
strictly increasing order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

from casestore.bootstrap import Services, build
from casestore.services.case_store import CaseStore
from casestore.settings import Settings
from tests.factories import GEMEENTE, ZVH, Clock, aanmelding, fresh_bsn, signalering, submit

WRITERS = 8
EVENTS_PER_WRITER = 12  # after each writer's aanmelding
DEADLINE_SECONDS = 60.0


def tail(read: Callable[[int], list[int]], done: threading.Event) -> list[int]:
    """Positions read page by page after the last one seen, until the writers are done
    and one more read finds nothing new."""
    seen: list[int] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        finished = done.is_set()  # before reading: a read after the last commit follows
        page = read(seen[-1] if seen else 0)
        seen += page
        if finished and not page:
            return seen
    raise AssertionError("the reader did not catch up with the writers")


def write(store: CaseStore, ready: threading.Barrier) -> list[int]:
    """A referral and signals by the gemeente, all of which the ZVH receives."""
    ready.wait(timeout=30)
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE))
    positions = [opened.position]
    for _ in range(EVENTS_PER_WRITER):
        signal = submit("signalering", signalering(), GEMEENTE)
        positions.append(store.append(opened.case_id, signal).position)
    return positions


def test_a_tailing_reader_sees_every_concurrent_commit_once_in_order(
    services: Services, settings: Settings, clock: Clock
) -> None:
    # Small pools: eight stores per test, and the whole suite runs in parallel.
    small = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}
    writers = [build(settings, clock=clock, **small) for _ in range(WRITERS)]
    store = services.store
    disclosure = services.disclosure
    ready = threading.Barrier(WRITERS + 2)
    done = threading.Event()

    def global_order(after: int) -> list[int]:
        return [e.position for e in store.events_after(after, 7)]

    def zvh_feed(after: int) -> list[int]:
        return [e.position for e in disclosure.feed(ZVH, after, 7)]

    def reader(read: Callable[[int], list[int]]) -> list[int]:
        ready.wait(timeout=30)
        return tail(read, done)

    try:
        with ThreadPoolExecutor(WRITERS + 2) as pool:
            tails = [pool.submit(reader, global_order), pool.submit(reader, zvh_feed)]
            written = [pool.submit(write, w.store, ready) for w in writers]
            committed = sorted(p for future in written for p in future.result())
            done.set()
            seen_global, seen_feed = (t.result() for t in tails)
    finally:
        for w in writers:
            w.close()

    assert len(committed) == WRITERS * (EVENTS_PER_WRITER + 1)
    assert seen_global == committed
    assert seen_global == [e.position for e in store.iter_events()]
    assert all(a < b for a, b in pairwise(seen_feed))
    assert seen_feed == [e.position for e in disclosure.feed(ZVH, 0, 10_000)] == committed
