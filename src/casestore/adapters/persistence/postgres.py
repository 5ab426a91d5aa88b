"""PostgreSQL storage (psycopg 3): for deployments with several API processes.

Every save is ONE statement: a function that takes the table lock, notifies listeners,
writes the side rows and inserts the events, in the statement's own transaction. The
lock is the library's guarantee kept whole — notification ids are handed out and
committed one transaction at a time, so a reader tailing the global order never passes
a gap that a slower writer fills later — and doing it server-side costs one round trip
instead of the library's pipelined BEGIN … COMMIT.

When the server goes away, requests fail fast instead of waiting it out: a connection is
waited for at most the pool's timeout (`CASESTORE_DATABASE_WAIT`), and the library's ten
retries per read (up to a minute while the server is down) give way to one: after a
failure the pool drops every connection that died with the server, so the retry, and
every later request, gets a live one or times out at once. A save is never retried:
whether a save that failed on a broken connection committed cannot be told, and only an
idempotency key makes a repeat safe. The caller gets a 503 and comes back.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar, cast
from uuid import UUID

import psycopg
import structlog
from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import PoolTimeout

from casestore.adapters.persistence.audit_table import AuditTable
from casestore.adapters.persistence.audit_table import prepare as prepare_audit
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
from casestore.adapters.wakeup import (
    REVOCATIONS_CHANNEL,
    OnRevoked,
    OnSaved,
    PostgresWakeup,
    Wakeup,
)

COLUMNS = {table: columns(row) for table, row in SIDE_TABLES.items()}
"""The keys of each side table's rows in the save function's JSON argument."""
UNAVAILABLE = (OperationalError, InterfaceError)
"""How the datastore reports a server it cannot reach or use now (its own error classes,
wrapping psycopg's: a refused or broken connection, a pool timeout, a shutdown, a lock
or statement timeout)."""

log = structlog.get_logger("casestore.adapters.persistence")
KEPT_DEAD = re.compile(r"(\d+) dead row versions cannot be removed yet")
VACUUM_ATTEMPTS = 12  # about 15 seconds for the oldest open transaction to end
T = TypeVar("T")


COPY_FROM = 50  # rows from which an insert is a COPY


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

    def insert(
        self,
        cursor: Cursor,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Many rows go in by COPY (row triggers fire as for INSERT): a multi-row INSERT
        of thousands of placeholders costs more to build and parse than to write."""
        if len(rows) < COPY_FROM:
            super().insert(cursor, table, columns, rows)
            return
        statement = f"COPY {self.table(table)} ({', '.join(columns)}) FROM STDIN"
        with cast(psycopg.Cursor[Any], cursor).copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def library_table(self, name: str) -> str:
        schema = self.datastore.schema.replace('"', '""')
        return f'"{schema}"."{name}"'

    def erase_freed(self, tables: Sequence[str]) -> None:
        # A deleted or updated row stays in its page as a dead tuple until a vacuum, and
        # a plain VACUUM only marks its space free; VACUUM FULL writes the table anew
        # (holding its lock meanwhile) and drops the old file, dead tuples with it. Not
        # those some open transaction (in any session of the database) may still see:
        # VERBOSE says how many it had to keep, and the vacuum is repeated until none.
        kept: list[int] = []

        def heard(diagnostic: psycopg.errors.Diagnostic) -> None:
            for text in (diagnostic.message_primary, diagnostic.message_detail):
                found = KEPT_DEAD.search(text or "")
                if found:
                    kept.append(int(found.group(1)))

        with self.recovering(), self.datastore.get_connection() as conn:
            conn.add_notice_handler(heard)
            try:
                for attempt in range(VACUUM_ATTEMPTS):
                    kept.clear()
                    for name in tables:
                        statement = SQL("VACUUM (FULL, VERBOSE) {}").format(SQL(self.table(name)))
                        conn.execute(statement)
                    if not any(kept):
                        return
                    time.sleep(min(0.05 * 2**attempt, 2.0))
            finally:
                conn.remove_notice_handler(heard)
        raise OperationalError(
            f"{sum(kept)} deleted row versions are still visible to an open transaction; "
            "the next run erases them"
        )

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        with self.recovering(), self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        # One autocommitted statement: no BEGIN/ROLLBACK round trips around a lone read.
        with (
            self.recovering(),
            self.datastore.get_connection() as conn,
            conn.cursor() as cursor,
        ):
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

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.read_once_more(lambda: Backend.one(self, statement, params))

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.read_once_more(lambda: Backend.all(self, statement, params))

    # ---- when the server goes away -------------------------------------------------------

    def unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, UNAVAILABLE)

    def read_once_more(self, read: Callable[[], T]) -> T:
        """`read`, tried again once if it failed on a connection that died with the server
        (the pool is cleared of those first); not when no connection came in time."""
        try:
            return read()
        except UNAVAILABLE as exc:
            if isinstance(exc.__cause__, PoolTimeout):
                raise
        return read()

    @contextmanager
    def recovering(self) -> Iterator[None]:
        """Drop the dead connections when what runs inside fails on one."""
        try:
            yield
        except UNAVAILABLE as exc:
            if not isinstance(exc.__cause__, PoolTimeout):
                self.drop_dead_connections(exc)
            raise

    def drop_dead_connections(self, exc: BaseException) -> None:
        """Check the pooled connections and replace the broken ones (the pool reconnects
        in the background, backing off while the server stays away)."""
        log.warning("database connection failed", error=str(exc).strip()[:200])
        with suppress(Exception):
            self.datastore.pool.check()

    def chain_audit(self, cursor: Cursor | None, prepared: Sequence[Any]) -> bool:
        statement = SQL("SELECT {}.casestore_audit_append(%s::jsonb)").format(
            Identifier(self.datastore.schema)
        )
        payload = json.dumps(list(prepared))
        if cursor is not None:
            cursor.execute(statement, (payload,))
            return True
        with (
            self.recovering(),
            self.datastore.get_connection() as conn,  # autocommit: one statement, committed
            conn.cursor() as own,
        ):
            own.execute(statement, (payload,), prepare=True)
        return True

    def in_commit_order(self, cursor: Cursor, table: str) -> None:
        # A sequence hands out numbers in call order, not commit order: without the lock a
        # reader past a higher number that committed first would never see a lower one.
        cursor.execute(f"LOCK TABLE {self.table(table)} IN EXCLUSIVE MODE")
        cursor.execute("SELECT pg_notify(%s, '')", (self.events_channel,))

    def announce_revocation(self, cursor: Cursor, client_id: str) -> None:
        cursor.execute("SELECT pg_notify(%s, %s)", (REVOCATIONS_CHANNEL, client_id))

    def wakeup(
        self,
        on_saved: OnSaved,
        max_position: Callable[[], int],
        tokens: TokenCache[Any] | None = None,
        on_revoked: OnRevoked | None = None,
    ) -> Wakeup:
        return PostgresWakeup(
            on_saved, self.listening_connection, self.events_channel, tokens, on_revoked
        )

    def listening_connection(self) -> psycopg.Connection[Any]:
        """A plain autocommit connection with the pool's arguments, for LISTEN."""
        pool: Any = self.datastore.pool
        plain = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        return psycopg.connect(pool.conninfo, **plain, autocommit=True, connect_timeout=5)


