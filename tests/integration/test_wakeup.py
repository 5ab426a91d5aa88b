"""The PostgreSQL wakeup survives losing its connection: it reconnects and wakes readers.

Readers would still re-read every few seconds without it, so a dead listener is not a
correctness bug, but it would quietly turn a live feed into a slow poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from casestore.adapters.wakeup import PostgresWakeup
from casestore.bootstrap import build
from tests.factories import POSTGRES_URL, Clock, demo_settings, open_case

BOUND_SECONDS = 10.0


def eventually(probe: Callable[[], int | None]) -> int:
    deadline = time.monotonic() + BOUND_SECONDS
    while (value := probe()) is None:
        assert time.monotonic() < deadline, "not within the bound"
        time.sleep(0.02)
    return value


def test_the_listener_reconnects_after_its_connection_is_killed(
    postgres_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = demo_settings(postgres_url, tmp_path)
    services, writer = build(settings, clock=clock), build(settings, clock=clock)
    wakeup = services.wakeup()
    assert isinstance(wakeup, PostgresWakeup)
    wakeup.start()
    try:
        first = eventually(lambda: wakeup.backend_pid)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        eventually(lambda: wakeup.backend_pid if wakeup.backend_pid != first else None)

        seen = wakeup.generation
        open_case(writer.store)  # another store: only the LISTEN can tell this one
        assert asyncio.run(wakeup.wait(seen, BOUND_SECONDS))
    finally:
        wakeup.stop()
        writer.close()
        services.close()
    assert wakeup.stopped
