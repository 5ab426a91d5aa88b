"""Notices of a policy change reach partners on every channel: fields newly granted on
events behind a partner's position arrive on its live stream (`policy-notice`) and at its
webhook receiver (`nl.levensloop.policy.notice`), through real servers, on SQLite and
PostgreSQL, so that it re-reads those events and never the feed from position 0."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.e2e.receiver import receiving
from tests.e2e.sse import READ_TIMEOUT, STREAM, Sse, parse_sse
from tests.factories import (
    activate_policy,
    edited,
    load_signed_demo,
    without_police_rule,
    worker_thread,
)

NOTICE = "policy-notice"
NOTICE_TYPE = "nl.levensloop.policy.notice"


@contextmanager
def live(client: httpx.Client, **params: int) -> Iterator[Iterator[Sse]]:
    """The caller's open live stream; leaving the block disconnects."""
    timeout = httpx.Timeout(READ_TIMEOUT)
    with client.stream("GET", STREAM, params=params, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        yield parse_sse(response.iter_lines())


def notices_on(events: Iterator[Sse], n: int) -> list[Sse]:
    """The next `n` notices; the stream must carry nothing else meanwhile."""
    found = [next(events) for _ in range(n)]
    assert {e.event for e in found} == {NOTICE}
    return found


def test_newly_granted_fields_are_told_on_the_stream_and_by_webhook(api: Api) -> None:
    services = api.services
    load_signed_demo(services)
    original = services.policy.in_force().document
    activate_policy(services, edited(services, without_police_rule))  # the police loses
    end = services.store.max_position()

    with receiving() as receiver, api.client(demo.POLITIE) as police:
        created = police.post("/v1/subscriptions", json={"url": receiver.url()})
        assert created.status_code == 201, created.text
        sid = created.json()["id"]
        receiver.secrets["/hook"] = created.json()["secret"]
        earlier = police.get("/v1/feed/notices").json()["items"]  # consent given, say
        before = max((n["seq"] for n in earlier), default=0)

        with live(police, after=end) as events:
            activate_policy(services, original)  # the police gains its history back
            told = police.get("/v1/feed/notices", params={"after": before}).json()["items"]
            assert told, "the police regains fields of stored signaleringen"
            first = notices_on(events, 1)[0]
        # Each notice names an event behind the stream's position whose fields the police
        # can now open: re-reading that event is enough.
        assert first.id is None and first.item == told[0]
        for notice in told:
            assert notice["position"] <= end and notice["fields"]
            event = police.get(f"/v1/cases/{notice['case_id']}/events/{notice['event_id']}")
            assert event.status_code == 200, event.text
            assert set(notice["fields"]) <= set(event.json()["sealed"])
        assert [n["seq"] for n in told] == sorted(n["seq"] for n in told)

        # Reconnecting with the last notice seen misses none and repeats none.
        with live(police, after=end, notices_after=first.item["seq"]) as events:
            rest = notices_on(events, len(told) - 1)
        assert [first.item] + [e.item for e in rest] == told

        # The webhook receiver gets each notice once acknowledged, signed like an event.
        with worker_thread(services, poll_interval=0.05):
            receiver.wait_for(lambda: len(delivered_notices(receiver)) == len(told))
        notices = delivered_notices(receiver)
        assert [n["data"] for n in notices] == told
        assert all(n["subject"] == n["data"]["case_id"] for n in notices)
        assert len({r.webhook_id for r in receiver.acknowledged()}) == len(told)
        deliveries = police.get(f"/v1/subscriptions/{sid}/deliveries").json()
        assert {d["kind"] for d in deliveries} == {"notice"}
        assert sorted(d["position"] for d in deliveries) == [n["seq"] for n in told]

        # A subscription made now starts after these notices: nothing is told twice.
        later = police.post("/v1/subscriptions", json={"url": receiver.url("/later")})
        receiver.secrets["/later"] = later.json()["secret"]
        with worker_thread(services, poll_interval=0.05) as worker:
            assert worker.run_once() == 0
        assert receiver.of("/later") == []


def delivered_notices(receiver: Any) -> list[dict[str, Any]]:
    """The verified notice documents the receiver acknowledged, first arrival of each."""
    seen: dict[str, dict[str, Any]] = {}
    for request in receiver.acknowledged():
        event = request.event
        if event is not None and event["type"] == NOTICE_TYPE:
            seen.setdefault(request.webhook_id, event)
    return list(seen.values())
