"""Shared fixtures: every integration test runs once on SQLite and once on PostgreSQL.

PostgreSQL tests create a schema of their own and drop it afterwards. When the server
named by CASESTORE_TEST_POSTGRES_URL cannot be reached they FAIL: a skipped database
test would let a broken storage layer pass unnoticed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from casestore.bootstrap import Services, build
from casestore.services.disclosure import Disclosure
from casestore.services.grants import Grants
from casestore.settings import Settings
from tests.factories import POSTGRES_URL, Clock, demo_settings

# Properties are about correctness, never speed: on a shared, loaded machine an example may
# take any time, so no property fails for having been slow.
hypothesis_settings.register_profile("casestore", deadline=None)
hypothesis_settings.load_profile("casestore")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def _connect() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({exc}). Start it (see README) or "
            "point CASESTORE_TEST_POSTGRES_URL at a server; database tests never skip."
        )


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards; for a test marked
    `own_database`, a fresh database. A VACUUM FULL (the retention run's erasure) keeps
    dead rows that any open transaction of the same database may still see, and the other
    test workers' transactions are in database `test`; in a database of its own, only
    the test's own sessions count."""
    if request.node.get_closest_marker("own_database") is None:
        yield from _schema_url()
    else:
        yield from _database_url()


def _schema_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with _connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _database_url() -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}?schema=public"
    finally:
        with _connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'casestore.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return demo_settings(database_url, tmp_path)


@pytest.fixture
def services(settings: Settings, clock: Clock) -> Iterator[Services]:
    built = build(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def disclosure(services: Services) -> Disclosure:
    return services.disclosure


@pytest.fixture
def grants(services: Services) -> Grants:
    return services.grants
