"""SQLite storage: the embedded default, one file under `var/`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from casestore.persistence import CaseRecorder
from casestore.persistence.side_tables import create_statements


class CaseSQLiteRecorder(CaseRecorder, SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        self._position_statement = (
            f"SELECT rowid FROM {self.events_table_name} "  # noqa: S608 - fixed table name
            "WHERE originator_id=? AND originator_version=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *create_statements(self._t)]

    def _t(self, table: str) -> str:
        return f"casestore_{table}"

    def _q(self, statement: str) -> str:
        return statement.replace("%s", "?")

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        self.write_side_rows(c, kwargs.get("side_rows"))
        return positions

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._position_statement, (originator_id.hex, version))
            row = cursor.fetchone()
            return None if row is None else int(row[0])
