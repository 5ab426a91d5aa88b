"""Webhooks end to end: subscriptions over the HTTP API, deliveries to a real receiver that
fails on purpose, and a worker process killed in the middle of its work.

Both backends. The receiver verifies every request with `standardwebhooks`; receivers are
expected to drop repeats by `webhook-id`, so the tests check at-least-once, in order,
and that an acknowledged event is never sent again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from casestore.bootstrap import Services
from casestore.services.disclosure import Disclosure
from casestore.services.webhooks.backoff import Backoff
from casestore.settings import Settings
from tests.e2e.api import Api
from tests.e2e.receiver import DROP, HANG, Receiver, receiving
from tests.e2e.server import serve_env
from tests.factories import (
    GGZ,
    POLITIE,
    aanmelding,
    fresh_bsn,
    signalering,
    submit,
    worker_thread,
)

PROBLEM = "application/problem+json"
TOELICHTING = "Wijkagent meldt nachtelijke onrust en dreigende taal."


def first_acknowledgements(receiver: Receiver) -> list[str]:
    """Webhook ids in the order the receiver first acknowledged them (after dedup)."""
    seen: list[str] = []
    for request in receiver.acknowledged():
        if request.webhook_id not in seen:
            seen.append(request.webhook_id)
    return seen


def event_ids(receiver: Receiver) -> dict[str, str]:
    """webhook-id -> CloudEvent id, over every verified request."""
    return {r.webhook_id: r.event["id"] for r in receiver.of() if r.event is not None}


# ---- the API --------------------------------------------------------------------------


def test_partner_systems_manage_subscriptions_auditors_read_them_others_may_not(
    api: Api,
) -> None:
    with (
        api.client(GGZ) as partner,
        api.client(GGZ, "auditor") as auditor,
        api.client(GGZ, "coordinator") as coordinator,
        api.client(GGZ, "privacy-officer") as privacy,
        api.client(POLITIE) as other,
    ):
        created = partner.post(
            "/v1/subscriptions", json={"url": "https://partner.example/hooks", "description": "x"}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        sid = body["id"]
        assert created.headers["location"] == f"/v1/subscriptions/{sid}"
        assert body["secret"].startswith("whsec_")
        assert body["status"] == "active"
        assert body["position"] == api.services.store.max_position()
        assert body["pending"] is None

        listed = partner.get("/v1/subscriptions")
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json()] == [sid]
        for client in (partner, auditor):
            one = client.get(f"/v1/subscriptions/{sid}")
            assert one.status_code == 200
            assert "secret" not in one.json()
            assert body["secret"] not in one.text
            assert client.get(f"/v1/subscriptions/{sid}/deliveries").json() == []
        assert body["secret"] not in listed.text

        for client in (coordinator, privacy):
            for method, url in (
                ("GET", "/v1/subscriptions"),
                ("GET", f"/v1/subscriptions/{sid}"),
                ("POST", "/v1/subscriptions"),
                ("DELETE", f"/v1/subscriptions/{sid}"),
            ):
                answer = client.request(method, url, json={"url": "https://x.example/"})
                assert answer.status_code == 403, (method, url)
                assert answer.headers["content-type"] == PROBLEM
        for method, url in (
            ("POST", "/v1/subscriptions"),
            ("DELETE", f"/v1/subscriptions/{sid}"),
            ("POST", f"/v1/subscriptions/{sid}/resume"),
        ):
            assert auditor.request(method, url, json={"url": "https://x.example/"}).status_code == (
                403
            )

        for method, url in (
            ("GET", f"/v1/subscriptions/{sid}"),
            ("GET", f"/v1/subscriptions/{sid}/deliveries"),
            ("DELETE", f"/v1/subscriptions/{sid}"),
            ("POST", f"/v1/subscriptions/{sid}/resume"),
        ):
            answer = other.request(method, url)
            assert answer.status_code == 404, (method, url)
            assert answer.headers["content-type"] == PROBLEM
        assert other.get("/v1/subscriptions").json() == []

        assert partner.post(f"/v1/subscriptions/{sid}/resume").json()["status"] == "active"
        deleted = partner.delete(f"/v1/subscriptions/{sid}")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert partner.get(f"/v1/subscriptions/{sid}").status_code == 404
        assert partner.get("/v1/subscriptions").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://partner.example/hooks"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://user:secret@partner.example/"}, "url"),
        ({}, "url"),
        ({"url": "https://partner.example/", "after": -1}, "after"),
        ({"url": "https://partner.example/", "after": 10**9}, "after"),
        ({"url": "https://partner.example/", "description": "x" * 501}, "description"),
        ({"url": "https://partner.example/", "secret": "mine"}, "secret"),
    ],
)
def test_an_invalid_subscription_is_a_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    with api.client(GGZ) as partner:
        answer = partner.post("/v1/subscriptions", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert [e["field"] for e in answer.json()["errors"]] == [field]
        assert partner.get("/v1/subscriptions").json() == []


# ---- deliveries through failures -------------------------------------------------------


def failing_at_first(number: int, path: str) -> int | str:
    """Three 500s, a dropped connection, a hang past the timeout; then all is well."""
    answers: dict[int, int | str] = {1: 500, 2: 500, 3: 500, 4: DROP, 5: HANG}
    return answers.get(number, 200)


def test_every_event_arrives_in_order_through_errors_drops_and_timeouts(api: Api) -> None:
    with receiving(failing_at_first, hang_seconds=10) as receiver, api.client(GGZ) as partner:
        created = partner.post("/v1/subscriptions", json={"url": receiver.url()}).json()
        receiver.secrets["/hook"] = created["secret"]
        bsn = fresh_bsn()
        opened = partner.post("/v1/cases", json={"payload": aanmelding(bsn)})
        case_id = opened.json()["case_id"]
        for _ in range(4):
            event = {"type": "signalering", "payload": signalering(TOELICHTING)}
            assert partner.post(f"/v1/cases/{case_id}/events", json=event).status_code == 201
        expected = partner.get("/v1/feed", params={"after": created["position"]}).json()["items"]
        assert len(expected) >= 5

        fast = Backoff(base=timedelta(milliseconds=50))
        options = {"backoff": fast, "timeout": 0.5, "lease": timedelta(seconds=5)}
        with worker_thread(api.services, poll_interval=0.05, **options):
            receiver.wait_for(lambda: len(first_acknowledgements(receiver)) == len(expected))
            receiver.release()

        requests = receiver.of()
        assert [r.error for r in requests] == [None] * len(requests)
        # The first event was tried six times under one webhook-id, then the rest in order.
        assert len({r.webhook_id for r in requests[:6]}) == 1
        ids = event_ids(receiver)
        assert [ids[w] for w in first_acknowledgements(receiver)] == [
            e["event_id"] for e in expected
        ]
        for request in receiver.acknowledged():
            assert request.event is not None
            shared = next(e for e in expected if e["event_id"] == request.event["id"])
            assert request.event["subject"] == case_id
            assert request.event["type"] == "nl.levensloop.case." + shared["event_type"]
            assert request.event["data"]["sealed"] == shared["sealed"]
            assert bsn not in request.body and TOELICHTING not in request.body

        sid = created["id"]
        subscription = partner.get(f"/v1/subscriptions/{sid}").json()
        assert subscription["position"] == expected[-1]["position"]
        assert subscription["pending"] is None
        attempts = partner.get(f"/v1/subscriptions/{sid}/deliveries").json()
        failed = [a for a in reversed(attempts) if a["outcome"] == "failed"]
        assert [(a["attempt"], a["status_code"]) for a in failed] == [
            (1, 500),
            (2, 500),
            (3, 500),
            (4, None),
            (5, None),
        ]
        assert failed[3]["error"].startswith("connection error")
        assert failed[4]["error"] == "timeout"
        assert all(a["next_retry_at"] is not None for a in failed)
        assert {a["webhook_id"] for a in failed} == {requests[0].webhook_id}


# ---- a worker process, killed and restarted ---------------------------------------------


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    return env | serve_env(settings)


FAST = ("--poll", "0.05", "--timeout", "0.5", "--lease", "2")


def start_worker(
    settings: Settings, log: Path, arguments: tuple[str, ...] = FAST
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "casestore.entrypoints.cli", "worker", *arguments],
            env=worker_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_killed_worker_process_loses_nothing_and_resends_no_acknowledged_event(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    store = services.store
    disclosure = services.disclosure
    log = tmp_path / "worker.log"
    with receiving(pause_seconds=0.1) as receiver:
        created = services.subscriptions.create(GGZ, receiver.url())
        receiver.secrets["/hook"] = created.secret
        sid = created.subscription.subscription_id
        opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
        expected = disclosure.feed(GGZ, created.subscription.position, 100)

        process = start_worker(settings, log)
        try:
            receiver.wait_for(lambda: len(receiver.of()) >= 1, timeout=15)
        except AssertionError:
            process.kill()
            raise AssertionError(log.read_text()[-3000:]) from None
        try:
            for _ in range(14):
                store.append(opened.case_id, submit("signalering", signalering()))
            expected = disclosure.feed(GGZ, created.subscription.position, 100)
            receiver.wait_for(lambda: len(receiver.of()) >= 6, timeout=10)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        before_kill = len(receiver.of())
        acknowledged_before = {
            a.webhook_id
            for a in services.subscriptions.attempts(GGZ, sid, 100)
            if a.outcome == "delivered"
        }
        assert 1 <= len(acknowledged_before) < len(expected)

        process = start_worker(settings, log)
        try:
            receiver.wait_for(
                lambda: len(first_acknowledgements(receiver)) == len(expected), timeout=15
            )
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0, log.read_text()[-3000:]

    ids = event_ids(receiver)
    assert [ids[w] for w in first_acknowledgements(receiver)] == [e.event_id for e in expected]
    after_restart = [r.webhook_id for r in receiver.of()[before_kill:]]
    assert not acknowledged_before & set(after_restart)  # acknowledged means never again
    sent = [r.webhook_id for r in receiver.of()]
    assert len(sent) - len(set(sent)) <= 1  # at most the one in flight came twice
    final = services.subscriptions.get(GGZ, sid)
    assert final.position == expected[-1].position


def hang_at_first(number: int, path: str) -> int | str:
    return HANG if number == 1 else 200


def test_a_worker_killed_mid_delivery_is_taken_over_within_seconds_by_another(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    store = services.store
    with receiving(hang_at_first, hang_seconds=60) as receiver:
        created = services.subscriptions.create(GGZ, receiver.url())
        receiver.secrets["/hook"] = created.secret
        opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
        for _ in range(3):
            store.append(opened.case_id, submit("signalering", signalering()))
        expected = services.disclosure.feed(GGZ, created.subscription.position, 100)

        # Both workers as deployed: the default lease, timeout and poll interval.
        first = start_worker(settings, tmp_path / "first.log", ())
        second = None
        try:
            receiver.wait_for(lambda: len(receiver.of()) >= 1, timeout=20)  # mid-delivery
            second = start_worker(settings, tmp_path / "second.log", ())
            second_log = tmp_path / "second.log"
            receiver.wait_for(lambda: "webhook worker started" in second_log.read_text(), 20)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            killed = time.monotonic()
            receiver.wait_for(lambda: len(receiver.of()) >= 2, timeout=30)
            taken_over = time.monotonic() - killed
            receiver.wait_for(
                lambda: len(first_acknowledgements(receiver)) == len(expected), timeout=30
            )
        finally:
            first.kill()
            if second is not None:
                second.terminate()
                second.wait(timeout=15)

    requests = receiver.of()
    assert taken_over < 10, f"the next delivery came {taken_over:.1f} s after the kill"
    assert requests[1].webhook_id == requests[0].webhook_id  # the same delivery, resent
    ids = event_ids(receiver)
    assert [ids[w] for w in first_acknowledgements(receiver)] == [e.event_id for e in expected]


def test_the_worker_command_makes_one_pass_with_once(
    services: Services, settings: Settings, tmp_path: Path, disclosure: Disclosure
) -> None:
    with receiving() as receiver:
        created = services.subscriptions.create(GGZ, receiver.url(), after=0)
        receiver.secrets["/hook"] = created.secret
        services.store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
        result = subprocess.run(
            [sys.executable, "-m", "casestore.entrypoints.cli", "worker", "--once"],
            env=worker_env(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{len(disclosure.feed(GGZ, 0, 100))} delivery attempts"
        assert len(receiver.acknowledged()) == len(disclosure.feed(GGZ, 0, 100))
    # The same pass ran the scheduled housekeeping.
    job = services.housekeeping.table.get("housekeeping")
    assert job is not None and job.last_run_at is not None and job.worker_id is None
