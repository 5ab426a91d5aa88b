"""What the commit-to-receipt probes share: a schema of their own, waiting for one
arrival, and percentiles."""

from __future__ import annotations

import queue
import statistics
import time
import uuid
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

ARRIVAL_TIMEOUT_SECONDS = 10.0


def arrival(arrivals: queue.Queue[tuple[Any, float]], key: Hashable) -> float:
    """When the item `key` arrived (perf_counter); earlier items are skipped."""
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            got, at = arrivals.get(timeout=left)
        except queue.Empty:
            break
        if got == key:
            return at
    raise RuntimeError(f"{key} did not arrive within {ARRIVAL_TIMEOUT_SECONDS} s")


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


@contextmanager
def schema(database_url: str, prefix: str) -> Iterator[str]:
    """A schema of its own on the server, dropped afterwards; yields the store's URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    base = database_url.split("?")[0]
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        try:
            yield f"{base}?schema={name}"
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
