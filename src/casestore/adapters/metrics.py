"""Prometheus metrics (prometheus-client), served at `/metrics` on each process's probe
port (casestore.entrypoints.probes; CASESTORE_METRICS_PORT).

Counters, histograms and gauges are per process: every API process and every worker is
scraped on its own (one target per pod or container), and Prometheus sums them. No
multi-process mode is needed, since casestore never forks workers under one port. The
figures read from the database at scrape time (parked subscriptions, delivery lag) are
the same in every process that serves them: take the max, not the sum.

Labels are bounded: route templates (never raw paths), event types, outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "casestore_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "casestore_http_request_duration_seconds",
    "Time to answer an HTTP request (for SSE: the stream's life)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
APPENDS = Counter("casestore_appends_total", "Events recorded", ["event_type"])
SEAL_SECONDS = Histogram(
    "casestore_seal_seconds",
    "Time to seal one event's content for its recipients",
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
)
POLICY_DENIALS = Counter(
    "casestore_policy_denials_total",
    "Requests refused by the sharing policy or the case network",
    ["reason"],
)
WEBHOOK_ATTEMPTS = Counter(
    "casestore_webhook_attempts_total", "Webhook delivery attempts", ["outcome"]
)
SSE_CLIENTS = Gauge("casestore_sse_clients", "Server-Sent Event streams open in this process")
TOKEN_CACHE = Counter(
    "casestore_token_cache_lookups_total",
    "Bearer token lookups, answered from the process's cache or the database",
    ["result"],
)
WORKER_PASSES = Counter("casestore_worker_passes_total", "Delivery worker polling passes")


class DeliveryCollector(Collector):
    """Parked subscriptions and delivery lag, read from the database at scrape time."""

    def __init__(self, read: Callable[[], tuple[int, int]]) -> None:
        self._read = read  # -> (parked subscriptions, largest lag in positions)

    def collect(self) -> Iterator[Any]:
        parked, lag = self._read()
        yield GaugeMetricFamily(
            "casestore_webhook_parked_subscriptions",
            "Subscriptions parked after a day of failed deliveries",
            value=parked,
        )
        yield GaugeMetricFamily(
            "casestore_webhook_delivery_lag_positions",
            "Positions between the end of the global order and the active subscription "
            "furthest behind (an upper bound: not every position is for its organisation)",
            value=lag,
        )


def watch_deliveries(
    read: Callable[[], tuple[int, int]], registry: CollectorRegistry = REGISTRY
) -> Callable[[], None]:
    """Register the delivery gauges; returns the function that unregisters them."""
    collector = DeliveryCollector(read)
    registry.register(collector)
    return lambda: registry.unregister(collector)
