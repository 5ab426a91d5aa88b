"""Retention enforced: grants end with their rule's term, and a case with the last of them.

`run` looks at every case. A grant whose rules' terms have all ended is deleted (by the
reconciliation, which then leaves it out, recorded in the grant history with the rules
named). A closed case whose longest term has ended is destroyed: first its contribution
to the region's anonymous figures is counted, then, in one transaction, its case key,
escrows, grants, its events' content and link to the person, and the person index's link
to it are destroyed, and a verklaring van vernietiging signed by the custodian is kept —
what was destroyed, when, under which rules, and nothing that identifies the person.
Last, the database is made to forget the deleted key material (secure delete and a WAL
checkpoint on SQLite, VACUUM FULL of the key tables on PostgreSQL).

A legal hold stops the clock of a case (casestore.services.retention_terms). Holds are
placed and released by a privacy officer, with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import structlog

from casestore.adapters.persistence.backend import Cursor
from casestore.adapters.persistence.retention_tables import (
    HoldRow,
    RetentionTables,
    VerklaringRow,
)
from casestore.domain import errors
from casestore.domain.case import Case
from casestore.services.figures import Figures, cells, quarter
from casestore.services.grants import Grants
from casestore.services.retention_terms import CaseTerm, Terms
from sharing.canonical import canonical_json
from sharing.errors import SignatureInvalid
from sharing.keys import format_time
from sharing.signing import Signature, sign, verify

log = structlog.get_logger("casestore.services.retention")

PURPOSE = "verklaring-van-vernietiging"
BY_RETENTION = "retention"
Progress = Callable[[int, int], None]


class VerklaringNotFound(errors.CaseNotFound):
    """No case of that id was destroyed (or none the caller may know of)."""


@dataclass(frozen=True)
class ExpiredGrants:
    case_id: UUID
    rules: tuple[str, ...]
    grants: int


@dataclass(frozen=True)
class Destruction:
    case_id: UUID
    due_at: datetime
    rules: tuple[str, ...]


@dataclass(frozen=True)
class RunReport:
    """What a run did, or with `dry_run` would do."""

    dry_run: bool
    at: datetime
    expired: list[ExpiredGrants] = field(default_factory=list)
    destroyed: list[Destruction] = field(default_factory=list)
    held: list[UUID] = field(default_factory=list)
    failed: list[tuple[UUID, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Verklaring:
    document: dict[str, Any]
    signature: dict[str, str]


class Retention:
    def __init__(
        self, grants: Grants, tables: RetentionTables, terms: Terms, figures: Figures
    ) -> None:
        self.grants = grants
        self.store = grants.store
        self.tables = tables
        self.terms = terms
        self.figures = figures

    # ---- the run ----------------------------------------------------------------------

    def run(self, *, dry_run: bool = False, progress: Progress | None = None) -> RunReport:
        now = self.store.clock()
        report = RunReport(dry_run, now)
        records = self.store.records.tables
        case_ids = records.case_ids()
        for done, cid in enumerate(case_ids, start=1):
            if records.shred_record(cid) is None:
                try:
                    self._case(UUID(cid), now, report)
                except Exception as exc:  # one case's failure must not stop the rest
                    log.warning("retention failed for a case", case_id=cid, error=repr(exc))
                    report.failed.append((UUID(cid), type(exc).__name__))
            if progress is not None:
                progress(done, len(case_ids))
        if not dry_run:
            self._erase_freed()
        log.info(
            "retention run",
            dry_run=dry_run,
            expired=sum(e.grants for e in report.expired),
            destroyed=len(report.destroyed),
            held=len(report.held),
            failed=len(report.failed),
        )
        return report

    def _case(self, case_id: UUID, now: datetime, report: RunReport) -> None:
        paused = self.terms.paused(str(case_id))
        if paused is None:
            report.held.append(case_id)
            return
        case = self.store.case(case_id)
        events = self.store.history(case_id)
        term = self.terms.case_term(case, events, paused)
        if term is not None and term.due_at <= now:
            report.destroyed.append(Destruction(case_id, term.due_at, term.rules))
            if not dry_run_of(report):
                self._destroy(case_id, by=BY_RETENTION, reason=_term_reason(term), term=term)
            return
        expired = self._expired_grants(case, events, paused, now)
        if expired is not None:
            report.expired.append(expired)
            if not dry_run_of(report):
                reason = "retention ended: rule " + ", ".join(expired.rules)
                self.grants.reconcile(case_id, reason)

    def _expired_grants(
        self, case: Case, events: list[Case.Event], paused: Any, now: datetime
    ) -> ExpiredGrants | None:
        occurred = {e.originator_version: e.occurred_at for e in events}
        count, rules = 0, set()
        for grant in self.store.records.tables.grants_of_case(str(case.id)):
            basis = json.loads(grant.basis)
            grant_rules = sorted({r for b in basis.values() for r in b["rules"]})
            if not grant_rules or any(not b["rules"] for b in basis.values()):
                continue  # read by authorship: kept until the case goes
            ends = self.terms.grant_ends(
                grant_rules, occurred[grant.version], case.closed_at, paused
            )
            if ends is not None and ends <= now:
                count += 1
                rules.update(grant_rules)
        return ExpiredGrants(case.id, tuple(sorted(rules)), count) if count else None

    # ---- destroying one case ----------------------------------------------------------

    def destroy(self, case_id: UUID, *, by: str, reason: str) -> Verklaring:
        """Destroy a closed case now, ordered by hand (a legal hold refuses it)."""
        if self.terms.paused(str(case_id)) is None:
            raise errors.CaseHeld(str(case_id))
        self._destroy(case_id, by=by, reason=reason, term=None)
        self._erase_freed()
        return self.verklaring(case_id)

    def _erase_freed(self) -> None:
        """Make the database forget the key material of every destroyed case it may still
        hold (a run that failed at this step leaves it to the next)."""
        pending = self.tables.unerased()
        if pending:
            self.grants.erase_freed()
            self.tables.erased(pending, self.store.clock())

    def _destroy(self, case_id: UUID, *, by: str, reason: str, term: CaseTerm | None) -> None:
        events = self.store.history(case_id)
        counted = cells(events, self.figures.zone)
        escrows = len(self.store.records.tables.escrows_of_case(str(case_id)))
        grants = len(self.store.records.tables.grants_of_case(str(case_id)))

        def record(case: Case, cursor: Cursor) -> None:
            now = self.store.clock()
            document = self._document(case, now, by, reason, term, len(events), escrows, grants)
            signature = sign(
                document,
                self.store.sealer.keyring.signing_key(self.store.custodian),
                purpose=PURPOSE,
            )
            self.tables.count(cursor, counted)
            self.tables.record(
                cursor,
                VerklaringRow(
                    str(case_id),
                    now,
                    canonical_json(document).decode("utf-8"),
                    json.dumps(signature.to_json()),
                ),
            )

        self.grants.shred(case_id, by=by, reason=reason, also=record, erase_freed=False)
        log.info("case destroyed", case_id=str(case_id), by=by, reason=reason)

    def _document(
        self,
        case: Case,
        now: datetime,
        by: str,
        reason: str,
        term: CaseTerm | None,
        events: int,
        escrows: int,
        grants: int,
    ) -> dict[str, Any]:
        policy = self.store.sealer.matrix.policy
        rules = []
        for rule_id in term.rules if term is not None else ():
            rule = policy.rule(rule_id)
            if rule is not None:
                rules.append({"rule": rule_id, "retention": str(rule.retention)})
        assert case.closed_at is not None  # noqa: S101 - only a closed case is destroyed
        return {
            "verklaring": "vernietiging",
            "region": self.store.sealer.region,
            "custodian": self.store.custodian,
            "case_id": str(case.id),
            "destroyed_at": format_time(now),
            "ordered_by": by,
            "reason": reason,
            "rules": rules,
            "term_ended_at": None if term is None else format_time(term.due_at),
            "case_ended_in": quarter(case.closed_at, self.figures.zone),
            "policy_version": self.store.sealer.policy_version,
            "destroyed": {
                "case_key": True,
                "escrows": escrows,
                "grants": grants,
                "event_contents": events,
                "link_to_person": True,
                "person_index_link": True,
            },
            "kept": [
                "each event's header and control attributes, marked destroyed",
                "the grant history (who could open which fields of which event, and why)",
                "the case's part in the region's anonymous figures",
            ],
        }

    # ---- reading what is left -----------------------------------------------------------

    def verklaring(self, case_id: UUID) -> Verklaring:
        row = self.tables.verklaring(str(case_id))
        if row is None:
            raise VerklaringNotFound(str(case_id))
        return Verklaring(json.loads(row.document), json.loads(row.signature))

    def verify(self, verklaring: Verklaring) -> bool:
        """Whether the verklaring is unchanged and signed by the custodian."""
        try:
            signature = Signature.from_json(verklaring.signature)
            if signature.org_id != self.store.custodian:
                return False
            at = datetime.fromisoformat(verklaring.document["destroyed_at"])
            verify(
                verklaring.document,
                signature,
                self.store.sealer.keyring.records(),
                purpose=PURPOSE,
                at=at,
            )
        except (SignatureInvalid, KeyError, ValueError, TypeError):
            return False
        return True

    def verklaringen(self) -> list[Verklaring]:
        return [
            Verklaring(json.loads(r.document), json.loads(r.signature))
            for r in self.tables.verklaringen()
        ]

    # ---- legal holds --------------------------------------------------------------------

    def hold(self, case_id: UUID, *, by: str, reason: str) -> HoldRow:
        """Stop the case's retention clock until the hold is released."""
        self.store.case(case_id)  # a case that exists
        if self.tables.verklaring(str(case_id)) is not None:
            raise errors.CaseNotFound(str(case_id))
        hold = HoldRow(str(uuid4()), str(case_id), reason, by, self.store.clock())
        self.tables.place(hold)
        log.info("legal hold placed", case_id=str(case_id), by=by)
        return hold

    def release(self, case_id: UUID, *, by: str) -> int:
        """Restart the clock: release every hold of the case; how many there were."""
        released = self.tables.release(str(case_id), by, self.store.clock())
        log.info("legal hold released", case_id=str(case_id), by=by, holds=released)
        return released

    def holds(self, case_id: UUID) -> list[HoldRow]:
        return self.tables.holds_of(str(case_id))


def dry_run_of(report: RunReport) -> bool:
    return report.dry_run


def _term_reason(term: CaseTerm) -> str:
    return f"retention term ended {format_time(term.due_at)} (rule {', '.join(term.rules)})"
