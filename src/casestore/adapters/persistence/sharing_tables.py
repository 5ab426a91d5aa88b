"""Tables that hold what sharing and idempotency need beside the immutable events.

Wrapped keys live apart from the events so that revoking a grant is deleting a row and
shredding a case is destroying its case key (and its grants and escrows): the events
themselves never change. `access` records, per organisation, which events it receives at
all (header and control attributes) — the index every per-organisation read uses.
`event_ids` holds one row per event: its keyed digest for idempotent retries, and its
escrow (emptied when the case is shredded).

Rows written for a new event go in through the recorder's insert hook, inside the same
transaction as the event, so an event is never stored without its grants or vice versa.
The SQL is shared by both backends; the backend supplies parameter style and table names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventsourcing.persistence import DatabaseError

from casestore.adapters.persistence.audit_table import AuditTable
from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.grant_history import GrantChangeRow
from casestore.adapters.persistence.policy_table import NoticeRow
from casestore.adapters.persistence.rows import COLUMN, columns, from_row, values


@dataclass(frozen=True)
class EventIdRow:
    event_id: str
    case_id: str
    version: int
    digest: str  # of the submission, keyed per case: equal submissions link within a case only
    # JSON wire form of the event's escrow (its data keys under the case key); None for an
    # event without content and once the case is shredded.
    escrow: str | None = field(default=None, metadata={COLUMN: "escrow_json"})


@dataclass(frozen=True)
class FeedRow:
    """One event of an organisation's feed as stored, with the organisation's grants."""

    notification: Any
    grants: str | None  # the organisation's grants, JSON objects joined by commas
    event_id: str = ""  # known before the event is decoded: its read is audited meanwhile


@dataclass(frozen=True)
class CaseKeyRow:
    case_id: str
    wrapped: str  # base64 of the case key wrapped under the master key
    created_at: datetime


@dataclass(frozen=True)
class GrantRow:
    """One organisation key's grant of some fields of one event, and why it was granted."""

    case_id: str
    version: int
    event_id: str
    org_id: str
    key_id: str
    grant: str = field(metadata={COLUMN: "grant_json"})  # the grant's JSON wire form
    policy_version: str
    basis: str  # JSON: sealed field -> {"rules": [...], "grounds": [...]}, in grant order
    sealed_at: datetime | None = None  # the store checks policy_version against this moment

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(json.loads(self.basis))


@dataclass(frozen=True)
class EscrowRow:
    """An event's escrow as read back (it is stored in the event's `event_ids` row)."""

    case_id: str
    event_id: str
    escrow: str = field(metadata={COLUMN: "escrow_json"})  # every data key, under the case key


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
    sealed_at: datetime | None = None  # the store checks policy_version against this moment


@dataclass(frozen=True)
class ShredRecord:
    case_id: str
    shredded_at: datetime
    shredded_by: str
    reason: str


@dataclass(frozen=True)
class Rewrite:
    """One stored event's state replaced in place: only the destruction of a case does
    this, to take out what identifies the person (casestore.domain.case.destroyed_state)."""

    table: str  # the library's events table (casestore.adapters.persistence.Backend)
    originator: Any  # the aggregate id as the table holds it
    version: int
    state: bytes


@dataclass(frozen=True)
class Erasure:
    """What destroying a case changes beside its keys, grants and escrows: event states
    rewritten, and the snapshots of the case dropped (they hold its link to the person)."""

    rewrites: Sequence[Rewrite]
    snapshots_table: str | None
    case_originator: Any


@dataclass
class SideRows:
    """Everything written beside the events of one save: `save(..., side_rows=rows)`."""

    event_ids: list[EventIdRow] = field(default_factory=list)
    case_keys: list[CaseKeyRow] = field(default_factory=list)
    grants: list[GrantRow] = field(default_factory=list)
    access: list[AccessRow] = field(default_factory=list)


SIDE_TABLES: dict[str, type] = {
    "event_ids": EventIdRow,
    "case_keys": CaseKeyRow,
    "grants": GrantRow,
    "access": AccessRow,
}
"""The tables a save writes beside its events, with their row classes (= their columns)."""


def side_values(rows: SideRows) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one save per table, as value tuples in column order."""
    return {table: [values(row) for row in getattr(rows, table)] for table in SIDE_TABLES}


def write_side_rows(backend: Backend, cursor: Cursor, rows: SideRows | None) -> None:
    """One multi-row INSERT per table, inside the event's transaction."""
    if rows is None:
        return
    for table, table_rows in side_values(rows).items():
        backend.insert(cursor, table, columns(SIDE_TABLES[table]), table_rows)


