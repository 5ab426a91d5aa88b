"""The region's anonymous figures: how many aanmeldingen, inclusions and endings per quarter.

A case counts from its events' control attributes alone (type, outcome, when), never its
content. A destroyed case cannot be counted again, so its contribution is added to a table
of counts (no case id, no person) in the transaction that destroys it; the report adds the
cases still kept. Cells under `SMALL_CELL` are suppressed: a count of one or two, in a
region and quarter, can point at a person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from casestore.adapters.persistence.retention_tables import RetentionTables
from casestore.domain.case import Case
from casestore.services.case_store import CaseStore

SMALL_CELL = 5
MEASURES = (
    "aanmelding",
    "triage_andere_aanpak",
    "inclusie",
    "niet_geincludeerd",
    "uitstroom",
)


def quarter(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def cells(events: Iterable[Case.Event], zone: ZoneInfo) -> list[tuple[str, str]]:
    """The (measure, quarter) cells one case counts in."""
    found = []
    for event in events:
        measure = _measure(event)
        if measure is not None:
            found.append((measure, quarter(event.occurred_at, zone)))
    return found


def _measure(event: Case.Event) -> str | None:
    control = event.control
    if event.event_type == "aanmelding":
        return "aanmelding"
    if event.event_type == "triagebesluit" and control.get("uitkomst") == "andere_aanpak":
        return "triage_andere_aanpak"
    if event.event_type == "inclusiebesluit":
        return "inclusie" if control.get("geincludeerd") else "niet_geincludeerd"
    if event.event_type == "uitstroom":
        return "uitstroom"
    return None


@dataclass(frozen=True)
class Cell:
    quarter: str
    measure: str
    count: int | None  # None: suppressed (fewer than SMALL_CELL)


@dataclass(frozen=True)
class Report:
    region: str
    suppressed_below: int
    cells: Sequence[Cell]


class Figures:
    def __init__(self, store: CaseStore, tables: RetentionTables, zone: ZoneInfo) -> None:
        self.store = store
        self.tables = tables
        self.zone = zone

    def report(self) -> Report:
        """Every quarter's counts: the cases kept, counted now, and the destroyed ones as
        they were counted before their destruction."""
        counts: Counter[tuple[str, str]] = Counter(self.tables.figures())
        records = self.store.records.tables
        for cid in records.case_ids():
            if records.shred_record(cid) is None:
                counts.update(cells(self.store.history(UUID(cid)), self.zone))
        found = [
            Cell(q, m, n if n >= SMALL_CELL else None)
            for (m, q), n in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0]))
        ]
        return Report(self.store.sealer.region, SMALL_CELL, found)


def figures_json(report: Report) -> dict[str, Any]:
    """The report as `GET /v1/figures` and `casestore figures` answer it."""
    return {
        "region": report.region,
        "suppressed_below": report.suppressed_below,
        "measures": list(MEASURES),
        "cells": [
            {"quarter": c.quarter, "measure": c.measure, "count": c.count} for c in report.cells
        ],
    }
