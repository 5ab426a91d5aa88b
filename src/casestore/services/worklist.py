"""The coordinators' worklist: their cases, with the attention signals the record's dates
raise under the region's terms.

The worklist reads a projection (casestore.adapters.persistence.worklist_tables) that
folds the readable part of every case event into a row of facts per case; each request
first folds in what was recorded since the projection last read, so the list is as fresh
as the store, and then reads one row per case. Nothing is decrypted and no case is
replayed, which keeps a list of thousands of cases within a request's time.

Who sees which case: a coordinator of the custodian (the ZVH's procesregie) sees every
case; a coordinator of another organisation the cases in which it holds a regie role
(levensloopaanbieder, casusregisseur, procesregisseur). Other roles get no worklist.
A search by BSN goes through the pseudonym and is in the audit trail as a search; so is
a search by case id. The list itself is one entry, naming how many cases it showed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from casestore.adapters.persistence.retention_tables import RetentionTables
from casestore.adapters.persistence.worklist_tables import FactsRow, WorklistTables
from casestore.domain import errors
from casestore.domain import worklist as domain
from casestore.domain.worklist import Attention, Facts, Signal
from casestore.services.audit import SEARCH_BSN, SEARCH_CASE, WORKLIST_READ
from casestore.services.case_store import CaseStore
from casestore.services.clients import Client, ClientRole
from casestore.services.retention_terms import Terms, paused_by

BATCH = 1000
SORTS = ("aandacht", "casus", "niveau", "signalering", "plan", "monitoring", "aangemeld")
_BSN = re.compile(r"^\d{8,9}$")
_CASE_ID = re.compile(r"^[0-9a-f-]{4,36}$")


class WorklistRefused(Exception):
    """The caller has no worklist (it is not a coordinator)."""


@dataclass(frozen=True)
class WorklistRow:
    case_id: str
    status: str
    level: int | None
    regie: dict[str, str]
    opened: datetime | None
    last_signal: datetime | None
    plan_version: int | None
    plan_age_days: int | None
    monitoring_age_days: int | None  # days since the last monitoringsmoment (None: none yet)
    signals: list[Attention]

    @property
    def signal_names(self) -> list[str]:
        return [a.signal.value for a in self.signals]

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "status": self.status,
            "level": self.level,
            "regie": self.regie,
            "opened": None if self.opened is None else self.opened.isoformat(),
            "last_signal": None if self.last_signal is None else self.last_signal.isoformat(),
            "plan_version": self.plan_version,
            "plan_age_days": self.plan_age_days,
            "monitoring_age_days": self.monitoring_age_days,
            "signals": [
                {"signal": a.signal.value, "since": a.since.isoformat(), "detail": a.detail}
                for a in self.signals
            ],
        }


@dataclass(frozen=True)
class Query:
    """What the caller asks: a search (case id or BSN), filters and the order."""

    search: str | None = None
    signal: Signal | None = None
    level: int | None = None
    status: str | None = None
    sort: str = "aandacht"
    descending: bool = True


@dataclass(frozen=True)
class Known:
    """One case as this process last read it from the projection."""

    position: int
    facts: Facts
    anchors: domain.Anchors


class Worklist:
    def __init__(
        self,
        store: CaseStore,
        tables: WorklistTables,
        terms: Terms,
        retention_tables: RetentionTables,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.tables = tables
        self.terms = terms
        self.retention_tables = retention_tables
        self.clock = clock
        # The rows as last read, parsed: a request reads every row's position and parses
        # only the rows folded further since (most requests: none).
        self._known: dict[str, Known] = {}
        self._seen = 0  # the projection position they were read at
        self._lock = threading.Lock()

    # ---- the projection -----------------------------------------------------------------------

    def catch_up(self) -> int:
        """Fold what was recorded since the projection last read; its position after."""
        position = self.tables.position()
        while batch := self.store.events_after(position, BATCH):
            by_case: dict[str, list[Any]] = {}
            for stored in batch:
                by_case.setdefault(str(stored.case_id), []).append(stored)
            known = self.tables.facts_of(by_case)
            rows = []
            for case_id, events in by_case.items():
                row = known.get(case_id)
                facts: Facts | None = None if row is None else row.facts
                at = 0 if row is None else row.position
                for stored in events:
                    if stored.position <= at:  # folded already by another process
                        continue
                    event = stored.event
                    facts = domain.fold(
                        facts, event.event_type, event.event_id, event.occurred_at, event.control
                    )
                    at = stored.position
                if facts is not None and (row is None or at > row.position):
                    rows.append(FactsRow(case_id, at, facts))
            position = batch[-1].position
            self.tables.save(rows, position)
        return position

    def region_terms(self) -> domain.Terms:
        """The region's attention terms, from the policy in force."""
        policy = self.store.sealer.matrix.policy
        t = policy.attention_terms
        return domain.Terms(
            monitoring=timedelta(days=t.monitoring_days),
            plan_review=timedelta(days=t.plan_review_days),
            kader_notice=timedelta(weeks=t.kader_notice_weeks),
            triage=timedelta(days=t.triage_days),
            bekendheid=timedelta(days=t.bekendheid_days),
            follow_up=timedelta(days=t.follow_up_days),
            actions=timedelta(days=t.actions_days),
            informing=timedelta(days=t.informing_days),
            stable=timedelta(days=t.stable_days),
            retention_notice=timedelta(days=t.retention_notice_days),
            # The uitstroom candidate is the case an uitstroom as `stabiel` would be
            # accepted for: the region's stability term, where it sets one, rules.
            stable_months=policy.region.stability_months,
        )

    def current(self) -> dict[str, Known]:
        """Every case of the projection, as folded up to now. Only rows folded further
        since this process last looked are read and parsed: a row changes only as the
        projection's position moves past one of its case's events."""
        position = self.catch_up()
        with self._lock:
            if position != self._seen:
                for row in self.tables.facts_after(self._seen):
                    self._known[row.case_id] = Known(
                        row.position, row.facts, domain.anchors(row.facts)
                    )
                self._seen = position
            return self._known.copy()

    def restrictions_ended(self, since: datetime | None, now: datetime) -> list[str]:
        """The cases with a beperking whose `tot` day began in (since, now]: a beperking
        holds until the day before its `tot` (UTC days, as its dates are checked)."""
        due = []
        for case_id, known in self.current().items():
            for day in domain.restriction_ends(known.facts):
                start = datetime.combine(day, time.min, tzinfo=UTC)
                if (since is None or since < start) and start <= now:
                    due.append(case_id)
                    break
        return sorted(due)

    def may_see(self, client: Client, case_id: str) -> bool:
        """Whether the case is one of the client's worklist (open or not)."""
        if client.role is not ClientRole.coordinator:
            return False
        case = self.current().get(case_id)
        if case is None:
            return False
        return client.org_id == self.store.custodian or client.org_id in case.anchors.regie.values()

    # ---- the list -----------------------------------------------------------------------------

    def for_client(self, client: Client, query: Query = Query()) -> list[WorklistRow]:
        """The caller's worklist at this moment: its open cases (and ended ones due for
        destruction), each with its signals, filtered and sorted as asked."""
        if client.role is not ClientRole.coordinator:
            raise WorklistRefused(f"the role {client.role.value} has no worklist")
        cases = self.current()
        now = self.clock()
        terms = self.region_terms()
        zone = self.store.sealer.matrix.policy.zone
        wanted = self._searched(query.search, cases)
        all_of_them = client.org_id == self.store.custodian
        org = client.org_id
        candidates = [
            (case_id, known.anchors)
            for case_id, known in cases.items()
            if (wanted is None or case_id in wanted)
            and (all_of_them or org in known.anchors.regie.values())
        ]
        due = self._retention_due([(c, a) for c, a in candidates if not a.is_open])
        rows = []
        for case_id, case in candidates:
            ended = not case.is_open
            if ended and case_id not in due:
                continue
            signals = domain.attention(case, terms, now, zone, due.get(case_id))
            if ended and not signals:
                continue
            rows.append(_row(case_id, case, signals, now))
        rows = [r for r in rows if _matches(r, query)]
        rows.sort(key=_sort_key(query.sort), reverse=query.descending)
        self._audit(client, query, wanted, len(rows))
        return rows

    def _searched(self, search: str | None, cases: dict[str, Known]) -> set[str] | None:
        """The case ids a search names (None: no search)."""
        if not search or not search.strip():
            return None
        text = search.strip().replace(" ", "").lower()
        trail = self.store.audit
        if _BSN.match(text):
            try:
                person = self.store.person_by_bsn(text.zfill(9))
            except errors.InvalidBsn:  # no person has it; searched all the same
                person = None
            if trail is not None:
                trail.record(
                    [
                        trail.entry(
                            SEARCH_BSN,
                            person=None if person is None else str(person.id),
                            reason="werklijst",
                        )
                    ]
                )
            return set() if person is None else set(person.cases)
        if not _CASE_ID.match(text):
            return set()
        found = {r.case_id for r in self.tables.all_facts() if r.case_id.startswith(text)}
        if trail is not None:
            trail.record(
                [trail.entry(SEARCH_CASE, case=c, reason="werklijst") for c in sorted(found)]
                or [trail.entry(SEARCH_CASE, reason="werklijst: niets gevonden")]
            )
        return found

    def _retention_due(self, ended: list[tuple[str, domain.Anchors]]) -> dict[str, datetime]:
        """When each ended case (not destroyed, not held) is due for destruction."""
        if not ended:
            return {}
        destroyed = {v.case_id for v in self.retention_tables.verklaringen()}
        holds = self.retention_tables.holds_by_case()
        due = {}
        for case_id, case in ended:
            if case_id in destroyed:
                continue
            paused = paused_by(holds.get(case_id, []))
            if paused is None:  # held now: the clock stands still
                continue
            term = self.terms.term_of(case.closed, case.last.items(), paused)
            if term is not None:
                due[case_id] = term.due_at
        return due

    def _audit(self, client: Client, query: Query, wanted: set[str] | None, shown: int) -> None:
        trail = self.store.audit
        if trail is not None:
            trail.record(
                [trail.entry(WORKLIST_READ, receiver=client.org_id, reason=f"{shown} casussen")]
            )


