"""The live feed over Server-Sent Events, through real servers, on SQLite and PostgreSQL.

A stream must hand an organisation every event it receives exactly once, in position
order, across disconnects (resuming from Last-Event-ID), and nothing of cases it is not
in. New events must reach it promptly even when another store or another process wrote
them: the stream re-reads every few seconds anyway, so "promptly" is checked as five
events in a row arriving within 10 s in all, which the periodic re-read alone (about
5 s per event) could not do.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestore.bootstrap import Services, build
from casestore.settings import Settings
from tests.e2e.api import Api
from tests.e2e.server import serve_env, serve_in_thread, serve_process
from tests.factories import (
    GEMEENTE,
    POLITIE,
    ZVH,
    Clock,
    aanmelding,
    demo_settings,
    fresh_bsn,
    netwerk,
    signalering,
)

ROOT = Path(__file__).resolve().parents[2]
STREAM = "/v1/feed/stream"
READ_TIMEOUT = 10.0  # longest wait for one line; pings come every 15 s, events sooner
PROMPT = 10.0  # bound for five events in a row (see the module docstring)


@dataclass(frozen=True)
class Sse:
    id: str | None
    event: str | None
    data: str

    @property
    def item(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed


def parse_sse(lines: Iterator[str]) -> Iterator[Sse]:
    """Server-sent events from a stream of lines; comments (pings) are skipped."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if not line:
            if data or fields:
                yield Sse(fields.get("id"), fields.get("event"), "\n".join(data))
            fields, data = {}, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value


@contextmanager
def stream(client: httpx.Client, last_event_id: int | None = None) -> Iterator[Iterator[Sse]]:
    """An open stream; leaving the block disconnects."""
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    timeout = httpx.Timeout(READ_TIMEOUT)
    with client.stream("GET", STREAM, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield parse_sse(response.iter_lines())


def take(events: Iterator[Sse], n: int) -> list[Sse]:
    return [next(events) for _ in range(n)]


def open_case(client: httpx.Client) -> str:
    response = client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


def post(client: httpx.Client, case_id: str, event_type: str, payload: dict[str, Any]) -> int:
    response = client.post(
        f"/v1/cases/{case_id}/events", json={"type": event_type, "payload": payload}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["position"])


def feed_of(api: Api, org: str) -> list[dict[str, Any]]:
    """What the catch-up feed holds for `org`, as JSON."""
    return [json.loads(json.dumps(e.to_json())) for e in api.services.disclosure.feed(org, 0, 1000)]


def test_a_client_that_resumes_from_last_event_id_gets_every_event_once_in_order(
    api: Api,
) -> None:
    # The gemeente writes: what a GGZ provider writes reaches the ZVH only through a door.
    gemeente, zvh = api.client(GEMEENTE), api.client(ZVH)
    case_id = open_case(gemeente)
    for _ in range(4):
        post(gemeente, case_id, "signalering", signalering())

    with stream(zvh) as events:
        first = take(events, 3)  # and disconnect in the middle of the backlog
    for _ in range(3):
        post(gemeente, case_id, "signalering", signalering())  # while nobody listens

    with stream(zvh, last_event_id=int(first[-1].id or 0)) as events:
        second = take(events, 5)  # the rest of the backlog and what came meanwhile
        live = post(gemeente, case_id, "signalering", signalering())
        second += take(events, 1)
        assert second[-1].id == str(live)
        sentinel = post(gemeente, case_id, "signalering", signalering())
        after = next(events)  # the very next event: nothing repeated or extra before it

    received = [*first, *second]
    assert after.id == str(sentinel)
    assert [e.item for e in received] == feed_of(api, ZVH)[:-1]
    positions = [int(e.id or 0) for e in received]
    assert positions == sorted(set(positions))
    assert [e.item["position"] for e in received] == positions
    assert {e.event for e in received} == {"case-event"}


def test_an_organisation_streams_nothing_of_a_case_it_is_not_in(api: Api) -> None:
    gemeente, zvh, politie = api.client(GEMEENTE), api.client(ZVH), api.client(POLITIE)
    with stream(politie) as events:
        unseen = open_case(gemeente)
        post(gemeente, unseen, "signalering", signalering())
        seen = open_case(gemeente)
        post(zvh, seen, "netwerkwijziging", netwerk(POLITIE))
        post(gemeente, seen, "signalering", signalering())
        expected = feed_of(api, POLITIE)
        received = take(events, len(expected))
        post(gemeente, unseen, "signalering", signalering())
        sentinel = post(gemeente, seen, "signalering", signalering())
        after = next(events)

    assert expected, "the police receive the case they joined"
    assert [e.item for e in received] == expected
    assert {e.item["case_id"] for e in received} == {seen}
    assert after.id == str(sentinel)  # the later event of the other case never came


def test_a_write_through_another_store_on_the_same_database_arrives_promptly(
    api: Api, settings: Settings, clock: Clock
) -> None:
    # SQLite: seen by the wakeup's poll; PostgreSQL: by its LISTEN. Neither goes through
    # the server's own store, so its after-save hook cannot be what wakes the stream.
    other = build(settings, clock=clock)
    try:
        store = other.store
        from tests.integration.test_case_store import submit

        referral = submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE)
        case_id = store.open_case(referral).case_id
        with stream(api.client(ZVH), last_event_id=store.max_position()) as events:
            started = time.monotonic()
            for _ in range(5):
                signal = submit("signalering", signalering(), GEMEENTE)
                recorded = store.append(case_id, signal)
                assert next(events).id == str(recorded.position)
            elapsed = time.monotonic() - started
    finally:
        other.close()
    assert elapsed < PROMPT


