"""SQLite storage: the embedded default, one file under `var/`.

SQLite pushes nothing to other processes: live feeds in other processes poll the highest
position, and API processes never cache clients (a revocation could not reach them).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from casestore.adapters.persistence.audit_table import AuditTable
from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.recorder import CaseRecorder
from casestore.adapters.persistence.sharing_tables import (
    FeedRow,
    SharingTables,
    SideRows,
    with_positions,
    write_side_rows,
)
from casestore.adapters.token_cache import TokenCache
from casestore.adapters.wakeup import OnRevoked, OnSaved, SQLiteWakeup, Wakeup

TRANSIENT = ("database is locked", "database table is locked", "unable to open", "disk I/O")
"""What SQLite says when the file cannot be used just now."""


class SQLiteBackend(Backend):
    dialect = "sqlite"
    commits_off_thread = False
    events_table = "stored_events"

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.datastore = datastore
        _delete_securely(datastore)

    def library_table(self, name: str) -> str:
        return name

    def originator(self, originator_id: UUID) -> Any:
        return originator_id.hex

    def erase_freed(self, tables: Sequence[str]) -> None:
        # Every connection overwrites what it deletes (secure_delete, below), in the WAL
        # as in the main file; the checkpoint copies the WAL's pages into the main file and
        # truncates the WAL, so the pages written before the deletion are gone from both.
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            for _ in range(CHECKPOINT_ATTEMPTS):
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
                if not busy:
                    return
                time.sleep(0.05)
        raise OperationalError("database is locked: the WAL could not be checkpointed")

    def table(self, name: str) -> str:
        return f"casestore_{name}"

    def sql(self, statement: str) -> str:
        return statement.replace("%s", "?")

    def transaction(self, *, commit: bool) -> AbstractContextManager[Cursor]:
        return self.datastore.transaction(commit=commit)

    def has_table(self, name: str, *, own: bool = True) -> bool:
        table = self.table(name) if own else name
        found = self.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (table,))
        return found is not None

    @contextmanager
    def migrating(self) -> Iterator[Cursor]:
        # IMMEDIATE takes the write lock at once: two processes migrating one file queue
        # here instead of failing when the second tries to upgrade its read lock.
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    def script(self, sql: str) -> list[str]:
        """Statements one by one (sqlite3 runs one per call), split where SQLite says a
        statement is complete."""
        statements, pending = [], ""
        for line in sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                statement = "\n".join(
                    part for part in pending.splitlines() if not part.lstrip().startswith("--")
                ).strip()
                if statement.rstrip(";").strip():
                    statements.append(statement)
                pending = ""
        if pending.strip() and any(
            not part.lstrip().startswith("--") and part.strip() for part in pending.splitlines()
        ):
            raise ValueError("a migration ends inside a statement")
        return statements

    def unavailable(self, exc: BaseException) -> bool:
        # SQLite calls every failure an OperationalError, a missing table as much as a
        # file another process holds locked past the timeout: only the second kind passes.
        return isinstance(exc, OperationalError) and any(cause in str(exc) for cause in TRANSIENT)

    def wakeup(
        self,
        on_saved: OnSaved,
        max_position: Callable[[], int],
        tokens: TokenCache[Any] | None = None,
        on_revoked: OnRevoked | None = None,
    ) -> Wakeup:
        return SQLiteWakeup(on_saved, max_position)


CHECKPOINT_ATTEMPTS = 100  # a reader holding an old snapshot keeps the WAL in use


def _delete_securely(datastore: SQLiteDatastore) -> None:
    """Have every connection of the datastore zero what it deletes (`PRAGMA secure_delete`,
    a per-connection setting): a deleted key's bytes would otherwise stay on its page's free
    list, in the file, until the space happens to be reused. The library makes the
    connections (checked against eventsourcing 9.5.6 by tests/unit/test_library_contract.py)."""
    pool = datastore.pool
    if getattr(pool, "_deletes_securely", False):
        return
    create = pool._create_connection

    def create_securely() -> Any:
        connection = create()
        connection._sqlite_conn.execute("PRAGMA secure_delete = ON")
        return connection

    pool._create_connection = create_securely  # type: ignore[method-assign]
    pool._deletes_securely = True  # type: ignore[attr-defined]


class CaseSQLiteRecorder(CaseRecorder, SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.backend = SQLiteBackend(datastore)
        self.tables = SharingTables(self.backend)
        self.audit_table = AuditTable(self.backend)
        super().__init__(datastore, events_table_name)
        self._position_statement = (
            f"SELECT rowid FROM {self.events_table_name} "
            "WHERE originator_id=? AND originator_version=?"
        )
        t = self.backend.table
        self._feed_statement = (
            "SELECT a.position, e.originator_id, e.originator_version, e.topic, e.state, "
            "(SELECT group_concat(grant_json, ',') FROM (SELECT grant_json "
            f"FROM {t('grants')} g WHERE g.org_id = a.org_id AND g.case_id = a.case_id "
            f"AND g.version = a.version ORDER BY g.key_id)) AS grants, a.event_id "
            "FROM (SELECT org_id, case_id, version, event_id, position "
            f"FROM {t('access')} WHERE org_id = ? AND position > ? "
            "ORDER BY position LIMIT ?) a "
            f"JOIN {self.events_table_name} e ON e.rowid = a.position "
            "ORDER BY a.position"
        )  # the page cut from the access index first, as on PostgreSQL

    # The library's insert step inside a save's transaction, checked against eventsourcing
    # 9.5.6 (tests/unit/test_library_contract.py fails when it changes).
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        rows: SideRows | None = kwargs.get("side_rows")
        if rows is not None and positions is not None:
            with_positions(
                rows,
                {
                    (str(e.originator_id), e.originator_version): p
                    for e, p in zip(stored_events, positions, strict=True)
                },
            )
        write_side_rows(self.backend, c, rows)
        self.audit_table.append(c, kwargs.get("audit") or ())
        return positions

    def feed_rows(self, org_id: str, after: int, limit: int) -> list[FeedRow]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._feed_statement, (org_id, after, limit))
            return [
                FeedRow(
                    Notification(
                        id=row["position"],
                        originator_id=self.convert_originator_id(row["originator_id"]),
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=row["state"],
                    ),
                    row["grants"],
                    row["event_id"],
                )
                for row in cursor.fetchall()
            ]

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._position_statement, (originator_id.hex, version))
            row = cursor.fetchone()
            return None if row is None else int(row[0])
