"""The two databases the bench runs on, each set up for one run and removed afterwards,
with a plain single-row INSERT (one commit each) as the baseline for the store's writes."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.measure import Workload
from casestore.settings import Settings

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
RAW_TABLE = "bench_raw_insert"
POLICY = Path(__file__).resolve().parents[1] / "policies" / "amsterdam-amstelland.yaml"


@dataclass
class Backend:
    name: str
    settings: Settings
    raw_insert: Callable[[bytes], Workload]
    """Given a row payload, an operation that inserts one such row and commits."""
    stored_state_bytes: Callable[[str, Sequence[uuid.UUID]], float]
    """Mean size of the stored signalering states of the given cases in the named events
    table."""
    server: str
    closers: list[Callable[[], None]] = field(default_factory=list)

    def with_snapshot_interval(self, interval: int) -> Settings:
        return self.settings.model_copy(update={"snapshot_interval": interval})


def settings(database_url: str | None, var_dir: Path) -> Settings:
    # Demo mode generates throwaway secrets and partner keys under var_dir (a temporary
    # directory); signatures stay required, so the bench pays for verifying them.
    return Settings(
        demo=True,
        database_url=database_url,
        var_dir=var_dir,
        policy_file=POLICY,
        require_signatures=True,
    )


def postgres_url() -> str:
    return os.environ.get("CASESTORE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def postgres(var_dir: Path) -> Iterator[Backend]:
    """A schema of its own on the bench server, dropped afterwards."""
    url = postgres_url()
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    raw = psycopg.connect(url, connect_timeout=5)
    try:
        table = sql.Identifier(schema, RAW_TABLE)
        raw.execute(
            sql.SQL(
                "CREATE TABLE {} (id bigserial PRIMARY KEY, originator_id uuid NOT NULL, "
                "originator_version integer NOT NULL, topic text NOT NULL, state bytea NOT NULL)"
            ).format(table)
        )
        raw.commit()
        insert = sql.SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        ).format(table)

        def raw_insert(state: bytes) -> Workload:
            versions = iter(range(1, 1 << 62))

            def insert_one(_: None) -> object:
                raw.execute(
                    insert, (uuid.uuid4(), next(versions), "bench.raw", state), prepare=True
                )
                raw.commit()
                return None

            return Workload(insert_one)

        def stored_state_bytes(events_table: str, cases: Sequence[uuid.UUID]) -> float:
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute(
                    sql.SQL(
                        "SELECT avg(octet_length(state)) FROM {} "
                        "WHERE topic = %s AND originator_id = ANY(%s)"
                    ).format(sql.Identifier(schema, events_table)),
                    ("casestore.case.signalering", list(cases)),
                ).fetchone()
            return float(row[0]) if row and row[0] is not None else 0.0

        version = admin.execute("SHOW server_version").fetchone()
        yield Backend(
            name="postgresql",
            settings=settings(f"{url}?schema={schema}", var_dir),
            raw_insert=raw_insert,
            stored_state_bytes=stored_state_bytes,
            server=f"PostgreSQL {version[0] if version else '?'} ({_host(url)})",
        )
    finally:
        raw.close()
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        admin.close()


@contextmanager
def sqlite(var_dir: Path) -> Iterator[Backend]:
    """A temporary file, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="casestore-bench-") as directory:
        path = Path(directory) / "bench.sqlite3"
        sqlite_settings = settings(f"sqlite:///{path}", var_dir)
        raw: sqlite3.Connection | None = None

        def connection() -> sqlite3.Connection:
            # Opened lazily: the store must create the file (and switch it to WAL) first,
            # so the baseline writes to the same file in the same journal mode.
            nonlocal raw
            if raw is None:
                raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                raw.execute(
                    f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id INTEGER PRIMARY KEY, "
                    "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
                    "topic TEXT NOT NULL, state BLOB NOT NULL)"
                )
            return raw

        def raw_insert(state: bytes) -> Workload:
            conn = connection()
            versions = iter(range(1, 1 << 62))
            insert = (
                f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)"
            )

            def insert_one(_: None) -> object:
                conn.execute("BEGIN")
                conn.execute(insert, (uuid.uuid4().hex, next(versions), "bench.raw", state))
                conn.execute("COMMIT")
                return None

            return Workload(insert_one)

        def stored_state_bytes(events_table: str, cases: Sequence[uuid.UUID]) -> float:
            marks = ", ".join("?" * len(cases))
            row: Any = (
                connection()
                .execute(
                    f"SELECT avg(length(state)) FROM {events_table} "
                    f"WHERE topic = ? AND originator_id IN ({marks})",
                    ("casestore.case.signalering", *(case.hex for case in cases)),
                )
                .fetchone()
            )
            return float(row[0]) if row and row[0] is not None else 0.0

        backend = Backend(
            name="sqlite",
            settings=sqlite_settings,
            raw_insert=raw_insert,
            stored_state_bytes=stored_state_bytes,
            server=f"SQLite {sqlite3.sqlite_version} (temp file, WAL)",
        )
        try:
            yield backend
        finally:
            if raw is not None:
                raw.close()


def _host(url: str) -> str:
    return url.split("@")[-1].split("?")[0]