def with_positions(rows: SideRows, positions: dict[tuple[str, int], int]) -> None:
    """Give each access row the global position of its event, by (case id, version)."""
    rows.access = [replace(a, position=positions[(a.case_id, a.version)]) for a in rows.access]


class SharingTables:
    """Queries over the sharing tables, and the changes made to them after the fact."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._t = backend.table

    def has_current_layout(self) -> bool:
        """False for a database whose sharing tables predate one grant per (event,
        organisation key), which migration 1 cannot take over: writing to them would fail
        on the first sealed event instead of at start-up."""
        return self._has("grants", "basis") and self._has("event_ids", "escrow_json")

    def _has(self, table: str, column: str) -> bool:
        try:
            self.backend.all(f"SELECT {column} FROM {self._t(table)} WHERE 1 = 0")
        except DatabaseError:  # "no such column": SQLite and PostgreSQL name it differently
            return False
        return True

    # ---- reads --------------------------------------------------------------------------

    def recorded_event(self, event_id: str) -> EventIdRow | None:
        """Where an event id was recorded, if it was."""
        row = self.backend.one(
            f"SELECT * FROM {self._t('event_ids')} WHERE event_id = %s", (event_id,)
        )
        return None if row is None else from_row(EventIdRow, row)

    def wrapped_case_key(self, case_id: str) -> tuple[str | None, bool]:
        """The wrapped case key and whether the case was ever keyed (False: unknown)."""
        row = self.backend.one(
            f"SELECT wrapped FROM {self._t('case_keys')} WHERE case_id = %s", (case_id,)
        )
        return (None, False) if row is None else (row["wrapped"], True)

    def wrapped_case_keys(self) -> list[tuple[str, str]]:
        """(case id, wrapped key) of every case whose key was not destroyed."""
        rows = self.backend.all(
            f"SELECT case_id, wrapped FROM {self._t('case_keys')} WHERE wrapped IS NOT NULL "
            "ORDER BY case_id"
        )
        return [(r["case_id"], r["wrapped"]) for r in rows]

    def rewrap(self, rows: Sequence[tuple[str, str]]) -> None:
        """Store case keys wrapped anew (under another epoch): (case id, wrapped) pairs. A
        key destroyed meanwhile stays destroyed."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.executemany(
                self.backend.sql(
                    f"UPDATE {self._t('case_keys')} SET wrapped = %s "
                    "WHERE case_id = %s AND wrapped IS NOT NULL"
                ),
                [(wrapped, case_id) for case_id, wrapped in rows],
            )

    def case_ids(self) -> list[str]:
        """Every case that has (or had) a case key: every case ever opened."""
        rows = self.backend.all(f"SELECT case_id FROM {self._t('case_keys')} ORDER BY case_id")
        return [r["case_id"] for r in rows]

    def case_pages(self, size: int, after: str | None = None) -> Iterator[list[tuple[str, bool]]]:
        """Every case (as `case_ids`) after `after`, a page of (case id, shredded) at a
        time in case id order: a run over the whole store holds one page, not every id."""
        while page := self.case_page(size, after):
            yield page
            after = page[-1][0]

    def case_page(self, size: int, after: str | None = None) -> list[tuple[str, bool]]:
        """Up to `size` cases after the case id `after`, as (case id, shredded)."""
        rows = self.backend.all(
            f"SELECT case_id, shredded_at FROM {self._t('case_keys')} "
            "WHERE case_id > %s ORDER BY case_id LIMIT %s",
            (after or "", size),
        )
        return [(r["case_id"], r["shredded_at"] is not None) for r in rows]

    def count_cases(self, after: str | None = None) -> int:
        """How many cases `case_ids` holds (after the case id `after`)."""
        row = self.backend.one(
            f"SELECT COUNT(*) AS n FROM {self._t('case_keys')} WHERE case_id > %s", (after or "",)
        )
        return 0 if row is None else int(row["n"])

    def access_org_ids(self) -> list[str]:
        """Every organisation that receives any event, read as a walk over the feed index
        (one index probe per organisation, not a scan of every access row): reading many
        cases' access rows then names them with the case ids, which the primary key
        (org, case, version) serves."""
        t = self._t("access")
        rows = self.backend.all(
            f"WITH RECURSIVE o(org) AS (SELECT MIN(org_id) FROM {t} "
            f"UNION ALL SELECT (SELECT MIN(org_id) FROM {t} WHERE org_id > o.org) FROM o "
            "WHERE o.org IS NOT NULL) SELECT org FROM o WHERE org IS NOT NULL"
        )
        return [str(r["org"]) for r in rows]

    def grants_of_cases(self, case_ids: Sequence[str]) -> dict[str, list[GrantRow]]:
        """`grants_of_case` of many cases in one read: case id -> its grants."""
        found: dict[str, list[GrantRow]] = {c: [] for c in case_ids}
        if case_ids:
            rows = self.backend.all(
                f"SELECT * FROM {self._t('grants')} WHERE case_id IN ({_marks(case_ids)}) "
                "ORDER BY case_id, version, org_id, key_id",
                tuple(case_ids),
            )
            for r in rows:
                found[r["case_id"]].append(from_row(GrantRow, r))
        return found

    def access_of_cases(
        self, case_ids: Sequence[str], org_ids: Sequence[str]
    ) -> dict[str, list[AccessRow]]:
        """`access_of_case` of many cases in one read, over the organisations `org_ids`
        (`access_org_ids`): case id -> its access rows."""
        found: dict[str, list[AccessRow]] = {c: [] for c in case_ids}
        if case_ids and org_ids:
            rows = self.backend.all(
                f"SELECT * FROM {self._t('access')} WHERE org_id IN ({_marks(org_ids)}) "
                f"AND case_id IN ({_marks(case_ids)}) ORDER BY case_id, version, org_id",
                (*org_ids, *case_ids),
            )
            for r in rows:
                found[r["case_id"]].append(from_row(AccessRow, r))
        return found

    def escrows_of_cases(self, case_ids: Sequence[str]) -> dict[str, list[EscrowRow]]:
        """`escrows_of_case` of many cases in one read: case id -> its escrows."""
        found: dict[str, list[EscrowRow]] = {c: [] for c in case_ids}
        if case_ids:
            rows = self.backend.all(
                f"SELECT case_id, event_id, escrow_json FROM {self._t('event_ids')} "
                f"WHERE case_id IN ({_marks(case_ids)}) AND escrow_json IS NOT NULL",
                tuple(case_ids),
            )
            for r in rows:
                found[r["case_id"]].append(from_row(EscrowRow, r))
        return found

    def shred_record(self, case_id: str) -> ShredRecord | None:
        row = self.backend.one(
            f"SELECT case_id, shredded_at, shredded_by, reason FROM {self._t('case_keys')} "
            "WHERE case_id = %s AND shredded_at IS NOT NULL",
            (case_id,),
        )
        return None if row is None else from_row(ShredRecord, row)

    def access_positions(self, org_id: str, case_id: str) -> dict[int, int]:
        """Version -> global position of every event of a case that `org_id` receives."""
        rows = self.backend.all(
            f"SELECT version, position FROM {self._t('access')} "
            "WHERE org_id = %s AND case_id = %s ORDER BY version",
            (org_id, case_id),
        )
        return {int(r["version"]): int(r["position"]) for r in rows}

    def grants_for(self, org_id: str, case_id: str) -> list[GrantRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('grants')} WHERE org_id = %s AND case_id = %s "
            "ORDER BY version, key_id",
            (org_id, case_id),
        )
        return [from_row(GrantRow, r) for r in rows]

    def grant_texts(self, org_id: str, case_id: str) -> list[tuple[str, str, str]]:
        """(event id, grant JSON, basis JSON) of `org_id`'s grants in a case, unparsed: a
        reader that keeps what it opened parses only what it has not seen."""
        rows = self.backend.all(
            f"SELECT event_id, grant_json, basis FROM {self._t('grants')} "
            "WHERE org_id = %s AND case_id = %s ORDER BY version, key_id",
            (org_id, case_id),
        )
        return [(str(r["event_id"]), str(r["grant_json"]), str(r["basis"])) for r in rows]

    def grants_of_case(self, case_id: str) -> list[GrantRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('grants')} WHERE case_id = %s "
            "ORDER BY version, org_id, key_id",
            (case_id,),
        )
        return [from_row(GrantRow, r) for r in rows]

    def condition_ends(self) -> list[tuple[str, str]]:
        """(case id, end) of every grant that rests on a condition record with a known end
        (its expiry, or its withdrawal if not yet reconciled): housekeeping revokes them
        once that moment passes. The ends are ISO times in UTC."""
        rows = self.backend.all(
            f"SELECT case_id, basis FROM {self._t('grants')} WHERE basis LIKE %s",
            ('%"until": "%',),
        )
        ends = set()
        for row in rows:
            for access in json.loads(row["basis"]).values():
                for condition in access.get("conditions", ()):
                    if condition.get("until"):
                        ends.add((str(row["case_id"]), str(condition["until"])))
        return sorted(ends)

    def access_of_case(self, case_id: str) -> list[AccessRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('access')} WHERE case_id = %s ORDER BY version, org_id",
            (case_id,),
        )
        return [from_row(AccessRow, r) for r in rows]

    def escrows_of_case(self, case_id: str) -> list[EscrowRow]:
        rows = self.backend.all(
            f"SELECT case_id, event_id, escrow_json FROM {self._t('event_ids')} "
            "WHERE case_id = %s AND escrow_json IS NOT NULL",
            (case_id,),
        )
        return [from_row(EscrowRow, r) for r in rows]

    # ---- changes after the fact ---------------------------------------------------------

    def change_grants(
        self,
        *,
        add: Sequence[GrantRow] = (),
        remove: Iterable[tuple[str, str, int, str]] = (),
        add_access: Sequence[AccessRow] = (),
        remove_access: Iterable[tuple[str, str, int]] = (),
        history: Sequence[GrantChangeRow] = (),
        audit: Sequence[dict[str, Any]] = (),
        notices: Sequence[NoticeRow] = (),
    ) -> None:
        """Re-grant and revoke in one transaction, with the history of what changed, its
        audit trail entries and the notices to the organisations that gain; `remove` keys
        are (org, case, version, key)."""
        sql = self.backend.sql
        with self.backend.transaction(commit=True) as cursor:
            removed = list(remove)
            if removed:
                cursor.executemany(
                    sql(
                        f"DELETE FROM {self._t('grants')} WHERE org_id = %s AND case_id = %s "
                        "AND version = %s AND key_id = %s"
                    ),
                    removed,
                )
            gone = list(remove_access)
            if gone:
                cursor.executemany(
                    sql(
                        f"DELETE FROM {self._t('access')} WHERE org_id = %s AND case_id = %s "
                        "AND version = %s"
                    ),
                    gone,
                )
            self.backend.insert(cursor, "grants", columns(GrantRow), [values(g) for g in add])
            self.backend.insert(
                cursor, "access", columns(AccessRow), [values(a) for a in add_access]
            )
            self._record(cursor, history)
            AuditTable(self.backend).append(cursor, audit)
            if notices:
                self.backend.in_commit_order(cursor, "policy_notices")
                self.backend.insert(
                    cursor, "policy_notices", columns(NoticeRow), [values(n) for n in notices]
                )

    def _record(self, cursor: Cursor, history: Sequence[GrantChangeRow]) -> None:
        rows = [values(change) for change in history]
        self.backend.insert(cursor, "grant_history", columns(GrantChangeRow), rows)

    def shred(
        self,
        record: ShredRecord,
        history: Sequence[GrantChangeRow] = (),
        audit: Sequence[dict[str, Any]] = (),
        *,
        erasure: Erasure | None = None,
        also: Callable[[Cursor], None] | None = None,
    ) -> None:
        """Destroy the case key and every wrapped data key of the case; keep the record,
        and the history of the grants it revokes. With `erasure`, rewrite the case's events
        and its person's index without what identifies the person, in the same transaction
        (with whatever `also` writes)."""
        sql = self.backend.sql
        shredded_at, by, reason = values(record)[1:]
        with self.backend.transaction(commit=True) as cursor:
            if erasure is not None:
                self._erase(cursor, erasure)
            if also is not None:
                also(cursor)
            cursor.execute(
                sql(
                    f"UPDATE {self._t('case_keys')} SET wrapped = NULL, shredded_at = %s, "
                    "shredded_by = %s, reason = %s WHERE case_id = %s"
                ),
                (shredded_at, by, reason, record.case_id),
            )
            cursor.execute(
                sql(f"DELETE FROM {self._t('grants')} WHERE case_id = %s"), (record.case_id,)
            )
            cursor.execute(
                sql(f"UPDATE {self._t('event_ids')} SET escrow_json = NULL WHERE case_id = %s"),
                (record.case_id,),
            )
            self._record(cursor, history)
            AuditTable(self.backend).append(cursor, audit)

    def _erase(self, cursor: Cursor, erasure: Erasure) -> None:
        sql = self.backend.sql
        for rewrite in erasure.rewrites:
            cursor.execute(
                sql(
                    f"UPDATE {rewrite.table} SET state = %s "
                    "WHERE originator_id = %s AND originator_version = %s"
                ),
                (rewrite.state, rewrite.originator, rewrite.version),
            )
        if erasure.snapshots_table is not None:
            cursor.execute(
                sql(f"DELETE FROM {erasure.snapshots_table} WHERE originator_id = %s"),
                (erasure.case_originator,),
            )


def _marks(items: Sequence[object]) -> str:
    return ", ".join("%s" for _ in items)
