"""Restrictions of the right of access (UAVG art. 41) as stored: one row per restriction
recorded, lifted in place (who and when), never deleted, so what a past report withheld
can be explained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import columns, from_row, stamp, values


@dataclass(frozen=True)
class RestrictionRow:
    restriction_id: str
    person_id: str
    case_id: str | None  # None: every case of the person
    organisation: str | None  # None: whichever organisation
    ground: str  # e.g. "UAVG art. 41 lid 1 sub d: opsporing (lopend onderzoek)"
    requested_by: str  # the organisation that invoked it (the police, the OM)
    may_mention: int  # 1: the report may say that a restriction applies
    recorded_by: str
    recorded_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None


class RestrictionTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("subject_restrictions")

    def add(self, row: RestrictionRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(
                cursor, "subject_restrictions", columns(RestrictionRow), [values(row)]
            )

    def of_person(self, person_id: str) -> list[RestrictionRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._name} WHERE person_id = %s ORDER BY recorded_at",
            (person_id,),
        )
        return [from_row(RestrictionRow, r) for r in rows]

    def one(self, restriction_id: str) -> RestrictionRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._name} WHERE restriction_id = %s", (restriction_id,)
        )
        return None if row is None else from_row(RestrictionRow, row)

    def lift(self, restriction_id: str, by: str, at: datetime) -> None:
        self.backend.write(
            f"UPDATE {self._name} SET lifted_by = %s, lifted_at = %s "
            "WHERE restriction_id = %s AND lifted_at IS NULL",
            (by, stamp(at), restriction_id),
        )
