"""The database going away under load, and coming back, with one API process throughout.

A `casestore serve` process runs on a PostgreSQL cluster of the test's own while writers
and a feed reader keep calling it. The cluster is stopped (a fast shutdown, as in a
restart or failover) and started again. While it is down every answer must be a 503
problem with `Retry-After`, given within a bounded wait, never a 500; `/readyz` must say
so within two seconds; once it is back, writes and reads must succeed again without the
API process being restarted, and every event acknowledged with a 201 must be stored. A
live stream opened before the outage stays open through it and goes on delivering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from uuid import UUID

import httpx

from casestore.bootstrap import build
from tests.e2e.cluster import throwaway_cluster
from tests.e2e.server import serve_env, serve_process
from tests.factories import GGZ, aanmelding, demo_settings, fresh_bsn, signalering

ROOT = Path(__file__).resolve().parents[2]
DOWN_SECONDS = 3.0
RECOVERY_BOUND = 30.0
READY_BOUND = 2.0  # /readyz answers within this while the database is down
ANSWER_BOUND = 4.0  # any request answers within this while the database is down


@dataclass(frozen=True)
class Call:
    kind: str
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer at all
    retry_after: str | None
    content_type: str | None
    body: str


class Load:
    """Threads calling the API in a loop until stopped, recording every answer."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.acknowledged: list[tuple[str, str, int]] = []  # (case, event, position) of 201s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def run(self, kind: str, call: Callable[[], httpx.Response]) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = call()
                except httpx.HTTPError as exc:
                    record = Call(
                        kind, started, time.monotonic() - started, None, None, None, repr(exc)
                    )
                else:
                    record = Call(
                        kind,
                        started,
                        time.monotonic() - started,
                        response.status_code,
                        response.headers.get("retry-after"),
                        response.headers.get("content-type"),
                        response.text[:300],
                    )
                    if response.status_code == 201:
                        body = response.json()
                        with self._lock:
                            self.acknowledged.append(
                                (body["case_id"], body["event_id"], body["position"])
                            )
                with self._lock:
                    self.calls.append(record)
                time.sleep(0.02)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._threads.append(thread)

    def succeeded_since(self, kind: str, moment: float) -> bool:
        with self._lock:
            return any(
                c.kind == kind and c.started >= moment and c.status in (200, 201)
                for c in self.calls
            )

    def positions_acknowledged(self) -> list[int]:
        with self._lock:
            return [position for _, _, position in self.acknowledged]

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


class Stream:
    """The positions one SSE connection delivers, read in a thread until it ends."""

    def __init__(self, client: httpx.Client) -> None:
        self.positions: list[int] = []
        self.ended: str | None = None
        self._client = client
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/v1/feed/stream", timeout=60) as response:
                for line in response.iter_lines():
                    if line.startswith("id:"):
                        self.positions.append(int(line.removeprefix("id:").strip()))
            self.ended = "the server ended the stream"
        except httpx.HTTPError as exc:
            self.ended = repr(exc)


def wait_until(condition: Callable[[], bool], bound: float, what: str) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"not within {bound} s: {what}"
        time.sleep(0.05)


def test_while_the_database_is_down_every_answer_is_a_prompt_503_and_it_recovers_by_itself(
    tmp_path: Path,
) -> None:
    with throwaway_cluster() as cluster:
        settings = demo_settings(cluster.url, tmp_path)
        services = build(settings)
        # Closed only after the server has gone, so the stream's thread ends on its own.
        clients = ExitStack()
        try:
            token = services.clients.add(GGZ, "partner-system", "outage").token
            with serve_process(serve_env(settings), ROOT) as base_url:
                headers = {"Authorization": f"Bearer {token}"}
                client = clients.enter_context(
                    httpx.Client(base_url=base_url, headers=headers, timeout=30)
                )
                opened = client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
                assert opened.status_code == 201, opened.text
                case_id = opened.json()["case_id"]

                stream = Stream(client)
                wait_until(lambda: bool(stream.positions), 30, "the stream's first event")
                load = Load()
                append = {"type": "signalering", "payload": signalering()}
                load.run("write", lambda: client.post(f"/v1/cases/{case_id}/events", json=append))
                load.run(
                    "open",
                    lambda: client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())}),
                )
                load.run("feed", lambda: client.get("/v1/feed", params={"limit": 5}))
                started = time.monotonic()
                for kind in ("write", "open", "feed"):
                    wait_until(partial(load.succeeded_since, kind, started), 30, f"{kind} ok")

                cluster.stop()
                down = time.monotonic()
                time.sleep(DOWN_SECONDS / 2)
                ready = []
                for _ in range(3):
                    t0 = time.monotonic()
                    answer = httpx.get(f"{base_url}/readyz", timeout=30)
                    ready.append((answer.status_code, time.monotonic() - t0))
                time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down)))
                cluster.start()
                up = time.monotonic()
                for kind in ("write", "open", "feed"):
                    wait_until(
                        partial(load.succeeded_since, kind, up), RECOVERY_BOUND, f"{kind} again"
                    )
                load.stop()
                assert httpx.get(f"{base_url}/readyz", timeout=30).status_code == 200
                last = max(p for p in load.positions_acknowledged())
                wait_until(lambda: last in stream.positions, 30, "the stream goes on")
                assert stream.ended is None, stream.ended
        finally:
            clients.close()
            services.close()

        # Checked once the load has stopped, on the same cluster, by a fresh store.
        after = build(settings)
        try:
            stored = {
                (str(case), e.event_id)
                for case in {UUID(c) for c, _, _ in load.acknowledged}
                for e in after.store.history(case)
            }
        finally:
            after.close()

    calls = load.calls
    assert all(status == 503 for status, _ in ready), ready
    assert max(seconds for _, seconds in ready) < READY_BOUND, ready
    server_errors = [c for c in calls if c.status is None or (c.status >= 500 and c.status != 503)]
    assert server_errors == [], server_errors[:5]
    while_down = [c for c in calls if c.started > down + 0.5 and c.started + c.seconds < up]
    assert {c.kind for c in while_down} == {"write", "open", "feed"}
    assert {c.status for c in while_down} == {503}, [c for c in while_down if c.status != 503][:3]
    assert all(c.retry_after and c.content_type == "application/problem+json" for c in while_down)
    assert max(c.seconds for c in while_down) < ANSWER_BOUND
    assert {(case, event) for case, event, _ in load.acknowledged} <= stored
