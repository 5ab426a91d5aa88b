"""Live feed latency on PostgreSQL: from an append's commit to its Server-Sent Event.

An API server (uvicorn, in a thread) serves one SSE stream to a partner; a second store
on the same schema (as another API process would) appends signed signaleringen one at a
time, and the next is appended only once the previous one has arrived. So each event
travels the cross-process path: NOTIFY, the server's LISTEN connection, a feed read,
the SSE line. Latency runs from the append returning (the commit acknowledged to the
writer) to the client having parsed the event's line.

`python -m bench.sse_latency` prints one quick run; CASESTORE_BENCH_POSTGRES_URL names
the server (a schema of its own is created and dropped).
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench import backends, latency, logs, workload
from casestore.bootstrap import Services, build
from casestore.entrypoints.api.app import create_app


def measure(database_url: str, samples: int = 50) -> dict[str, Any]:
    """Commit-to-receipt latency of `samples` events, one at a time; milliseconds."""
    with (
        tempfile.TemporaryDirectory(prefix="casestore-bench-sse-") as var_dir,
        latency.schema(database_url, "bench_sse") as url,
    ):
        settings = backends.settings(url, Path(var_dir))
        server, writer = build(settings), build(settings)
        try:
            token = server.clients.add(workload.PARTNER, "partner-system", "bench").token
            partner = workload.Partner(writer.store, settings)
            case_id = workload.open_cases(writer.store, partner, 1)[0]
            with _serve(server) as base_url, _subscribe(base_url, token) as arrivals:
                latencies = []
                for _ in range(samples):
                    submission = partner.signalering(case_id)
                    position = writer.store.append(case_id, submission).position
                    committed = time.perf_counter()
                    received = latency.arrival(arrivals, position)
                    latencies.append((received - committed) * 1000)
        finally:
            writer.close()
            server.close()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latency.percentile(latencies, 99), 2),
        "samples": len(latencies),
    }


@contextmanager
def _serve(services: Services) -> Iterator[str]:
    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="bench-sse-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the bench server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _subscribe(base_url: str, token: str) -> Iterator[queue.Queue[tuple[int, float]]]:
    """One SSE stream read in a thread; yields (position, perf_counter at parse) pairs.
    Leaving closes the stream, which the server sees as a disconnect."""
    arrivals: queue.Queue[tuple[int, float]] = queue.Queue()
    connected = threading.Event()
    client = httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, read=None),
    )
    responses: list[httpx.Response] = []

    def read() -> None:
        with client.stream("GET", "/v1/feed/stream") as response:
            response.raise_for_status()
            responses.append(response)
            connected.set()
            try:
                named = None
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        named = line.removeprefix("event:").strip()
                    if line.startswith("data:") and named == "case-event":
                        item = json.loads(line.removeprefix("data:"))
                        arrivals.put((int(item["position"]), time.perf_counter()))
            except (httpx.HTTPError, RuntimeError):
                return  # closed from the other side, or by us on the way out

    thread = threading.Thread(target=read, name="bench-sse-client", daemon=True)
    thread.start()
    if not connected.wait(timeout=30):
        raise RuntimeError("the SSE stream did not open")
    try:
        yield arrivals
    finally:
        for response in responses:
            response.close()
        client.close()
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sse_latency", description=__doc__)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--url", default=backends.postgres_url(), help="a PostgreSQL URL")
    args = parser.parse_args(argv)
    logs.quiet()
    print(json.dumps(measure(args.url, args.samples)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
