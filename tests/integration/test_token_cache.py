"""The cache of API clients with the client table and its listener: never outliving a
revocation or an expiry. What goes through the client table runs on SQLite and
PostgreSQL; the listener only on PostgreSQL, the one backend that has it (on SQLite the
API does not cache clients: tests/e2e/test_token_cache.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder
from nacl.encoding import HexEncoder
from nacl.hash import blake2b
from psycopg import sql

from casestore.adapters.wakeup import REVOCATIONS_CHANNEL, PostgresWakeup
from casestore.bootstrap import Services, build
from casestore.services.clients import PREFIX, ClientCache, Clients, Unauthenticated
from tests.factories import POSTGRES_URL, Clock, demo_settings

ORG = "arkin"


def test_stored_token_hashes_are_libsodiums_blake2b(services: Services) -> None:
    """Tokens issued before the hash moved to the standard library must still verify."""
    issued = services.clients.add(ORG, "partner-system", "x")
    secret = issued.token.removeprefix(PREFIX).partition("_")[2]  # may hold "_" itself
    row = services.clients.table.get(issued.client.client_id)
    assert row is not None
    expected = blake2b(
        secret.encode(), digest_size=32, person=b"casestore-token", encoder=HexEncoder
    )
    assert row.token_hash == expected.decode()


@pytest.fixture
def cached(services: Services) -> tuple[Clients, ClientCache]:
    cache = ClientCache(bound=3600)  # trusted throughout: these tests are about entries
    services.clients.use_cache(cache)
    cache.confirm(cache.now())
    return services.clients, cache


def test_a_cached_client_still_expires_on_the_clock(
    cached: tuple[Clients, ClientCache], clock: Clock
) -> None:
    clients, _ = cached
    issued = clients.add(ORG, "auditor", "x", valid_for=timedelta(hours=1))
    assert clients.authenticate_cached(issued.token) is None  # not looked up yet
    assert clients.authenticate(issued.token) == issued.client
    assert clients.authenticate_cached(issued.token) == issued.client
    clock.advance(minutes=60)
    with pytest.raises(Unauthenticated):
        clients.authenticate_cached(issued.token)
    with pytest.raises(Unauthenticated):
        clients.authenticate(issued.token)


def test_a_cached_client_needs_its_own_secret(cached: tuple[Clients, ClientCache]) -> None:
    clients, _ = cached
    issued = clients.add(ORG, "partner-system", "x")
    clients.authenticate(issued.token)
    wrong = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    with pytest.raises(Unauthenticated):
        clients.authenticate_cached(wrong)
    with pytest.raises(Unauthenticated):
        clients.authenticate_cached("not-a-token")


def test_a_revocation_through_the_cached_clients_is_refused_at_once(
    cached: tuple[Clients, ClientCache],
) -> None:
    clients, _ = cached
    issued = clients.add(ORG, "partner-system", "x")
    other = clients.add(ORG, "partner-system", "y")
    clients.authenticate(issued.token)
    clients.authenticate(other.token)
    clients.revoke(issued.client.client_id)
    assert clients.authenticate_cached(issued.token) is None  # dropped, not kept revoked
    with pytest.raises(Unauthenticated):
        clients.authenticate(issued.token)
    assert clients.authenticate_cached(other.token) == other.client


# ---- the listener (PostgreSQL: SQLite has none, and so no cache) ---------------------


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def warm(clients: Clients, token: str) -> None:
    """Look the token up until the cache serves it: a reset (the listener connecting)
    may drop what an earlier lookup kept."""

    def served() -> bool:
        if clients.authenticate_cached(token) is not None:
            return True
        clients.authenticate(token)
        return False

    until(served)


@dataclass
class Listening:
    services: Services
    cache: ClientCache
    wakeup: PostgresWakeup


@pytest.fixture
def listening(postgres_url: str, tmp_path: Path, clock: Clock) -> Iterator[Listening]:
    settings = demo_settings(postgres_url, tmp_path)
    services = build(settings, clock=clock)
    cache = ClientCache()
    wakeup = services.wakeup(cache)
    assert isinstance(wakeup, PostgresWakeup)
    services.clients.use_cache(cache)
    wakeup.start()
    try:
        yield Listening(services, cache, wakeup)
    finally:
        wakeup.stop()
        services.close()


def test_the_listener_keeps_the_cache_confirmed_while_it_is_used(listening: Listening) -> None:
    clients = listening.services.clients
    issued = clients.add(ORG, "partner-system", "x")
    # A request that finds the cache untrusted asks for a ping; the listener answers it.
    warm(clients, issued.token)
    for _ in range(10):  # in use, it stays confirmed
        time.sleep(listening.cache.bound / 2)
        assert clients.authenticate_cached(issued.token) == issued.client


def test_a_revocation_committed_by_another_process_reaches_the_cache(
    listening: Listening,
) -> None:
    clients = listening.services.clients
    issued = clients.add(ORG, "partner-system", "x")
    warm(clients, issued.token)
    # Revoked as another process's `Clients.revoke` does it: its own connection.
    recorder = listening.services.store.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    schema = recorder.datastore.schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn, conn.transaction():
        conn.execute(
            sql.SQL("UPDATE {}.casestore_clients SET revoked_at = %s WHERE client_id = %s").format(
                sql.Identifier(schema)
            ),
            ("2026-03-02T09:00:00Z", issued.client.client_id),
        )
        conn.execute("SELECT pg_notify(%s, %s)", (REVOCATIONS_CHANNEL, issued.client.client_id))
    until(lambda: clients.authenticate_cached(issued.token) is None)
    with pytest.raises(Unauthenticated):
        clients.authenticate(issued.token)


def test_once_another_process_has_revoked_a_token_this_one_refuses_it(
    listening: Listening, clock: Clock
) -> None:
    """However late the notification: the revoke outwaits the bound, and a cache that has
    not confirmed since is no longer trusted."""
    clients = listening.services.clients
    elsewhere = build(listening.services.settings, clock=clock)
    try:
        for i in range(5):
            issued = clients.add(ORG, "partner-system", f"x{i}")
            warm(clients, issued.token)
            started = time.monotonic()
            elsewhere.clients.revoke(issued.client.client_id)
            # Outwaited, so that a listener that has not caught up is no longer trusted.
            assert time.monotonic() - started > listening.cache.bound
            assert clients.authenticate_cached(issued.token) is None
            with pytest.raises(Unauthenticated):
                clients.authenticate(issued.token)
    finally:
        elsewhere.close()


def test_a_lost_listener_connection_drops_the_cache(listening: Listening) -> None:
    clients, cache, wakeup = listening.services.clients, listening.cache, listening.wakeup
    issued = clients.add(ORG, "partner-system", "x")
    warm(clients, issued.token)
    lost = wakeup.backend_pid
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (lost,))
    # Revocations sent while it was away are gone: nothing cached before may serve again.
    until(lambda: wakeup.backend_pid not in (None, lost))
    until(lambda: cache.get(issued.client.client_id) is None)
    cache.confirm(cache.now())
    assert clients.authenticate_cached(issued.token) is None
