"""The partner API under load, on PostgreSQL: appends over HTTP against the application
layer in the same run, and an organisation's feed read from the start.

The server is a separate `casestore serve` process (one uvicorn worker), as deployed,
with its access log off (`SERVER`): its output is discarded here, and writing a line per
request costs the process about a tenth of its CPU per append. The clients are threads
of this process with one keep-alive HTTP/1.1 connection each, through urllib3 (`CLIENT`);
every request is a full one: bearer token, JSON body encoded per request, status checked
and the body read. urllib3 rather than httpx: clients, server and database share the
machine's CPUs, and httpx costs nearly twice the CPU per request, which the server's
figure would pay for. The application layer is driven by as many threads on one
`CaseStore` in this process, alternating with the HTTP clients in short rounds so that
both see the same machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import urllib3

from bench import workload
from bench.backends import Backend
from casestore.bootstrap import build
from casestore.services.case_store import CaseStore, Submission
from casestore.settings import Settings

CLIENTS = 8
ROUNDS = 4
FEED_PAGE = 1000
CATCH_UPS = 3
CLIENT = f"urllib3 {version('urllib3')}, one connection per client thread"
SERVER = "casestore serve, one uvicorn worker, CASESTORE_ACCESS_LOG=0"


def run(backend: Backend, seconds: float, log: Callable[[str], None]) -> dict[str, Any]:
    settings = backend.settings.model_copy(update={"rate_limit": 1e6, "rate_burst": 1_000_000})
    with closing(build(settings)) as services, server(settings) as base_url:
        store = services.store
        token = services.clients.add(workload.PARTNER, "partner-system", "bench").token
        partner = workload.Partner(store, services.settings)
        cases = workload.open_cases(store, partner, CLIENTS * 2)
        log(f"[http] {CLIENTS} clients over HTTP vs {CLIENTS} threads on CaseStore …")
        http_lat: list[float] = []
        app_lat: list[float] = []
        http_s = app_s = 0.0
        with ThreadPoolExecutor(CLIENTS) as pool:
            clients = [_client(base_url, token) for _ in range(CLIENTS)]
            try:
                for _ in range(ROUNDS):
                    slice_s = seconds / ROUNDS
                    app_s += _concurrently(
                        pool, slice_s, app_lat, _app_appender(store, partner, cases)
                    )
                    http_s += _concurrently(
                        pool, slice_s, http_lat, _http_appender(clients, partner, cases)
                    )
            finally:
                for client in clients:
                    client.close()
        log("[http] reading the partner's whole feed over HTTP …")
        feed = _catch_up(base_url, token)
    http_rate, app_rate = len(http_lat) / http_s, len(app_lat) / app_s
    return {
        "clients": CLIENTS,
        "http_client": CLIENT,
        "http_server": SERVER,
        "http_appends": {"per_second": http_rate, **_percentiles(http_lat)},
        "application_appends": {"per_second": app_rate, **_percentiles(app_lat)},
        "ratio": http_rate / app_rate,
        "feed_catch_up": feed,
    }


@contextmanager
def server(settings: Settings) -> Iterator[str]:
    """`casestore serve` as its own process on a free loopback port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "CASESTORE_DEMO": "1",
        "CASESTORE_DATABASE_URL": str(settings.database_url),
        "CASESTORE_VAR_DIR": str(settings.var_dir),
        "CASESTORE_POLICY_FILE": str(settings.policy_path),
        "CASESTORE_RATE_LIMIT": str(settings.rate_limit),
        "CASESTORE_RATE_BURST": str(settings.rate_burst),
        "CASESTORE_LOG_FORMAT": "json",
        "CASESTORE_ACCESS_LOG": "0",
    }
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "casestore.entrypoints.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        with _client(base_url, None) as probe:
            while True:
                try:
                    if probe.request("GET", "/readyz", timeout=2, retries=False).status == 200:
                        break
                except urllib3.exceptions.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the API server did not start")
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client(base_url: str, token: str | None) -> urllib3.HTTPConnectionPool:
    """One keep-alive connection to the server, sending the bearer token if given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return urllib3.connection_from_url(
        base_url, maxsize=1, block=True, headers=headers, timeout=30.0, retries=False
    )


def _post_json(client: urllib3.HTTPConnectionPool, url: str, body: Any) -> Any:
    headers = {**client.headers, "Content-Type": "application/json"}
    return client.request("POST", url, body=json.dumps(body).encode(), headers=headers)


Appender = Callable[[int], Callable[[], None]]


def _app_appender(store: CaseStore, partner: workload.Partner, cases: list[UUID]) -> Appender:
    def for_worker(worker: int) -> Callable[[], None]:
        mine = cases[worker::CLIENTS]
        turn = iter(range(1 << 62))

        def append() -> None:
            case_id = mine[next(turn) % len(mine)]
            store.append(case_id, partner.signalering(case_id))

        return append

    return for_worker


def _http_appender(
    clients: list[urllib3.HTTPConnectionPool], partner: workload.Partner, cases: list[UUID]
) -> Appender:
    def for_worker(worker: int) -> Callable[[], None]:
        mine, client = cases[worker::CLIENTS], clients[worker]
        turn = iter(range(1 << 62))

        def append() -> None:
            case_id = mine[next(turn) % len(mine)]
            submission = partner.signalering(case_id)
            response = _post_json(client, f"/v1/cases/{case_id}/events", _body(submission))
            if response.status != 201:
                raise RuntimeError(f"append failed: {response.status} {response.data!r}")

        return append

    return for_worker


def _body(submission: Submission) -> dict[str, Any]:
    return {
        "type": submission.event_type,
        "payload": submission.payload,
        "event_id": submission.idempotency_key,
        "signature": submission.signature,
    }


def _concurrently(
    pool: ThreadPoolExecutor, seconds: float, latencies: list[float], appender: Appender
) -> float:
    """Every worker appends in a loop for `seconds`; returns the wall time taken. Signing
    (the client's work) is inside the loop for both sides alike."""
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(worker: int) -> None:
        append = appender(worker)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            append()
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    list(pool.map(work, range(CLIENTS)))
    return time.perf_counter() - started


def _catch_up(base_url: str, token: str) -> dict[str, Any]:
    """The partner's whole feed, page by page from position 0, read `CATCH_UPS` times on
    one connection; the median pass counts (the first also pays for warming up)."""
    passes = []
    with _client(base_url, token) as client:
        for _ in range(CATCH_UPS):
            after, events = 0, 0
            started = time.perf_counter()
            while True:
                query = urlencode({"after": after, "limit": FEED_PAGE})
                page = client.request("GET", f"/v1/feed?{query}").json()
                if not page["items"]:
                    break
                events += len(page["items"])
                after = page["next_after"]
            passes.append((time.perf_counter() - started, events))
    seconds, events = sorted(passes)[len(passes) // 2]
    return {"events": events, "seconds": seconds, "per_second": events / seconds}


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "operations": len(ordered),
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


if __name__ == "__main__":
    import tempfile

    from bench import backends, logs

    logs.quiet()
    with tempfile.TemporaryDirectory() as var, backends.postgres(Path(var)) as pg:
        print(run(pg, float(sys.argv[1]) if len(sys.argv) > 1 else 8.0, print))
