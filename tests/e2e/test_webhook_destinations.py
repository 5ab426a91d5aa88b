"""Webhooks go to public addresses only, unless the operator allows private ones: a URL
that names a non-public place is refused when the subscription is made, and a name that
resolves to one is refused when the worker connects, so nothing reaches a receiver on
this machine. On SQLite and PostgreSQL, through a real server and a real receiver."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from casestore.bootstrap import Services
from casestore.services.case_store import utcnow
from casestore.services.webhooks.worker import Worker
from casestore.settings import Settings
from tests.e2e.api import Api
from tests.e2e.receiver import receiving
from tests.factories import GGZ, aanmelding, demo_settings, fresh_bsn, submit

PROBLEM = "application/problem+json"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The demo region as an operator would run it: private destinations not allowed."""
    return demo_settings(database_url, tmp_path).model_copy(
        update={"webhook_private_destinations": False}
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://localhost:8000/v1/feed",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hooks",
        "http://[::ffff:192.168.1.1]/",
    ],
)
def test_a_subscription_to_a_non_public_address_is_a_422_naming_the_url(api: Api, url: str) -> None:
    with api.client(GGZ) as partner:
        answer = partner.post("/v1/subscriptions", json={"url": url})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert "url" in answer.text and "must not point at" in answer.text
        assert partner.get("/v1/subscriptions").json() == []
        public = partner.post("/v1/subscriptions", json={"url": "https://hooks.partner.example/"})
        assert public.status_code == 201, public.text


def test_a_name_that_resolves_to_this_machine_is_refused_when_the_worker_connects(
    services: Services,
) -> None:
    subscriptions = services.subscriptions
    assert not subscriptions.private_destinations
    with receiving() as receiver:
        port = urlsplit(receiver.url()).port
        # Made while private destinations were allowed (or while the name resolved
        # elsewhere): the worker must check again, at the moment it connects.
        subscriptions.private_destinations = True
        created = subscriptions.create(GGZ, f"http://localhost:{port}/hook", after=0)
        subscriptions.private_destinations = False
        receiver.secrets["/hook"] = created.secret
        services.store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))

        worker = Worker(services.disclosure, subscriptions)
        try:
            assert worker.run_once() == 1
        finally:
            worker.close()
        assert receiver.requests == []  # not even a connection that got as far as HTTP

        sid = created.subscription.subscription_id
        [attempt] = subscriptions.attempts(GGZ, sid)
        assert attempt.outcome == "failed" and attempt.status_code is None
        assert attempt.error is not None and attempt.error.startswith("destination refused (")
        assert "is not public" in attempt.error
        assert attempt.next_retry_at is not None  # a failure like any other: retried
        assert subscriptions.get(GGZ, sid).position == 0

        # Where the operator allows private destinations, the same subscription delivers
        # (its retry made due by a worker whose clock is an hour on).
        subscriptions.private_destinations = True
        later = Worker(
            services.disclosure, subscriptions, clock=lambda: utcnow() + timedelta(hours=1)
        )
        try:
            assert later.run_once() == 1
        finally:
            later.close()
        [delivered] = receiver.acknowledged()
        assert delivered.error is None and delivered.webhook_id == attempt.webhook_id
        assert subscriptions.get(GGZ, sid).position > 0


def test_private_destinations_are_allowed_by_default_only_in_the_demo(tmp_path: Path) -> None:
    assert Settings(demo=True, var_dir=tmp_path).private_webhook_destinations
    assert not Settings.model_construct(demo=False).private_webhook_destinations
    chosen = Settings(demo=True, var_dir=tmp_path, webhook_private_destinations=False)
    assert not chosen.private_webhook_destinations
