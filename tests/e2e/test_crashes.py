"""Crashes, as an outside tester caused them by hand, as regression tests (loopback only,
bounded in time): the API process killed with SIGKILL under eight writers and restarted
loses no acknowledged event and stores none twice, retries with their idempotency keys
included; a worker killed in the middle of a delivery delivers every event afterwards,
in order, the one in flight again under the same `webhook-id`."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx

from casestore.bootstrap import Services
from casestore.settings import Settings
from tests.e2e.receiver import HANG, receiving
from tests.e2e.server import free_port, serve_env, start_cli, wait_until_ready
from tests.factories import GGZ, aanmelding, fresh_bsn, signalering, submit

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 8
EVENTS_PER_WRITER = 12
DEADLINE_SECONDS = 90


@dataclass
class Writer:
    """One partner system appending to its own case, retrying every failure with the
    same idempotency key until the service answers."""

    base_url: str
    token: str
    case_id: str
    name: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> event id
    retried: set[str] = field(default_factory=set)  # keys sent more than once
    error: str | None = None

    def run(self, deadline: float) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=10) as client:
            for i in range(EVENTS_PER_WRITER):
                key = f"{self.name}-{i}"
                tries = 0
                while key not in self.acknowledged:
                    if time.monotonic() > deadline:
                        self.error = f"{key} never acknowledged"
                        return
                    tries += 1
                    if tries > 1:
                        self.retried.add(key)
                    try:
                        answer = client.post(
                            f"/v1/cases/{self.case_id}/events",
                            json={"type": "signalering", "payload": signalering()},
                            headers={"Idempotency-Key": key},
                        )
                    except httpx.TransportError:
                        time.sleep(0.05)  # the server is down or restarting: same key again
                        continue
                    if answer.status_code == 201:
                        self.acknowledged[key] = answer.json()["event_id"]
                    elif answer.status_code >= 500 or answer.status_code == 503:
                        time.sleep(0.05)
                    else:
                        self.error = f"{key}: {answer.status_code} {answer.text}"
                        return


def test_the_api_killed_under_eight_writers_loses_and_duplicates_nothing(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    store = services.store
    cases = [
        str(store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)).case_id)
        for _ in range(WRITERS)
    ]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = serve_env(settings) | {"CASESTORE_ACCESS_LOG": "0"}
    log = tmp_path / "serve.log"
    serve = ["serve", "--port", str(port)]
    writers = [
        Writer(
            base_url, services.clients.add(GGZ, "partner-system", f"w{i}").token, cases[i], f"w{i}"
        )
        for i in range(WRITERS)
    ]
    process = start_cli(serve, env, ROOT, log)
    try:
        wait_until_ready(base_url, timeout=60)
        deadline = time.monotonic() + DEADLINE_SECONDS
        threads = [threading.Thread(target=w.run, args=(deadline,)) for w in writers]
        for thread in threads:
            thread.start()
        while sum(len(w.acknowledged) for w in writers) < WRITERS * 3:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)  # in the middle of the writes
        process.wait(timeout=10)
        acknowledged_before = {k: v for w in writers for k, v in w.acknowledged.items()}
        process = start_cli(serve, env, ROOT, log)
        for thread in threads:
            thread.join(timeout=DEADLINE_SECONDS)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert [w.error for w in writers if w.error] == []
    assert any(w.retried for w in writers), "the kill interrupted no write"
    for writer in writers:
        events = store.history(UUID(writer.case_id))
        stored = [e.event_id for e in events[1:]]  # after the aanmelding
        assert len(stored) == len(set(stored)) == EVENTS_PER_WRITER  # each key once
        assert sorted(stored) == sorted(writer.acknowledged.values())
    for key, event_id in acknowledged_before.items():  # acknowledged before: still there
        assert store.records.tables.recorded_event(event_id) is not None, key


def test_a_worker_killed_mid_delivery_delivers_everything_in_order_afterwards(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    store = services.store
    in_flight = 3  # the receiver holds the third request open until the worker is killed

    def script(number: int, path: str) -> int | str:
        return HANG if number == in_flight else 200

    log = tmp_path / "worker.log"
    env = serve_env(settings)
    worker = ["worker", "--poll", "0.05", "--timeout", "2", "--lease", "8"]
    with receiving(script, hang_seconds=20) as receiver:
        created = services.subscriptions.create(GGZ, receiver.url())
        receiver.secrets["/hook"] = created.secret
        opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
        for _ in range(5):
            store.append(opened.case_id, submit("signalering", signalering()))
        expected = services.disclosure.feed(GGZ, created.subscription.position, 100)

        process = start_cli(worker, env, ROOT, log)
        try:
            receiver.wait_for(lambda: len(receiver.of()) >= in_flight, timeout=20)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        cut = receiver.of()[in_flight - 1]
        receiver.release()
        # The lease of the killed worker runs out; a new worker takes over.
        process = start_cli(worker, env, ROOT, log)
        try:
            receiver.wait_for(
                lambda: len({r.webhook_id for r in receiver.acknowledged()}) == len(expected),
                timeout=30,
            )
        finally:
            process.terminate()
            process.wait(timeout=30)

    acknowledged = receiver.acknowledged()
    assert all(r.event is not None for r in acknowledged)
    delivered = [r.event["data"]["event_id"] for r in acknowledged if r.event is not None]
    assert delivered == [e.event_id for e in expected]
    again = [r for r in receiver.of() if r.webhook_id == cut.webhook_id]
    assert [r.acknowledged for r in again] == [False, True]  # the same attempt's id, re-sent
    assert again[1].event is not None and cut.event is not None
    assert again[1].event["data"]["event_id"] == cut.event["data"]["event_id"]