class CasePostgresRecorder(CaseRecorder, PostgresApplicationRecorder):
    backend: PostgresBackend

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.backend = PostgresBackend(datastore, self.channel_name, self.events_table_name)
        self.tables = SharingTables(self.backend)
        self.audit_table = AuditTable(self.backend)
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
            "AND g.version = a.version) AS grants, a.event_id "
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
        # The same with the save's audit entries (migrations/postgres/0006_audit.sql).
        self._audited_statement = SQL(
            "SELECT * FROM {schema}.{function}(%s, %s::jsonb, %s::jsonb)"
        ).format(schema=schema, function=Identifier(f"{self.events_table_name}_append_audited"))
        self._audited_one_statement = SQL(
            "SELECT * FROM {schema}.{function}(%s, %s, %s, %s, %s::jsonb, %s::jsonb)"
        ).format(schema=schema, function=Identifier(f"{self.events_table_name}_append_audited_one"))

    # Replaces the library's insert (checked against eventsourcing 9.5.6; the contract test
    # in tests/unit/test_library_contract.py fails when it changes). Tried once: see the
    # module docstring.
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
        audit = kwargs.get("audit")
        statement, params = self._append_call(
            stored_events,
            json.dumps(side),
            # The trail's entries are chained by the same statement, in its transaction.
            json.dumps([prepare_audit(entry) for entry in audit]) if audit else None,
        )
        with (
            self.backend.recovering(),
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            cur.execute(statement, params, prepare=True)
            return [row[0] for row in cur.fetchall()]

    # The library's reads retry ten times, 0.2 s apart, each waiting for a connection: about
    # a minute while the server is down. These are the same reads, tried once more at most.

    def select_events(self, originator_id: UUID | str, **kwargs: Any) -> Sequence[StoredEvent]:
        read: Callable[..., Sequence[StoredEvent]] = _unretried(
            PostgresApplicationRecorder.select_events
        )
        return self.backend.read_once_more(lambda: self._recovered(read, originator_id, **kwargs))

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        read: Callable[..., Sequence[Notification]] = _unretried(
            PostgresApplicationRecorder.select_notifications
        )
        return self.backend.read_once_more(lambda: self._recovered(read, *args, **kwargs))

    def max_notification_id(self) -> int | None:
        read: Callable[..., int | None] = _unretried(
            PostgresApplicationRecorder.max_notification_id
        )
        return self.backend.read_once_more(lambda: self._recovered(read))

    def _recovered(self, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.backend.recovering():
            return read(self, *args, **kwargs)

    def _append_call(
        self, stored_events: Sequence[StoredEvent], side: str, audit: str | None = None
    ) -> tuple[SQL | Composed, tuple[Any, ...]]:
        audited = () if audit is None else (audit,)
        if len(stored_events) == 1:
            e = stored_events[0]
            one = self._append_one_statement if audit is None else self._audited_one_statement
            return one, (e.originator_id, e.originator_version, e.topic, e.state, side, *audited)
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        many = self._append_statement if audit is None else self._audited_statement
        return many, (events, side, *audited)

    def feed_rows(self, org_id: str, after: int, limit: int) -> list[FeedRow]:
        return self.backend.read_once_more(lambda: self._feed_rows(org_id, after, limit))

    def _feed_rows(self, org_id: str, after: int, limit: int) -> list[FeedRow]:
        # Plain tuples: a feed page is a thousand wide rows, and naming each costs more
        # than the query.
        with (
            self.backend.recovering(),
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as cur,
        ):
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
                    event_id,
                )
                for position, originator_id, version, topic, state, grants, event_id in cur
            ]

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        return self.backend.read_once_more(lambda: self._position_of(originator_id, version))

    def _position_of(self, originator_id: UUID, version: int) -> int | None:
        with (
            self.backend.recovering(),
            self.datastore.get_connection() as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(self._position_statement, (originator_id, version), prepare=True)
            row = cursor.fetchone()
            return None if row is None else int(row["notification_id"])


def _unretried(method: Callable[..., T]) -> Callable[..., T]:
    """The library method without its retry decorator."""
    unwrapped: Callable[..., T] = inspect.unwrap(method)
    return unwrapped
