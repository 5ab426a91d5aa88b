"""PostgreSQL storage (psycopg 3): for deployments with several API processes.

Every save is ONE statement: a function that takes the table lock, notifies listeners,
writes the side rows and inserts the events, in the statement's own transaction. The
lock is the library's guarantee kept whole — notification ids are handed out and
committed one transaction at a time, so a reader tailing the global order never passes
a gap that a slower writer fills later — and doing it server-side costs one round trip
instead of the library's pipelined BEGIN … COMMIT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.recorder import CaseRecorder
from casestore.adapters.persistence.rows import columns
from casestore.adapters.persistence.sharing_tables import (
    SIDE_TABLES,
    FeedRow,
    SharingTables,
    SideRows,
    side_values,
)
from casestore.adapters.token_cache import TokenCache
from casestore.adapters.wakeup import REVOCATIONS_CHANNEL, OnSaved, PostgresWakeup, Wakeup

COLUMNS = {table: columns(row) for table, row in SIDE_TABLES.items()}
"""The keys of each side table's rows in the save function's JSON argument."""


class PostgresBackend(Backend):
    broadcasts_revocations = True
    dialect = "postgres"

    def __init__(
        self, datastore: PostgresDatastore, events_channel: str, events_table: str
    ) -> None:
        self.datastore = datastore
        self.events_channel = events_channel
        self.events_table = events_table

    def table(self, name: str) -> str:
        schema = self.datastore.schema.replace('"', '""')
        return f'"{schema}".casestore_{name}'

    def transaction(self, *, commit: bool) -> AbstractContextManager[Cursor]:
        return self.datastore.transaction(commit=commit)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        # One autocommitted statement: no BEGIN/ROLLBACK round trips around a lone read.
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            yield cursor

    def has_table(self, name: str, *, own: bool = True) -> bool:
        schema = self.datastore.schema.replace('"', '""')
        table = self.table(name) if own else f'"{schema}"."{name}"'
        found = self.one("SELECT to_regclass(%s) IS NOT NULL AS found", (table,))
        return bool(found["found"])

    @contextmanager
    def migrating(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=True) as cursor:
            # One migrating process per schema at a time; the lock ends with the transaction.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"casestore-migrations:{self.datastore.schema}",),
            )
            schema = Identifier(self.datastore.schema)
            cursor.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            cursor.execute(SQL("SET LOCAL search_path TO {}").format(schema))
            yield cursor

    def schema_changed(self) -> None:
        self.datastore.register_type_adapters()

    def announce_revocation(self, cursor: Cursor, client_id: str) -> None:
        cursor.execute("SELECT pg_notify(%s, %s)", (REVOCATIONS_CHANNEL, client_id))

    def wakeup(
        self,
        on_saved: OnSaved,
        max_position: Callable[[], int],
        tokens: TokenCache[Any] | None = None,
    ) -> Wakeup:
        return PostgresWakeup(on_saved, self.listening_connection, self.events_channel, tokens)

    def listening_connection(self) -> psycopg.Connection[Any]:
        """A plain autocommit connection with the pool's arguments, for LISTEN."""
        pool: Any = self.datastore.pool
        plain = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        return psycopg.connect(pool.conninfo, **plain, autocommit=True, connect_timeout=5)


class CasePostgresRecorder(CaseRecorder, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.backend = PostgresBackend(datastore, self.channel_name, self.events_table_name)
        self.tables = SharingTables(self.backend)
        schema = Identifier(self.datastore.schema)
        self._position_statement = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(schema=schema, table=Identifier(self.events_table_name))
        # The page is cut from the access index before anything is joined: whatever the
        # planner's estimates (stale right after a burst of writes), a page never costs
        # the joins, or a sort, of everything the organisation receives after it.
        self._feed_statement = SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, "
            "(SELECT string_agg(g.grant_json, ',' ORDER BY g.key_id) "
            "FROM {grants} g WHERE g.org_id = a.org_id AND g.case_id = a.case_id "
            "AND g.version = a.version) AS grants "
            "FROM (SELECT org_id, case_id, version, event_id, position FROM {access} "
            "WHERE org_id = %s AND position > %s ORDER BY position LIMIT %s) a "
            "JOIN {schema}.{table} e ON e.notification_id = a.position "
            "ORDER BY a.position"
        ).format(
            access=SQL(self.backend.table("access")),
            grants=SQL(self.backend.table("grants")),
            schema=schema,
            table=Identifier(self.events_table_name),
        )
        # The save function (migrations/postgres/0001_initial.sql) has two entry points to
        # one body: a save of one event (nearly every save) passes it as scalars, since
        # psycopg dumps a list parameter in Python at ~0.1 ms a call.
        many = Identifier(f"{self.events_table_name}_append")
        one = Identifier(f"{self.events_table_name}_append_one")
        self._append_statement = SQL("SELECT * FROM {schema}.{function}(%s, %s::jsonb)").format(
            schema=schema, function=many
        )
        self._append_one_statement = SQL(
            "SELECT * FROM {schema}.{function}(%s, %s, %s, %s, %s::jsonb)"
        ).format(schema=schema, function=one)

    # Replaces the library's insert (checked against eventsourcing 9.5.6; the contract test
    # in tests/unit/test_library_contract.py fails when it changes).
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        rows: SideRows | None = kwargs.get("side_rows")
        side = {
            table: [dict(zip(COLUMNS[table], values, strict=True)) for values in table_rows]
            for table, table_rows in (side_values(rows).items() if rows else ())
            if table_rows
        }
        statement, params = self._append_call(stored_events, json.dumps(side))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(statement, params, prepare=True)
            return [row[0] for row in cur.fetchall()]

    def _append_call(
        self, stored_events: Sequence[StoredEvent], side: str
    ) -> tuple[SQL | Composed, tuple[Any, ...]]:
        if len(stored_events) == 1:
            e = stored_events[0]
            return self._append_one_statement, (
                e.originator_id,
                e.originator_version,
                e.topic,
                e.state,
                side,
            )
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        return self._append_statement, (events, side)

    def feed_rows(self, org_id: str, after: int, limit: int) -> list[FeedRow]:
        # Plain tuples: a feed page is a thousand wide rows, and naming each costs more
        # than the query.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(self._feed_statement, (org_id, after, limit), prepare=True, binary=True)
            return [
                FeedRow(
                    Notification(
                        id=position,
                        originator_id=originator_id,
                        originator_version=version,
                        topic=topic,
                        state=bytes(state),
                    ),
                    grants,
                )
                for position, originator_id, version, topic, state, grants in cur
            ]

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._position_statement, (originator_id, version), prepare=True)
            row = cursor.fetchone()
            return None if row is None else int(row["notification_id"])
