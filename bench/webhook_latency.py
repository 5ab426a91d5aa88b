"""Webhook latency on PostgreSQL: from an append's commit to the receiver holding the event.

A delivery worker (in a thread, with stores of its own, as the `casestore worker` process
would have) polls the feed of one subscription; a second store on the same schema (as an
API process would) appends signed signaleringen one at a time, each only once the
previous one has been received and after a random pause of up to one poll interval
(untimed: otherwise every append would land at the same phase of the worker's polling).
The receiver is a plain HTTP server on loopback that
notes the time a request's body has arrived, before answering 204. Latency runs from the
append returning (the commit acknowledged to the writer) to that moment, so it includes
the worker's poll interval (on average half of it), a feed read, the signing and the POST.

`python -m bench.webhook_latency` prints one quick run; CASESTORE_BENCH_POSTGRES_URL names
the server (a schema of its own is created and dropped).
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import backends, latency, logs, workload
from casestore.bootstrap import build
from casestore.services.webhooks.worker import Worker

POLL_SECONDS = 0.25  # the worker's default


def measure(
    database_url: str, samples: int = 50, poll_interval: float = POLL_SECONDS
) -> dict[str, Any]:
    """Commit-to-receipt latency of `samples` webhook deliveries, one at a time; ms."""
    with (
        tempfile.TemporaryDirectory(prefix="casestore-bench-webhooks-") as var_dir,
        latency.schema(database_url, "bench_webhooks") as url,
        _receiver() as (receiver_url, arrivals),
    ):
        settings = backends.settings(url, Path(var_dir))
        writer, delivering = build(settings), build(settings)
        worker = Worker(
            delivering.disclosure, delivering.subscriptions, poll_interval=poll_interval
        )
        thread = threading.Thread(target=worker.run, name="bench-webhook-worker", daemon=True)
        try:
            partner = workload.Partner(writer.store, settings)
            case_id = workload.open_cases(writer.store, partner, 1)[0]
            writer.subscriptions.create(workload.PARTNER, receiver_url, "bench")
            thread.start()
            latencies = []
            for _ in range(samples):
                time.sleep(random.uniform(0, poll_interval))
                recorded = writer.store.append(case_id, partner.signalering(case_id))
                committed = time.perf_counter()
                received = latency.arrival(arrivals, recorded.event_id)
                latencies.append((received - committed) * 1000)
        finally:
            worker.stop()
            thread.join(timeout=30)
            writer.close()
            delivering.close()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latency.percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "samples": len(latencies),
        "poll_interval_s": poll_interval,
    }


@contextmanager
def _receiver() -> Iterator[tuple[str, queue.Queue[tuple[str, float]]]]:
    """An HTTP server on loopback; yields its URL and (CloudEvent id, perf_counter) pairs."""
    arrivals: queue.Queue[tuple[str, float]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            at = time.perf_counter()
            arrivals.put((json.loads(body)["id"], at))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="bench-webhook-receiver")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", arrivals
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_latency", description=__doc__)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--poll", type=float, default=POLL_SECONDS, help="worker poll, seconds")
    parser.add_argument("--url", default=backends.postgres_url(), help="a PostgreSQL URL")
    args = parser.parse_args(argv)
    logs.quiet()
    print(json.dumps(measure(args.url, args.samples, args.poll)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
