"""What retention keeps once a case is gone, and the holds that keep a case from going.

Legal holds stop a case's retention clock (each hold placed and released is a row, so the
time a case was held is known). A verklaring van vernietiging is the signed statement that
a case was destroyed, under which rule and when; the figures are counts of destroyed cases
per measure and quarter, added to before a case is destroyed so that the region's reports
still count it. None of these tables holds personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.rows import columns, from_row, stamp, values


@dataclass(frozen=True)
class HoldRow:
    hold_id: str
    case_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None


@dataclass(frozen=True)
class VerklaringRow:
    case_id: str
    destroyed_at: datetime
    document: str  # canonical JSON of the verklaring
    signature: str  # JSON of the custodian's signature over it
    # when the database was made to forget the destroyed key material (None: not yet)
    erased_at: datetime | None = None


class RetentionTables:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._t = backend.table

    # ---- legal holds --------------------------------------------------------------------

    def holds_of(self, case_id: str) -> list[HoldRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('legal_holds')} WHERE case_id = %s ORDER BY placed_at",
            (case_id,),
        )
        return [from_row(HoldRow, r) for r in rows]

    def held_cases(self) -> set[str]:
        """Cases with a hold in place now."""
        rows = self.backend.all(
            f"SELECT DISTINCT case_id FROM {self._t('legal_holds')} WHERE released_at IS NULL"
        )
        return {r["case_id"] for r in rows}

    def holds_by_case(self) -> dict[str, list[HoldRow]]:
        """Every hold, by case (few cases ever have one)."""
        rows = self.backend.all(f"SELECT * FROM {self._t('legal_holds')} ORDER BY placed_at")
        found: dict[str, list[HoldRow]] = {}
        for row in rows:
            found.setdefault(row["case_id"], []).append(from_row(HoldRow, row))
        return found

    def place(self, hold: HoldRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(cursor, "legal_holds", columns(HoldRow), [values(hold)])

    def release(self, case_id: str, by: str, at: datetime) -> int:
        """Release every hold of the case in place; how many were."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('legal_holds')} SET released_by = %s, released_at = %s "
                    "WHERE case_id = %s AND released_at IS NULL RETURNING hold_id"
                ),
                (by, stamp(at), case_id),
            )
            return len(cursor.fetchall())

    # ---- verklaringen --------------------------------------------------------------------

    def verklaring(self, case_id: str) -> VerklaringRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._t('verklaringen')} WHERE case_id = %s", (case_id,)
        )
        return None if row is None else from_row(VerklaringRow, row)

    def verklaringen(self) -> list[VerklaringRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('verklaringen')} ORDER BY destroyed_at, case_id"
        )
        return [from_row(VerklaringRow, r) for r in rows]

    def unerased(self) -> list[str]:
        """Destroyed cases whose key material the database files may still hold."""
        rows = self.backend.all(
            f"SELECT case_id FROM {self._t('verklaringen')} WHERE erased_at IS NULL"
        )
        return [r["case_id"] for r in rows]

    def erased(self, case_ids: Sequence[str], at: datetime) -> None:
        with self.backend.transaction(commit=True) as cursor:
            cursor.executemany(
                self.backend.sql(
                    f"UPDATE {self._t('verklaringen')} SET erased_at = %s WHERE case_id = %s"
                ),
                [(stamp(at), case_id) for case_id in case_ids],
            )

    # ---- figures of destroyed cases ------------------------------------------------------

    def figures(self) -> dict[tuple[str, str], int]:
        rows = self.backend.all(f"SELECT measure, quarter, count FROM {self._t('figures')}")
        return {(r["measure"], r["quarter"]): int(r["count"]) for r in rows}

    def count(self, cursor: Cursor, cells: Sequence[tuple[str, str]]) -> None:
        """Add one to each (measure, quarter) cell, inside the destroying transaction."""
        for measure, quarter in cells:
            cursor.execute(
                self.backend.sql(
                    f"INSERT INTO {self._t('figures')} AS f (measure, quarter, count) "
                    "VALUES (%s, %s, 1) ON CONFLICT (measure, quarter) "
                    "DO UPDATE SET count = f.count + 1"
                ),
                (measure, quarter),
            )

    def record(self, cursor: Cursor, verklaring: VerklaringRow) -> None:
        self.backend.insert(
            cursor,
            "verklaringen",
            columns(VerklaringRow),
            [values(verklaring)],
        )
