"""PostgreSQL storage (psycopg 3): for deployments with several API processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from casestore.persistence import CaseRecorder
from casestore.persistence.side_tables import create_statements


class CasePostgresRecorder(CaseRecorder, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self._position_statement = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        for statement in create_statements(self._t):
            # Built from constants and a quoted schema name, never from input.
            self.sql_create_statements.append(SQL(statement).format())

    def _t(self, table: str) -> str:
        schema = self.datastore.schema.replace('"', '""')
        return f'"{schema}".casestore_{table}'

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        self.write_side_rows(curs, kwargs.get("side_rows"))

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._position_statement, (originator_id, version), prepare=True)
            row = cursor.fetchone()
            return None if row is None else int(row["notification_id"])
