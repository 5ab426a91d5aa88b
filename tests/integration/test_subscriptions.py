"""Webhook subscriptions and the delivery worker against real storage and a real receiver.

Every test runs on SQLite and on PostgreSQL. The receiver is an HTTP server on loopback
that verifies each delivery's Standard Webhooks signature. Retry schedules run on the
fixed `clock`, moved by hand to each retry's due time: nothing waits out a backoff.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from nacl.exceptions import CryptoError

from casestore.adapters.persistence.subscription_table import AttemptRow
from casestore.bootstrap import Services
from casestore.services.case_store import CaseStore
from casestore.services.disclosure import Disclosure
from casestore.services.webhooks.backoff import Backoff
from casestore.services.webhooks.errors import SubscriptionInvalid, SubscriptionNotFound
from casestore.services.webhooks.subscriptions import Subscriptions
from casestore.services.webhooks.worker import Worker
from tests.e2e.receiver import HANG, Receiver, receiving
from tests.factories import GGZ, POLITIE, Clock, aanmelding, fresh_bsn, include, signalering, submit

TOELICHTING = "Buren melden dreigende uitspraken in het trappenhuis."


@pytest.fixture
def store(services: Services) -> CaseStore:
    return services.store


@pytest.fixture
def subscriptions(services: Services) -> Subscriptions:
    return services.subscriptions


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def subscribe(subscriptions: Subscriptions, receiver: Receiver, path: str = "/hook") -> str:
    created = subscriptions.create(GGZ, receiver.url(path), "test receiver")
    receiver.secrets[path] = created.secret
    return created.subscription.subscription_id


def record_case(store: CaseStore, bsn: str) -> None:
    """A case with content GGZ receives: an aanmelding, inclusion and a signalering."""
    opened = store.open_case(submit("aanmelding", aanmelding(bsn), GGZ))
    include(store, opened.case_id)
    store.append(opened.case_id, submit("signalering", signalering(TOELICHTING)))


@contextmanager
def running(*workers: Worker) -> Iterator[None]:
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for w in workers:
            w.stop()
        for thread in threads:
            thread.join(timeout=15)


def worker(services: Services, clock: Clock | None = None, **options: Any) -> Worker:
    if clock is not None:
        options["clock"] = clock
    return Worker(services.disclosure, services.subscriptions, **options)


# ---- what a delivery holds ----------------------------------------------------------------


def test_every_event_the_organisation_receives_arrives_in_order_signed_and_sealed(
    services: Services, store: CaseStore, receiver: Receiver, clock: Clock, disclosure: Disclosure
) -> None:
    start = store.max_position()
    subscription_id = subscribe(services.subscriptions, receiver)
    bsn = fresh_bsn()
    record_case(store, bsn)
    expected = disclosure.feed(GGZ, start, 100)
    assert len(expected) >= 3

    w = worker(services, clock)
    try:
        assert w.run_once() == len(expected)
    finally:
        w.close()

    received = receiver.of()
    assert [r.error for r in received] == [None] * len(expected)
    events = [r.event for r in received]
    assert [e["id"] for e in events if e] == [e.event_id for e in expected]
    for request, event, shared in zip(received, events, expected, strict=True):
        assert event is not None
        assert request.headers["content-type"] == "application/cloudevents+json"
        assert event["specversion"] == "1.0"
        assert event["type"] == f"nl.levensloop.case.{shared.event_type}"
        assert event["subject"] == str(shared.case_id)
        assert event["source"] == f"/casestore/{services.settings.region}"
        assert event["datacontenttype"] == "application/json"
        assert event["data"] == json.loads(json.dumps(shared.to_json()))
        assert event["data"]["payload"] is None
    bodies = " ".join(r.body for r in received)
    for plaintext in (bsn, "J. de Wit", TOELICHTING, "Depot gestopt", "Herhaalde escalaties"):
        assert plaintext not in bodies
    assert any(e and e["data"]["sealed"] for e in events)  # content is there, sealed

    subscription = services.subscriptions.get(GGZ, subscription_id)
    assert subscription.position == expected[-1].position
    assert subscription.status == "active"
    attempts = services.subscriptions.attempts(GGZ, subscription_id)
    assert [(a.outcome, a.status_code, a.attempt) for a in attempts] == [
        ("delivered", 200, 1)
    ] * len(expected)
    assert [a.webhook_id for a in reversed(attempts)] == [r.webhook_id for r in received]


def test_a_new_subscription_starts_at_the_end_unless_told_otherwise(
    services: Services, store: CaseStore, receiver: Receiver, clock: Clock, disclosure: Disclosure
) -> None:
    record_case(store, fresh_bsn())
    end = store.max_position()
    from_now = subscribe(services.subscriptions, receiver, "/new")
    from_start = services.subscriptions.create(GGZ, receiver.url("/all"), after=0)
    receiver.secrets["/all"] = from_start.secret
    assert services.subscriptions.get(GGZ, from_now).position == end
    assert from_start.subscription.position == 0

    w = worker(services, clock)
    try:
        w.run_once()
    finally:
        w.close()
    assert receiver.of("/new") == []
    assert len(receiver.of("/all")) == len(disclosure.feed(GGZ, 0, 100))


# ---- failures, retries, parking ----------------------------------------------------------


def test_failed_deliveries_back_off_with_jitter_then_park_after_24_hours_and_resume(
    services: Services, store: CaseStore, clock: Clock
) -> None:
    failing = True
    with receiving(lambda n, path: 500 if failing else 204) as receiver:
        subscription_id = subscribe(services.subscriptions, receiver)
        start = services.subscriptions.get(GGZ, subscription_id).position
        opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
        backoff = Backoff(rng=random.Random(2026))
        w = worker(services, clock, backoff=backoff)
        try:
            first_failure = clock.now
            delays = []
            for _ in range(500):
                assert w.run_once() == 1
                subscription = services.subscriptions.get(GGZ, subscription_id)
                if subscription.parked:
                    break
                assert subscription.next_attempt_at is not None
                delays.append(subscription.next_attempt_at - clock.now)
                assert w.run_once() == 0  # not due yet: nothing is sent early
                clock.now = subscription.next_attempt_at
            else:
                pytest.fail("never parked")

            # The n-th wait is drawn from [0, min(1 h, 2^(n-1) s)], and not pinned to it.
            for n, delay in enumerate(delays, start=1):
                assert timedelta(0) <= delay <= backoff.ceiling(n)
            assert backoff.ceiling(len(delays)) == timedelta(hours=1)
            assert any(d < backoff.ceiling(n) * 0.5 for n, d in enumerate(delays, start=1))
            # Retried for 24 hours, then parked at the first failure after that.
            assert clock.now - first_failure >= timedelta(hours=24)
            assert clock.now - delays[-1] - first_failure < timedelta(hours=24)

            parked = services.subscriptions.get(GGZ, subscription_id)
            assert parked.status == "parked"
            assert parked.parked_at == clock.now
            assert parked.position == start  # the undelivered event stays next
            assert parked.attempts == len(delays) + 1
            assert parked.next_attempt_at is None
            assert parked.last_error == "HTTP 500"
            attempts = services.subscriptions.attempts(GGZ, subscription_id)
            assert attempts[0].outcome == "parked"
            assert {a.outcome for a in attempts[1:]} == {"failed"}
            assert len({r.webhook_id for r in receiver.of()}) == 1

            clock.advance(days=3)
            assert w.run_once() == 0  # parked: nothing is tried, nothing is dropped

            failing = False
            resumed = services.subscriptions.resume(GGZ, subscription_id)
            assert resumed.status == "active"
            assert w.run_once() == 1
        finally:
            w.close()
        last = receiver.of()[-1]
        assert last.acknowledged
        assert last.webhook_id == receiver.of()[0].webhook_id
        assert last.event is not None and last.event["id"] == opened.event_id
        delivered = services.subscriptions.get(GGZ, subscription_id)
        assert delivered.position == opened.position
        assert delivered.attempts == 0 and delivered.status == "active"


def test_a_slow_receiver_does_not_hold_up_another_subscription(
    services: Services, store: CaseStore
) -> None:
    with receiving(lambda n, path: HANG if path == "/slow" else 200, hang_seconds=20) as r:
        subscribe(services.subscriptions, r, "/slow")
        subscribe(services.subscriptions, r, "/fast")
        w = worker(services, poll_interval=0.05, timeout=5.0, lease=timedelta(seconds=30))
        with running(w):
            opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
            r.wait_for(lambda: len(r.of("/slow")) == 1, timeout=5)
            for _ in range(3):
                store.append(opened.case_id, submit("signalering", signalering()))
            r.wait_for(lambda: len(r.acknowledged("/fast")) == 4, timeout=4)
            assert len(r.of("/slow")) == 1  # still hanging on its first event
            r.release()


# ---- several workers -------------------------------------------------------------------


def test_two_workers_never_deliver_the_same_event_twice(
    services: Services, store: CaseStore, receiver: Receiver
) -> None:
    subscribe(services.subscriptions, receiver)
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    workers = [worker(services, poll_interval=0.01, worker_id=f"w{i}") for i in range(2)]
    with running(*workers):
        for _ in range(11):
            store.append(opened.case_id, submit("signalering", signalering()))
        receiver.wait_for(lambda: len(receiver.of()) >= 12, timeout=10)
    ids = [r.webhook_id for r in receiver.of()]
    assert len(ids) == 12
    assert len(set(ids)) == 12


def test_a_worker_that_lost_its_lease_records_nothing(
    services: Services, store: CaseStore, receiver: Receiver, clock: Clock
) -> None:
    subscription_id = subscribe(services.subscriptions, receiver)
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    table = services.subscriptions.table
    lease = timedelta(seconds=60)
    now = clock.now
    first = table.claim(subscription_id, "a", now, now + lease)
    assert first is not None
    assert table.claim(subscription_id, "b", now, now + lease) is None
    later = clock.advance(seconds=61)  # "a" stalled past its lease
    assert table.claim(subscription_id, "b", later, later + lease) is not None

    attempt = AttemptRow(
        subscription_id, opened.position, 1, "msg_x", opened.event_id, later, "delivered"
    )
    assert not table.acknowledge(attempt, "a", after=first.position, lease_until=later)
    failed = replace(attempt, outcome="failed", error="HTTP 500")
    assert not table.fail(
        failed, "a", after=first.position, failures=1, failing_since=later, park=False
    )
    assert services.subscriptions.attempts(GGZ, subscription_id) == []
    assert table.acknowledge(attempt, "b", after=first.position, lease_until=later)
    assert services.subscriptions.get(GGZ, subscription_id).position == opened.position


def test_a_renewal_extends_the_leases_a_worker_holds_and_never_one_it_lost(
    services: Services, store: CaseStore, receiver: Receiver, clock: Clock
) -> None:
    held, lost = (
        subscribe(services.subscriptions, receiver),
        subscribe(services.subscriptions, receiver),
    )
    table = services.subscriptions.table
    lease = timedelta(seconds=5)
    now = clock.now
    assert table.claim(held, "a", now, now + lease) is not None
    assert table.claim(lost, "a", now, now + lease) is not None
    later = clock.advance(seconds=6)  # "a" missed its beats; "b" takes one over
    assert table.claim(lost, "b", later, later + lease) is not None

    table.renew("a", later + lease)

    assert table.claim(held, "b", later, later + lease) is None  # renewed: still "a"'s
    assert table.claim(lost, "b", later, later + lease) is not None  # "b" keeps its own
    assert table.claim(lost, "a", later, later + lease) is None


def test_a_delivery_longer_than_the_lease_keeps_it_by_the_heartbeat(
    services: Services, store: CaseStore
) -> None:
    with receiving(pause_seconds=2.5) as r:
        subscribe(services.subscriptions, r)
        workers = [
            worker(services, poll_interval=0.05, lease=timedelta(seconds=1), worker_id=f"w{i}")
            for i in range(2)
        ]
        with running(*workers):
            store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
            r.wait_for(lambda: len(r.acknowledged()) == 1, timeout=10)
    # Had the lease run out during the 2.5 s answer, the other worker would have sent it too.
    assert len(r.of()) == 1


# ---- the subscriptions themselves --------------------------------------------------------


def test_the_signing_secret_is_stored_only_wrapped(services: Services, receiver: Receiver) -> None:
    created = services.subscriptions.create(GGZ, receiver.url())
    assert created.secret.startswith("whsec_")
    row = services.subscriptions.table.get(created.subscription.subscription_id)
    assert row is not None
    assert created.secret not in row.secret
    assert created.secret.removeprefix("whsec_") not in row.secret
    assert services.subscriptions.secret_of(row) == created.secret
    moved = replace(
        row,
        subscription_id=services.subscriptions.create(
            GGZ, receiver.url()
        ).subscription.subscription_id,
    )
    with pytest.raises(CryptoError):  # bound to its own subscription id
        services.subscriptions.secret_of(moved)


def test_another_organisations_subscription_is_not_found(
    services: Services, receiver: Receiver
) -> None:
    created = services.subscriptions.create(GGZ, receiver.url())
    sid = created.subscription.subscription_id
    for call in (
        services.subscriptions.get,
        services.subscriptions.attempts,
        services.subscriptions.delete,
        services.subscriptions.resume,
    ):
        with pytest.raises(SubscriptionNotFound):
            call(POLITIE, sid)
    assert services.subscriptions.of(POLITIE) == []
    assert [s.subscription_id for s in services.subscriptions.of(GGZ)] == [sid]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.org/hook", "http or https"),
        ("https:///hook", "host"),
        ("https://user:pw@example.org/hook", "credentials"),
        ("example.org/hook", "http or https"),
        ("https://example.org:99999/", "not a valid URL"),
    ],
)
def test_an_unusable_url_is_refused_by_name(services: Services, url: str, why: str) -> None:
    with pytest.raises(SubscriptionInvalid) as raised:
        services.subscriptions.create(GGZ, url)
    assert raised.value.field == "url"
    assert why in raised.value.message
    assert services.subscriptions.of(GGZ) == []


def test_a_deleted_subscription_receives_nothing_more(
    services: Services, store: CaseStore, receiver: Receiver, clock: Clock
) -> None:
    subscription_id = subscribe(services.subscriptions, receiver)
    store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    services.subscriptions.delete(GGZ, subscription_id)
    w = worker(services, clock)
    try:
        assert w.run_once() == 0
    finally:
        w.close()
    assert receiver.of() == []
    with pytest.raises(SubscriptionNotFound):
        services.subscriptions.get(GGZ, subscription_id)
