"""The worklist projection and the casusoverleggen the meeting packs are made for.

`worklist` holds one row of facts per case (casestore.domain.worklist), each with the
global position of the last event folded into it; `worklist_position` how far the
projection has read. A row is only ever replaced by one folded further, so two processes
catching up at once leave the same rows as one would. Neither table holds content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import columns, from_row, values


@dataclass(frozen=True)
class FactsRow:
    case_id: str
    position: int
    facts: dict[str, Any]


@dataclass(frozen=True)
class MeetingRow:
    meeting_id: str
    soort: str
    held_on: str  # ISO date
    title: str
    organiser: str  # the organisation that prepares it
    attendees: str  # JSON list of organisation ids
    cases: str  # JSON list of case ids: the agenda, in order
    created_by: str  # client id
    created_at: datetime

    @property
    def attendee_list(self) -> list[str]:
        found: list[str] = json.loads(self.attendees)
        return found

    @property
    def case_list(self) -> list[str]:
        found: list[str] = json.loads(self.cases)
        return found


class WorklistTables:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._t = backend.table

    # ---- the projection ----------------------------------------------------------------------

    def position(self) -> int:
        row = self.backend.one(f"SELECT position FROM {self._t('worklist_position')} WHERE id = 1")
        return int(row["position"])

    def facts_of(self, case_ids: Iterable[str]) -> dict[str, FactsRow]:
        wanted = sorted(set(case_ids))
        if not wanted:
            return {}
        marks = ", ".join(["%s"] * len(wanted))
        rows = self.backend.all(
            f"SELECT case_id, position, facts FROM {self._t('worklist')} "
            f"WHERE case_id IN ({marks})",
            wanted,
        )
        return {r["case_id"]: _facts_row(r) for r in rows}

    def facts_after(self, position: int) -> list[FactsRow]:
        """The rows folded past `position`."""
        rows = self.backend.all(
            f"SELECT case_id, position, facts FROM {self._t('worklist')} WHERE position > %s",
            (position,),
        )
        return [_facts_row(r) for r in rows]

    def all_facts(self) -> list[FactsRow]:
        rows = self.backend.all(f"SELECT case_id, position, facts FROM {self._t('worklist')}")
        return [_facts_row(r) for r in rows]

    def save(self, rows: Sequence[FactsRow], position: int) -> None:
        """Replace rows by ones folded further, and move the projection's position on."""
        with self.backend.transaction(commit=True) as cursor:
            table = self._t("worklist")
            cursor.executemany(
                self.backend.sql(
                    f"INSERT INTO {table} AS w (case_id, position, facts) VALUES (%s, %s, %s) "
                    "ON CONFLICT (case_id) DO UPDATE SET position = excluded.position, "
                    "facts = excluded.facts WHERE w.position < excluded.position"
                ),
                [(r.case_id, r.position, json.dumps(r.facts, sort_keys=True)) for r in rows],
            )
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('worklist_position')} SET position = %s "
                    "WHERE id = 1 AND position < %s"
                ),
                (position, position),
            )

    def forget(self, case_id: str) -> None:
        """Drop a destroyed case's row."""
        self.backend.write(f"DELETE FROM {self._t('worklist')} WHERE case_id = %s", (case_id,))

    # ---- meetings ------------------------------------------------------------------------------

    def add_meeting(self, meeting: MeetingRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(cursor, "meetings", columns(MeetingRow), [values(meeting)])

    def meeting(self, meeting_id: str) -> MeetingRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._t('meetings')} WHERE meeting_id = %s", (meeting_id,)
        )
        return None if row is None else from_row(MeetingRow, row)

    def meetings(self) -> list[MeetingRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('meetings')} ORDER BY held_on DESC, created_at DESC"
        )
        return [from_row(MeetingRow, r) for r in rows]


def _facts_row(row: Any) -> FactsRow:
    return FactsRow(row["case_id"], int(row["position"]), json.loads(row["facts"]))