def _row(
    case_id: str, case: domain.Anchors, signals: list[Attention], now: datetime
) -> WorklistRow:
    return WorklistRow(
        case_id=case_id,
        status=case.status,
        level=case.level,
        regie=case.regie,
        opened=case.opened,
        last_signal=case.last_signal,
        plan_version=case.plan_version,
        plan_age_days=case.plan_age_days(now),
        monitoring_age_days=case.monitoring_age_days(now),
        signals=signals,
    )


def _matches(row: WorklistRow, query: Query) -> bool:
    if query.signal is not None and query.signal.value not in row.signal_names:
        return False
    if query.level is not None and row.level != query.level:
        return False
    return query.status is None or row.status == query.status


def _moment(when: datetime | None) -> float:
    return float("-inf") if when is None else when.timestamp()


def _sort_key(sort: str) -> Callable[[WorklistRow], Any]:
    """Rows without the value sort as the lowest, whichever way the list runs."""
    keys: dict[str, Callable[[WorklistRow], Any]] = {
        "aandacht": lambda r: (len(r.signals), r.case_id),
        "casus": lambda r: r.case_id,
        "niveau": lambda r: (r.level or 0, r.case_id),
        "signalering": lambda r: (_moment(r.last_signal), r.case_id),
        "plan": lambda r: (-1 if r.plan_age_days is None else r.plan_age_days, r.case_id),
        "monitoring": lambda r: (
            -1 if r.monitoring_age_days is None else r.monitoring_age_days,
            r.case_id,
        ),
        "aangemeld": lambda r: (_moment(r.opened), r.case_id),
    }
    return keys[sort if sort in keys else "aandacht"]
