"""Numbered schema migrations: one plain SQL file per step and backend.

    sqlite/NNNN_name.sql     postgres/NNNN_name.sql

A store records every migration applied to it in `casestore_schema_version` (one row per
step), so its version is the highest number there. `casestore db migrate` applies the
missing steps in order, each in one transaction with its row; `casestore db status` says
where a store stands. Every process checks the version as it starts: a store newer than
the code knows, or older than `SERVES_FROM`, is refused with one line saying what to do.

Adding a table, column or index is one new numbered file in each folder, the same number
and name in both (a test holds them in step); raise `SERVES_FROM` to that number when the
code cannot run without it. A file that has been released is never edited. Records that
older code cannot read (a new kind of person-index record, say) are a step too, a file
without statements: the store's version then keeps that code from starting against it.

The eventsourcing library's own tables (events, snapshots, their composite type and
insert function on PostgreSQL) belong to migration 1 like every other table: the library
is told not to create anything (CREATE_TABLE=n), and its DDL for the pinned version is
copied into 0001_initial.sql. A library upgrade that changes its DDL therefore needs a
migration of ours; tests/integration/test_migrations.py compares a migrated store with a
store written before migrations existed. Migration 1 is that schema exactly, written so
that every statement is idempotent: such a store takes it as a no-op and is marked as
version 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import structlog

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import stamp
from casestore.adapters.persistence.sharing_tables import SharingTables

log = structlog.get_logger("casestore.adapters.persistence.migrations")

SERVES_FROM = 11
"""The oldest schema version this code can run on (11: key generations, the audit trail,
policy versions, retention's holds and verklaringen, the worklist and the meetings, and the
restrictions of the right of access are in the store, and grants state the moment they were
sealed, which scheduled policy versions are checked against)."""

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class SchemaError(Exception):
    """The store's schema does not fit this code; the message says what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations(kind: str) -> tuple[Migration, ...]:
    """Every migration for one backend (`sqlite` or `postgres`), in order."""
    found = []
    for entry in resources.files(__name__).joinpath(kind).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise SchemaError(f"the {kind} migrations are not numbered 1, 2, 3, … without gaps")
    return tuple(found)


@dataclass(frozen=True)
class SchemaStatus:
    version: int  # 0: nothing applied yet
    latest: int  # the highest this code knows
    pending: tuple[Migration, ...]
    legacy: bool = False  # tables from before migrations, not yet marked

    def check(self) -> None:
        """Refuse a store this code cannot serve, in one line."""
        if self.version > self.latest:
            raise SchemaError(
                f"the database schema is at version {self.version}, newer than this casestore "
                f"knows ({self.latest}): run a casestore release that knows it"
            )
        if self.version < SERVES_FROM:
            state = (
                "has no casestore schema"
                if self.version == 0
                else (f"schema is at version {self.version}")
            )
            raise SchemaError(
                f"the database {state}; this casestore needs version {SERVES_FROM} or later "
                f"(up to {self.latest}): run `casestore db migrate`"
            )

    def describe(self) -> str:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in self.pending) or "none"
        return f"schema version {self.version} of {self.latest}; pending: {names}"


class Schema:
    """The schema of one store, through its backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.known = migrations(backend.dialect)
        self._table = backend.table("schema_version")

    @property
    def latest(self) -> int:
        return self.known[-1].version

    def status(self) -> SchemaStatus:
        version = self._version()
        legacy = version == 0 and self.backend.has_table(self.backend.events_table, own=False)
        pending = tuple(m for m in self.known if m.version > version)
        return SchemaStatus(version, self.latest, pending, legacy)

    def check(self) -> SchemaStatus:
        status = self.status()
        status.check()
        return status

    def migrate(self, upto: int | None = None) -> list[Migration]:
        """Apply every pending migration (up to `upto`), each in its own transaction, one
        process at a time (the others wait, then find nothing left to do)."""
        applied = []
        for migration in self.known:
            if upto is not None and migration.version > upto:
                break
            with self.backend.migrating() as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table} (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                cursor.execute(f"SELECT MAX(version) AS version FROM {self._table}")
                row = cursor.fetchone()
                current = int(row["version"] or 0) if row is not None else 0
                if current > self.latest:
                    SchemaStatus(current, self.latest, ()).check()
                if migration.version <= current:
                    continue
                if migration.version == 1 and self.backend.has_table(
                    self.backend.events_table, own=False
                ):
                    self._check_legacy_layout()
                for statement in self.backend.script(migration.sql):
                    cursor.execute(statement)
                cursor.execute(
                    self.backend.sql(
                        f"INSERT INTO {self._table} (version, name, applied_at) VALUES (%s, %s, %s)"
                    ),
                    (migration.version, migration.name, stamp(datetime.now(UTC))),
                )
            log.info("schema migrated", version=migration.version, name=migration.name)
            applied.append(migration)
        self.backend.schema_changed()
        return applied

    def _version(self) -> int:
        if not self.backend.has_table("schema_version"):
            return 0
        row = self.backend.one(f"SELECT MAX(version) AS version FROM {self._table}")
        return int(row["version"] or 0) if row is not None else 0

    def _check_legacy_layout(self) -> None:
        """A store from before one grant per (event, organisation key) cannot be marked as
        version 1: its grants would fail on the first sealed event."""
        if not SharingTables(self.backend).has_current_layout():
            raise SchemaError(
                "the database holds grants in a layout older than schema version 1 (one per "
                "field) that no migration converts; point CASESTORE_DATABASE_URL at a new "
                "database (for the demo: make clean)"
            )