def test_the_stream_refuses_bad_requests_as_problem_details(api: Api) -> None:
    unauthenticated = httpx.get(f"{api.base_url}{STREAM}", timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"] == "application/problem+json"

    with api.client(ZVH) as client:
        bad = client.get(STREAM, headers={"Last-Event-ID": "yesterday"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        negative = client.get(STREAM, params={"after": -1})
        assert negative.status_code == 422


@dataclass
class TwoProcesses:
    """A store on a PostgreSQL schema of its own, and what `casestore serve` needs to
    serve the same schema as another process."""

    services: Services
    env: dict[str, str]
    tokens: dict[str, str]

    def client(self, base_url: str, org: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[org]}"}
        return httpx.Client(base_url=base_url, headers=headers, timeout=30)


@pytest.fixture
def shared(postgres_url: str, tmp_path: Path) -> Iterator[TwoProcesses]:
    settings = demo_settings(postgres_url, tmp_path)
    env = serve_env(settings)
    services = build(settings)  # the real clock: the other process checks tokens with its own
    try:
        tokens = {
            org: services.clients.add(org, "partner-system", "e2e").token for org in (GEMEENTE, ZVH)
        }
        yield TwoProcesses(services, env, tokens)
    finally:
        services.close()


def test_an_event_written_through_one_process_reaches_a_stream_served_by_another(
    shared: TwoProcesses,
) -> None:
    with serve_in_thread(shared.services) as a, serve_process(shared.env, ROOT) as b:
        writer, reader = shared.client(a, GEMEENTE), shared.client(b, ZVH)
        case_id = open_case(writer)
        with stream(reader) as events:
            assert next(events).item["case_id"] == case_id
            started = time.monotonic()
            for _ in range(5):
                position = post(writer, case_id, "signalering", signalering())
                assert next(events).id == str(position)
            elapsed = time.monotonic() - started
    assert elapsed < PROMPT


def test_a_stream_ends_cleanly_when_its_server_process_shuts_down(shared: TwoProcesses) -> None:
    opened = threading.Event()
    outcome: dict[str, Any] = {}

    def listen(base_url: str) -> None:
        try:
            with stream(shared.client(base_url, ZVH)) as events:
                opened.set()
                outcome["events"] = list(events)  # until the server ends the body
        except httpx.HTTPError as exc:  # cut off (the process was killed) or timed out
            outcome["error"] = repr(exc)

    with serve_process(shared.env, ROOT) as b:
        listener = threading.Thread(target=listen, args=(b,), daemon=True)
        listener.start()
        assert opened.wait(timeout=30)
    # Leaving `serve_process` sent SIGTERM; a server that hung on the open stream would
    # have been killed after 10 s, and the client would have seen the body cut off.
    listener.join(timeout=30)
    assert outcome == {"events": []}
