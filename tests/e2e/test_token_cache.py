"""Bearer tokens across API processes: on PostgreSQL each process answers from a cache of
clients, yet a revoked token is refused by every process once the revocation returns; on
SQLite there is no cache (nothing would tell the other processes) and every request
reads the table."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from casestore.bootstrap import Services, build
from tests.e2e.server import serve_env, serve_process
from tests.factories import POSTGRES_URL, demo_settings

ROOT = Path(__file__).resolve().parents[2]
ORG = "gemeente-amsterdam"
PROTECTED = "/v1/policy"  # any role, and no database work besides the token


@dataclass
class Deployment:
    """Two `casestore serve` processes on one database, and the test's own services on
    it as a third process would have (the real clock: the servers check expiry with
    theirs)."""

    services: Services
    urls: list[str]

    @property
    def backend(self) -> str:
        url = self.services.settings.database_url or ""
        return "postgres" if url.startswith("postgresql") else "sqlite"

    @contextmanager
    def clients_table_away(self) -> Iterator[None]:
        """The clients table renamed for a while: only a cache can still answer."""
        if self.backend == "postgres":
            recorder = self.services.store.recorder
            assert isinstance(recorder, PostgresApplicationRecorder)
            schema = recorder.datastore.schema
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                table = sql.Identifier(schema, "casestore_clients")
                conn.execute(sql.SQL("ALTER TABLE {} RENAME TO casestore_away").format(table))
                try:
                    yield
                finally:
                    away = sql.Identifier(schema, "casestore_away")
                    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO casestore_clients").format(away))
        else:
            path = (self.services.settings.database_url or "").removeprefix("sqlite:///")
            with closing(sqlite3.connect(path, isolation_level=None)) as conn:
                conn.execute("ALTER TABLE casestore_clients RENAME TO casestore_away")
                try:
                    yield
                finally:
                    conn.execute("ALTER TABLE casestore_away RENAME TO casestore_clients")


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    settings = demo_settings(database_url, tmp_path)
    env = serve_env(settings)
    services = build(settings)
    try:
        with serve_process(env, ROOT) as a, serve_process(env, ROOT) as b:
            yield Deployment(services, [a, b])
    finally:
        services.close()


def status(base_url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{base_url}{PROTECTED}", headers=headers, timeout=30).status_code


def answered_without_the_table(deployment: Deployment, tokens: list[str]) -> list[int]:
    """Each token's status from each process while the clients table is away: on
    PostgreSQL each is waited for until the process's cache serves it (its listener
    confirms within a fraction of a second of being asked)."""
    answers = []
    with deployment.clients_table_away():
        for url in deployment.urls:
            for token in tokens:
                deadline = time.monotonic() + 10
                answer = status(url, token)
                while deployment.backend == "postgres" and answer != 200:
                    assert time.monotonic() < deadline, "the cache never served the token"
                    time.sleep(0.02)
                    answer = status(url, token)
                answers.append(answer)
    return answers


def test_each_process_answers_from_its_cache_on_postgresql_only(deployment: Deployment) -> None:
    token = deployment.services.clients.add(ORG, "partner-system", "e2e").token
    for url in deployment.urls:
        assert status(url, token) == 200
    answers = answered_without_the_table(deployment, [token])
    # SQLite: the lookup itself fails, every time.
    assert set(answers) == {200 if deployment.backend == "postgres" else 500}


def test_a_revoked_token_is_refused_by_every_process_once_the_revocation_returns(
    deployment: Deployment,
) -> None:
    clients = deployment.services.clients
    issued = [clients.add(ORG, "partner-system", f"e2e {i}") for i in range(5)]
    keep = clients.add(ORG, "partner-system", "kept")
    tokens = [one.token for one in [*issued, keep]]
    for url in deployment.urls:
        assert [status(url, token) for token in tokens] == [200] * len(tokens)
    if deployment.backend == "postgres":  # every token in every process's cache
        assert set(answered_without_the_table(deployment, tokens)) == {200}
    for one in issued:
        clients.revoke(one.client.client_id)
        for url in deployment.urls:
            assert status(url, one.token) == 401, f"{url} still accepts a revoked token"
            assert status(url, keep.token) == 200
