"""SQLite storage: the embedded default, one file under `var/`."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore


class CaseSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        self._position_statement = (
            f"SELECT rowid FROM {self.events_table_name} "  # noqa: S608 - fixed table name
            "WHERE originator_id=? AND originator_version=?"
        )

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._position_statement, (originator_id.hex, version))
            row = cursor.fetchone()
            return None if row is None else int(row[0])
