"""Many writers on one case, none naming a version: every append lands, none conflicts.

A writer that names no expected version asks for its event to be appended wherever the
case stands, so a concurrent writer winning the race is the store's business: it retries
on a fresh read until the event is in. Eight stores (as eight API processes would) append
to one case at once on SQLite and PostgreSQL; no append may fail, each event must be
stored exactly once, and a conflict is only ever reported against a version the caller
named, with a message that is true.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.persistence import IntegrityError

from casestore.bootstrap import Services, build
from casestore.domain import errors
from casestore.services.case_store import CaseStore, Recorded
from casestore.settings import Settings
from tests.factories import Clock, open_case, signalering, submit

WRITERS = 8
PER_WRITER = 12


def test_eight_writers_without_expected_versions_never_conflict_and_store_each_event_once(
    services: Services, settings: Settings, clock: Clock
) -> None:
    small = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}
    writers = [build(settings, clock=clock, **small) for _ in range(WRITERS)]
    store = services.store
    opened = open_case(store)
    ready = threading.Barrier(WRITERS)

    def write(index: int, own: CaseStore) -> list[Recorded | Exception]:
        ready.wait(timeout=30)
        results: list[Recorded | Exception] = []
        for number in range(PER_WRITER):
            # Half the writers send idempotency keys, half do not: both must land once.
            key = f"w{index}-{number}" if index % 2 else None
            try:
                results.append(
                    own.append(opened.case_id, submit("signalering", signalering(), key=key))
                )
            except Exception as exc:  # counted below, by kind
                results.append(exc)
        return results

    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            futures = [pool.submit(write, i, w.store) for i, w in enumerate(writers)]
            results = [r for future in futures for r in future.result()]
    finally:
        for w in writers:
            w.close()

    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == [], f"{len(failures)} of {len(results)} appends failed: {failures[:3]}"
    recorded = [r for r in results if isinstance(r, Recorded)]
    total = WRITERS * PER_WRITER
    assert not any(r.replayed for r in recorded)
    assert sorted(r.version for r in recorded) == list(range(2, total + 2))
    history = store.history(opened.case_id)
    assert [e.originator_version for e in history] == list(range(1, total + 2))
    assert sorted(e.event_id for e in history[1:]) == sorted(r.event_id for r in recorded)


def test_a_conflict_names_the_version_the_caller_expected_and_the_true_current_one(
    services: Services,
) -> None:
    store = services.store
    opened = open_case(store)
    store.append(opened.case_id, submit("signalering", signalering()))

    with pytest.raises(errors.VersionConflict) as raised:
        store.append(opened.case_id, submit("signalering", signalering()), expected_version=1)

    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert str(raised.value) == "expected version 1, but the case is at version 2"


def test_a_writer_that_keeps_losing_past_the_bound_is_told_to_come_back_not_of_a_conflict(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = services.store
    opened = open_case(store)

    def always_beaten(*args: object, **kwargs: object) -> None:
        raise IntegrityError("another writer took this version")

    monkeypatch.setattr(store, "write_patience", 0.05)
    monkeypatch.setattr(store, "save", always_beaten)
    with pytest.raises(errors.CaseBusy) as raised:
        store.append(opened.case_id, submit("signalering", signalering()))
    assert raised.value.retry_after >= 1
    with pytest.raises(errors.CaseBusy):
        open_case(store)
