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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from casestore.persistence import CaseRecorder
from casestore.persistence.side_tables import COLUMNS, SideRows, create_statements, side_values

COLUMN_TYPES = {"version": "bigint"}  # every other side column is text


class CasePostgresRecorder(CaseRecorder, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._position_statement = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(schema=schema, table=Identifier(self.events_table_name))
        for statement in create_statements(self._t):
            # Built from constants and a quoted schema name, never from input.
            self.sql_create_statements.append(SQL(statement).format())
        self._function = Identifier(f"{self.events_table_name}_append")
        self.sql_create_statements.append(self._create_function())
        self._append_statement = SQL("SELECT * FROM {schema}.{function}(%s, %s::jsonb)").format(
            schema=schema, function=self._function
        )

    def _t(self, table: str) -> str:
        schema = self.datastore.schema.replace('"', '""')
        return f'"{schema}".casestore_{table}'

    def _create_function(self) -> Any:
        side = "\n".join(
            f"    INSERT INTO {self._t(table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM jsonb_to_recordset(side->'{table}') AS x("
            + ", ".join(f"{c} {COLUMN_TYPES.get(c, 'text')}" for c in columns)
            + ");"
            for table, columns in COLUMNS.items()
        )
        body = (
            "CREATE OR REPLACE FUNCTION {schema}.{function}("
            "events {schema}.{event_type}[], side jsonb) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$\n"
            "BEGIN\n"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';\n"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;\n"
            "    NOTIFY {channel};\n" + side.replace("{", "{{").replace("}", "}}") + "\n"
            "    RETURN QUERY INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
            "RETURNING notification_id;\n"
            "END;\n$BODY$"
        )
        return SQL(body).format(
            schema=Identifier(self.datastore.schema),
            function=self._function,
            event_type=Identifier(self.stored_event_type_name),
            table=Identifier(self.events_table_name),
            channel=Identifier(self.channel_name),
            lock_timeout=self.datastore.lock_timeout,
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        rows: SideRows | None = kwargs.get("side_rows")
        side = {
            table: [dict(zip(COLUMNS[table], values, strict=True)) for values in table_rows]
            for table, table_rows in (side_values(rows).items() if rows else ())
            if table_rows
        }
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._append_statement, (events, json.dumps(side)), prepare=True)
            return [row[f"{self.events_table_name}_append"] for row in cursor.fetchall()]

    @contextmanager
    def _reading(self) -> Iterator[Cursor[DictRow]]:
        # One autocommitted statement: no BEGIN/ROLLBACK round trips around a lone read.
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            yield cursor

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._position_statement, (originator_id, version), prepare=True)
            row = cursor.fetchone()
            return None if row is None else int(row["notification_id"])
