"""Tables that hold what sharing and idempotency need beside the immutable events.

Wrapped keys live apart from the events so that revoking a grant is deleting a row and
shredding a case is destroying its case key (and its grants and escrows): the events
themselves never change. `access` records, per organisation, which events it receives at
all (header and control attributes) — the index every per-organisation read uses.
`event_ids` holds one row per event: its digests for idempotent retries and readers, and
its escrow (emptied when the case is shredded).

Rows written for a new event go in through the recorder's insert hook, inside the same
transaction as the event, so an event is never stored without its grants or vice versa.
The SQL is shared by both backends; each supplies its parameter style and table names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

from eventsourcing.persistence import DatabaseError

INSERT_CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit
TABLES = ("case_keys", "grants", "access", "event_ids")


@dataclass(frozen=True)
class EventIdRow:
    event_id: str
    case_id: str
    version: int
    digest: str
    content_digests: str = "{}"  # JSON: sealed field -> ciphertext digest, as countersigned
    # JSON wire form of the event's escrow (its data keys under the case key); None for an
    # event without content and once the case is shredded.
    escrow: str | None = None


@dataclass(frozen=True)
class FeedRow:
    """One event of an organisation's feed as stored, with its countersigned digests."""

    notification: Any
    content_digests: str
    grants: str | None  # the organisation's grants, JSON objects joined by commas


@dataclass(frozen=True)
class CaseKeyRow:
    case_id: str
    wrapped: str  # base64 of the case key wrapped under the master key
    created_at: str


@dataclass(frozen=True)
class GrantRow:
    """One organisation key's grant of some fields of one event, and why it was granted."""

    case_id: str
    version: int
    event_id: str
    org_id: str
    key_id: str
    grant: str  # the grant's JSON wire form
    policy_version: str
    basis: str  # JSON: sealed field -> {"rules": [...], "grounds": [...]}, in grant order

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(json.loads(self.basis))


@dataclass(frozen=True)
class EscrowRow:
    """An event's escrow as read back (it is stored in the event's `event_ids` row)."""

    case_id: str
    event_id: str
    escrow: str  # JSON wire form: every data key of the event under the case key


@dataclass(frozen=True)
class AccessRow:
    """One event an organisation receives. `position` is the event's place in the global
    order, filled in by the recorder in the event's own transaction: an organisation's
    feed is then one index range, and commits in position order keep it gap-free."""

    org_id: str
    case_id: str
    version: int
    event_id: str
    policy_version: str
    position: int | None = None


@dataclass(frozen=True)
class ShredRecord:
    case_id: str
    shredded_at: str
    shredded_by: str
    reason: str


@dataclass
class SideRows:
    """Everything written beside the events of one save: `save(..., side_rows=rows)`."""

    event_ids: list[EventIdRow] = field(default_factory=list)
    case_keys: list[CaseKeyRow] = field(default_factory=list)
    grants: list[GrantRow] = field(default_factory=list)
    access: list[AccessRow] = field(default_factory=list)


class Cursor(Protocol):
    def execute(self, query: Any, params: Any = ...) -> Any: ...
    def executemany(self, query: Any, params_seq: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...


def create_statements(name: Any) -> list[str]:
    """DDL for both backends; `name(table)` gives the (qualified) table name."""
    return [
        f"CREATE TABLE IF NOT EXISTS {name('case_keys')} ("
        "case_id TEXT PRIMARY KEY, wrapped TEXT, created_at TEXT NOT NULL, "
        "shredded_at TEXT, shredded_by TEXT, reason TEXT)",
        f"CREATE TABLE IF NOT EXISTS {name('grants')} ("
        "case_id TEXT NOT NULL, version BIGINT NOT NULL, event_id TEXT NOT NULL, "
        "org_id TEXT NOT NULL, key_id TEXT NOT NULL, grant_json TEXT NOT NULL, "
        "policy_version TEXT NOT NULL, basis TEXT NOT NULL, "
        "PRIMARY KEY (org_id, case_id, version, key_id))",
        f"CREATE INDEX IF NOT EXISTS casestore_grants_by_case ON {name('grants')} (case_id)",
        f"CREATE TABLE IF NOT EXISTS {name('event_ids')} ("
        "event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "digest TEXT NOT NULL, content_digests TEXT NOT NULL, escrow_json TEXT)",
        f"CREATE INDEX IF NOT EXISTS casestore_event_ids_by_case ON {name('event_ids')} "
        "(case_id, version)",
        f"CREATE TABLE IF NOT EXISTS {name('access')} ("
        "org_id TEXT NOT NULL, case_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "event_id TEXT NOT NULL, policy_version TEXT NOT NULL, position BIGINT NOT NULL, "
        "PRIMARY KEY (org_id, case_id, version))",
        f"CREATE UNIQUE INDEX IF NOT EXISTS casestore_access_feed ON {name('access')} "
        "(org_id, position)",
    ]


