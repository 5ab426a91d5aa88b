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
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestore.bootstrap import Services, build
from casestore.settings import Settings
from tests.e2e.api import Api
from tests.e2e.server import serve_env, serve_in_thread, serve_process
from tests.e2e.sse import READ_TIMEOUT, STREAM, Sse, parse_sse
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
    submit,
)

ROOT = Path(__file__).resolve().parents[2]
PROMPT = 10.0  # bound for five events in a row (see the module docstring)


@contextmanager
def stream(client: httpx.Client, last_event_id: int | None = None) -> Iterator[Iterator[Sse]]:
    """An open stream's case events (a client listens for `case-event`; policy notices,
    tested in test_policy_notices.py, pass it by); leaving the block disconnects."""
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    timeout = httpx.Timeout(READ_TIMEOUT)
    with client.stream("GET", STREAM, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield (e for e in parse_sse(response.iter_lines()) if e.event == "case-event")


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
        joined = post(zvh, seen, "netwerkwijziging", netwerk(POLITIE))
        post(gemeente, seen, "signalering", signalering())
        # The startdossier (the identity in the aanmelding) keeps the aanmelding's place
        # in the order: it is in the feed read from the start, not streamed again.
        everything = feed_of(api, POLITIE)
        assert [i["version"] for i in everything if i["position"] < joined] == [1]
        expected = [i for i in everything if i["position"] >= joined]
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
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, base_url: str, org: str) -> httpx.Client:
        """A client of `org`, closed when the test is done (or earlier, by its user)."""
        headers = {"Authorization": f"Bearer {self.tokens[org]}"}
        client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture
def shared(postgres_url: str, tmp_path: Path) -> Iterator[TwoProcesses]:
    settings = demo_settings(postgres_url, tmp_path)
    env = serve_env(settings)
    services = build(settings)  # the real clock: the other process checks tokens with its own
    try:
        tokens = {
            org: services.clients.add(org, "partner-system", "e2e").token for org in (GEMEENTE, ZVH)
        }
        two = TwoProcesses(services, env, tokens)
        yield two
        two.close()
    finally:
        services.close()


def test_an_event_written_through_one_process_reaches_a_stream_served_by_another(
    shared: TwoProcesses,
) -> None:
    with (
        serve_in_thread(shared.services) as a,
        serve_process(shared.env, ROOT) as b,
        shared.client(a, GEMEENTE) as writer,
        shared.client(b, ZVH) as reader,
    ):
        case_id = open_case(writer)
        with stream(reader) as events:
            assert next(events).item["case_id"] == case_id
            started = time.monotonic()
            for _ in range(5):
                position = post(writer, case_id, "signalering", signalering())
                assert next(events).id == str(position)
            elapsed = time.monotonic() - started
    assert elapsed < PROMPT


class Listener:
    """One stream read in a thread: what it delivered, and when (if) it ended. It owns its
    client and closes it when the stream ends."""

    def __init__(self, client: httpx.Client) -> None:
        self.opened = threading.Event()
        self.positions: list[int] = []
        self.ended_at: float | None = None
        self.error: str | None = None
        self._client = client
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        assert self.opened.wait(timeout=30), "the stream did not open"

    def _listen(self) -> None:
        try:
            with self._client.stream("GET", STREAM, timeout=httpx.Timeout(60)) as response:
                assert response.status_code == 200, response.read()
                self.opened.set()
                for sse in parse_sse(response.iter_lines()):
                    if sse.event == "case-event":
                        self.positions.append(int(sse.id or 0))
        except httpx.HTTPError as exc:
            self.error = repr(exc)
        finally:
            self.ended_at = time.monotonic()
            self._client.close()
            self.opened.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def test_a_revoked_client_s_streams_end_on_every_process_before_the_revocation_returns(
    shared: TwoProcesses,
) -> None:
    issued = shared.services.clients.add(ZVH, "partner-system", "to be revoked")
    shared.tokens["revoked"] = issued.token
    with serve_process(shared.env, ROOT) as a, serve_process(shared.env, ROOT) as b:
        writer = shared.client(a, GEMEENTE)
        case_id = open_case(writer)
        listeners = [Listener(shared.client(url, "revoked")) for url in (a, b)]
        seen = post(writer, case_id, "signalering", signalering())
        deadline = time.monotonic() + PROMPT
        while not all(seen in one.positions for one in listeners):
            assert time.monotonic() < deadline, "the streams did not deliver"
            time.sleep(0.02)

        shared.services.clients.revoke(issued.client.client_id)
        returned = time.monotonic()
        after = post(writer, case_id, "signalering", signalering())
        for one in listeners:
            one.join(timeout=5)

    for one in listeners:
        assert one.ended_at is not None and one.ended_at <= returned, "still streaming"
        assert one.error is None, one.error  # ended by the server, not cut off
        assert after not in one.positions


