"""`make run-cluster` driven end to end on PostgreSQL: two API processes and two workers.
Events posted to one API process appear on the other's feed and Server-Sent Events, and
reach webhook receivers through the workers, in order, each attempt delivered once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.receiver import Receiver, receiving
from tests.e2e.server import free_port, wait_until_ready
from tests.factories import aanmelding, fresh_bsn, signalering

ORG = "arkin"
EVENTS = 12
SUBSCRIPTIONS = 4  # several, so that both workers have subscriptions to lease


@contextmanager
def cluster(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    ports = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env |= {
        "CASESTORE_DATABASE_URL": database_url,
        "CASESTORE_REQUIRE_SIGNATURES": "0",
        "CASESTORE_ACCESS_LOG": "0",
    }
    log = tmp_path / "cluster.log"
    with log.open("w") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [
                sys.executable,
                "-m",
                "casestore.entrypoints.cluster",
                "--ports",
                ",".join(map(str, ports)),
            ],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            bases = tuple(f"http://127.0.0.1:{p}" for p in ports)
            try:
                for base in bases:
                    wait_until_ready(base, timeout=90)
            except RuntimeError:
                raise AssertionError(log.read_text()[-3000:]) from None
            yield bases  # type: ignore[misc]
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


def stream(
    base: str, token: str, after: int, into: list[dict[str, object]], done: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream(
        "GET", f"{base}/v1/feed/stream", params={"after": after}, headers=headers, timeout=60
    ) as answer:
        named = None
        for line in answer.iter_lines():
            if line.startswith("event:"):
                named = line.removeprefix("event:").strip()
            if line.startswith("data:") and named == "case-event":
                into.append(json.loads(line.removeprefix("data:")))
            if len(into) >= EVENTS or done.is_set():
                return


def test_two_api_processes_and_two_workers_serve_one_region(
    postgres_url: str, tmp_path: Path
) -> None:
    with cluster(postgres_url, tmp_path) as (first, second), receiving() as receiver:
        token = json.loads((tmp_path / "var" / "demo" / "tokens.json").read_text())[ORG][
            "partner-system"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=second, headers=headers, timeout=30) as on_second:
            end = on_second.get("/v1/feed", params={"limit": 1000}).json()["next_after"]
            while True:  # the demo's events, before the test's
                page = on_second.get("/v1/feed", params={"after": end, "limit": 1000}).json()
                if not page["items"]:
                    break
                end = page["next_after"]
            paths = [f"/hook-{i}" for i in range(SUBSCRIPTIONS)]
            for path in paths:
                created = on_second.post("/v1/subscriptions", json={"url": receiver.url(path)})
                assert created.status_code == 201, created.text
                receiver.secrets[path] = created.json()["secret"]

            received: list[dict[str, object]] = []
            done = threading.Event()
            reader = threading.Thread(target=stream, args=(second, token, end, received, done))
            reader.start()

            posted = []
            with httpx.Client(base_url=first, headers=headers, timeout=30) as on_first:
                case = on_first.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
                assert case.status_code == 201, case.text
                posted.append(case.json())
                for _ in range(EVENTS - 1):
                    body = {"type": "signalering", "payload": signalering()}
                    answer = on_first.post(f"/v1/cases/{case.json()['case_id']}/events", json=body)
                    assert answer.status_code == 201, answer.text
                    posted.append(answer.json())
            positions = [p["position"] for p in posted]

            feed = on_second.get("/v1/feed", params={"after": end, "limit": 100}).json()
            assert [item["position"] for item in feed["items"]] == positions
            reader.join(timeout=30)
            done.set()
            assert [item["position"] for item in received] == positions  # SSE on the other

            receiver.wait_for(
                lambda: all(len(receiver.acknowledged(p)) >= EVENTS for p in paths), timeout=60
            )
        check_deliveries(receiver, paths, [p["event_id"] for p in posted])


def check_deliveries(receiver: Receiver, paths: list[str], event_ids: list[str]) -> None:
    every_id = []
    for path in paths:
        requests = receiver.of(path)
        delivered = [r.event["data"]["event_id"] for r in requests if r.event is not None]
        assert delivered == event_ids, path  # in order, each once
        every_id += [r.webhook_id for r in requests]
    assert len(every_id) == len(set(every_id)), "an attempt was delivered twice"