class SideTables:
    """Queries over the sharing tables, shared by the SQLite and PostgreSQL recorders.

    Subclasses provide `_t(table)` (qualified table name), `_q(sql)` (parameter style) and
    `datastore.transaction(commit=...)`.
    """

    datastore: Any

    def _t(self, table: str) -> str:
        raise NotImplementedError

    def _q(self, statement: str) -> str:
        return statement

    # ---- the layout in place ----------------------------------------------------------

    def has_current_layout(self) -> bool:
        """False for a database whose sharing tables predate one grant per (event,
        organisation key): `CREATE TABLE IF NOT EXISTS` leaves such tables as they are, and
        writing to them would fail on the first sealed event instead of at start-up."""
        try:
            self._all(f"SELECT basis FROM {self._t('grants')} WHERE 1 = 0", ())
            self._all(f"SELECT escrow_json FROM {self._t('event_ids')} WHERE 1 = 0", ())
        except DatabaseError:  # "no such column": SQLite and PostgreSQL name it differently
            return False
        return True

    # ---- writes inside the event transaction -----------------------------------------

    def write_side_rows(self, cursor: Cursor, rows: SideRows | None) -> None:
        """One multi-row INSERT per table, inside the event's transaction."""
        if rows is None:
            return
        for table, values in side_values(rows).items():
            self._insert(cursor, table, COLUMNS[table], values)

    def _insert(
        self, cursor: Cursor, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            cursor.execute(
                self._q(
                    f"INSERT INTO {self._t(table)} ({', '.join(columns)}) VALUES "
                    + ", ".join([placeholders] * len(chunk))
                ),
                [value for row in chunk for value in row],
            )

    # ---- reads --------------------------------------------------------------------------

    def recorded_event(self, event_id: str) -> EventIdRow | None:
        """Where an event id was recorded, if it was."""
        row = self._one(f"SELECT * FROM {self._t('event_ids')} WHERE event_id = %s", (event_id,))
        if row is None:
            return None
        return EventIdRow(
            row["event_id"],
            row["case_id"],
            int(row["version"]),
            row["digest"],
            row["content_digests"],
        )

    def digests_of_case(self, case_id: str) -> dict[str, str]:
        """Event id -> its content digests (JSON) for every event of a case."""
        rows = self._all(
            f"SELECT event_id, content_digests FROM {self._t('event_ids')} WHERE case_id = %s",
            (case_id,),
        )
        return {r["event_id"]: r["content_digests"] for r in rows}

    def wrapped_case_key(self, case_id: str) -> tuple[str | None, bool]:
        """The wrapped case key and whether the case was ever keyed (False: unknown)."""
        row = self._one(
            f"SELECT wrapped FROM {self._t('case_keys')} WHERE case_id = %s", (case_id,)
        )
        return (None, False) if row is None else (row["wrapped"], True)

    def case_ids(self) -> list[str]:
        """Every case that has (or had) a case key: every case ever opened."""
        rows = self._all(f"SELECT case_id FROM {self._t('case_keys')} ORDER BY case_id", ())
        return [r["case_id"] for r in rows]

    def shred_record(self, case_id: str) -> ShredRecord | None:
        row = self._one(
            f"SELECT shredded_at, shredded_by, reason FROM {self._t('case_keys')} "
            "WHERE case_id = %s AND shredded_at IS NOT NULL",
            (case_id,),
        )
        if row is None:
            return None
        return ShredRecord(case_id, row["shredded_at"], row["shredded_by"], row["reason"])

    def access_positions(self, org_id: str, case_id: str) -> dict[int, int]:
        """Version -> global position of every event of a case that `org_id` receives."""
        rows = self._all(
            f"SELECT version, position FROM {self._t('access')} "
            "WHERE org_id = %s AND case_id = %s ORDER BY version",
            (org_id, case_id),
        )
        return {int(r["version"]): int(r["position"]) for r in rows}

    def grants_for(self, org_id: str, case_id: str) -> list[GrantRow]:
        rows = self._all(
            f"SELECT * FROM {self._t('grants')} WHERE org_id = %s AND case_id = %s "
            "ORDER BY version, key_id",
            (org_id, case_id),
        )
        return [_grant_row(r) for r in rows]

    def grants_of_case(self, case_id: str) -> list[GrantRow]:
        rows = self._all(
            f"SELECT * FROM {self._t('grants')} WHERE case_id = %s "
            "ORDER BY version, org_id, key_id",
            (case_id,),
        )
        return [_grant_row(r) for r in rows]

    def access_of_case(self, case_id: str) -> list[AccessRow]:
        rows = self._all(
            f"SELECT * FROM {self._t('access')} WHERE case_id = %s ORDER BY version, org_id",
            (case_id,),
        )
        return [
            AccessRow(
                r["org_id"],
                r["case_id"],
                int(r["version"]),
                r["event_id"],
                r["policy_version"],
                int(r["position"]),
            )
            for r in rows
        ]

    def escrows_of_case(self, case_id: str) -> list[EscrowRow]:
        rows = self._all(
            f"SELECT case_id, event_id, escrow_json FROM {self._t('event_ids')} "
            "WHERE case_id = %s AND escrow_json IS NOT NULL",
            (case_id,),
        )
        return [EscrowRow(r["case_id"], r["event_id"], r["escrow_json"]) for r in rows]

    # ---- changes after the fact ---------------------------------------------------------

    def change_grants(
        self,
        *,
        add: Sequence[GrantRow] = (),
        remove: Iterable[tuple[str, str, int, str]] = (),
        add_access: Sequence[AccessRow] = (),
        remove_access: Iterable[tuple[str, str, int]] = (),
    ) -> None:
        """Re-grant and revoke in one transaction; `remove` keys are (org, case, version, key)."""
        with self.datastore.transaction(commit=True) as cursor:
            removed = list(remove)
            if removed:
                cursor.executemany(
                    self._q(
                        f"DELETE FROM {self._t('grants')} WHERE org_id = %s AND case_id = %s "
                        "AND version = %s AND key_id = %s"
                    ),
                    removed,
                )
            gone = list(remove_access)
            if gone:
                cursor.executemany(
                    self._q(
                        f"DELETE FROM {self._t('access')} WHERE org_id = %s AND case_id = %s "
                        "AND version = %s"
                    ),
                    gone,
                )
            self._insert(cursor, "grants", COLUMNS["grants"], [_grant_params(g) for g in add])
            self._insert(
                cursor, "access", COLUMNS["access"], [_access_params(a) for a in add_access]
            )

    def shred(self, record: ShredRecord) -> None:
        """Destroy the case key and every wrapped data key of the case; keep the record."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._q(
                    f"UPDATE {self._t('case_keys')} SET wrapped = NULL, shredded_at = %s, "
                    "shredded_by = %s, reason = %s WHERE case_id = %s"
                ),
                (record.shredded_at, record.shredded_by, record.reason, record.case_id),
            )
            cursor.execute(
                self._q(f"DELETE FROM {self._t('grants')} WHERE case_id = %s"), (record.case_id,)
            )
            cursor.execute(
                self._q(f"UPDATE {self._t('event_ids')} SET escrow_json = NULL WHERE case_id = %s"),
                (record.case_id,),
            )

    # ---- helpers ------------------------------------------------------------------------

    def _one(self, statement: str, params: tuple[Any, ...]) -> Any:
        with self._reading() as cursor:
            cursor.execute(self._q(statement), params)
            return cursor.fetchone()

    def _all(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        with self._reading() as cursor:
            cursor.execute(self._q(statement), params)
            return list(cursor.fetchall())

    def _reading(self) -> AbstractContextManager[Any]:
        """A cursor for one read; backends may do better than a rolled-back transaction."""
        return cast(AbstractContextManager[Any], self.datastore.transaction(commit=False))


COLUMNS: dict[str, tuple[str, ...]] = {
    "event_ids": ("event_id", "case_id", "version", "digest", "content_digests", "escrow_json"),
    "case_keys": ("case_id", "wrapped", "created_at"),
    "grants": (
        "case_id",
        "version",
        "event_id",
        "org_id",
        "key_id",
        "grant_json",
        "policy_version",
        "basis",
    ),
    "access": ("org_id", "case_id", "version", "event_id", "policy_version", "position"),
}


def side_values(rows: SideRows) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one save per table, as value tuples in `COLUMNS` order."""
    return {
        "event_ids": [
            (e.event_id, e.case_id, e.version, e.digest, e.content_digests, e.escrow)
            for e in rows.event_ids
        ],
        "case_keys": [(k.case_id, k.wrapped, k.created_at) for k in rows.case_keys],
        "grants": [_grant_params(g) for g in rows.grants],
        "access": [_access_params(a) for a in rows.access],
    }


def _access_params(a: AccessRow) -> tuple[Any, ...]:
    return (a.org_id, a.case_id, a.version, a.event_id, a.policy_version, a.position)


def with_positions(rows: SideRows, positions: dict[tuple[str, int], int]) -> None:
    """Give each access row the global position of its event, by (case id, version)."""
    rows.access = [replace(a, position=positions[(a.case_id, a.version)]) for a in rows.access]


def _grant_params(g: GrantRow) -> tuple[Any, ...]:
    return (
        g.case_id,
        g.version,
        g.event_id,
        g.org_id,
        g.key_id,
        g.grant,
        g.policy_version,
        g.basis,
    )


def _grant_row(r: Any) -> GrantRow:
    return GrantRow(
        r["case_id"],
        int(r["version"]),
        r["event_id"],
        r["org_id"],
        r["key_id"],
        r["grant_json"],
        r["policy_version"],
        r["basis"],
    )