def test_a_revocation_in_the_serving_process_ends_its_streams_at_once(api: Api) -> None:
    issued = api.services.clients.add(ZVH, "partner-system", "to be revoked")
    client = httpx.Client(
        base_url=api.base_url, headers={"Authorization": f"Bearer {issued.token}"}
    )
    listener = Listener(client)
    api.services.clients.revoke(issued.client.client_id)
    returned = time.monotonic()
    listener.join(timeout=5)
    assert listener.ended_at is not None and listener.ended_at <= returned + 0.5
    assert listener.error is None, listener.error


def test_on_sqlite_another_process_s_stream_sends_nothing_after_a_revocation_and_ends(
    tmp_path: Path,
) -> None:
    # Nothing tells the serving process: its stream checks the token again before it sends
    # what it read, so it ends at the next event or the next periodic read.
    settings = demo_settings(f"sqlite:///{tmp_path / 'casestore.sqlite3'}", tmp_path)
    services = build(settings)
    try:
        issued = services.clients.add(ZVH, "partner-system", "to be revoked")
        writer = services.clients.add(GEMEENTE, "partner-system", "writer").token
        with serve_process(serve_env(settings), ROOT) as url:
            headers = {"Authorization": f"Bearer {issued.token}"}
            listener = Listener(httpx.Client(base_url=url, headers=headers))
            services.clients.revoke(issued.client.client_id)
            returned = time.monotonic()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {writer}"}) as ggz:
                opened = open_case(ggz)
            listener.join(timeout=15)
    finally:
        services.close()
    assert listener.ended_at is not None, "still streaming"
    assert listener.ended_at - returned < 1 + 5.0  # the poll, or the periodic re-read
    assert listener.positions == [], f"sent after the revocation: {opened}"
    assert listener.error is None, listener.error


def test_an_expired_client_s_stream_ends_at_its_expiry(api: Api, clock: Clock) -> None:
    issued = api.services.clients.add(ZVH, "partner-system", "short", timedelta(seconds=2))
    client = httpx.Client(
        base_url=api.base_url, headers={"Authorization": f"Bearer {issued.token}"}
    )
    started = time.monotonic()
    listener = Listener(client)
    clock.advance(seconds=2)  # the service's clock: the token's last moment has come
    listener.join(timeout=10)
    assert listener.ended_at is not None, "the stream outlived its token"
    assert listener.ended_at - started < 4


def test_an_organisation_that_left_a_case_streams_nothing_more_of_it(api: Api) -> None:
    ggz, zvh = api.client(GEMEENTE), api.client(ZVH)
    case_id = open_case(ggz)
    post(zvh, case_id, "netwerkwijziging", netwerk(POLITIE))
    with stream(api.client(POLITIE), last_event_id=api.services.store.max_position()) as events:
        while_member = post(ggz, case_id, "signalering", signalering())
        assert next(events).id == str(while_member)
        leaving = post(zvh, case_id, "netwerkwijziging", netwerk(POLITIE, "uitgetreden"))
        assert next(events).id == str(leaving)  # it sees its own leaving
        post(ggz, case_id, "signalering", signalering())
        other = open_case(ggz)
        post(zvh, other, "netwerkwijziging", netwerk(POLITIE))
        sentinel = post(ggz, other, "signalering", signalering())
        received = [next(events)]
        while received[-1].id != str(sentinel):
            received.append(next(events))
    # Nothing of the case it left came between (of the case it joined, its aanmelding may
    # come too: a startdossier granted before the stream passed its position).
    assert {e.item["case_id"] for e in received} == {other}


def test_a_stream_ends_cleanly_when_its_server_process_shuts_down(shared: TwoProcesses) -> None:
    opened = threading.Event()
    outcome: dict[str, Any] = {}

    def listen(base_url: str) -> None:
        try:
            with shared.client(base_url, ZVH) as client, stream(client) as events:
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
