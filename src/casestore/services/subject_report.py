"""The data-subject report (AVG art. 15): what happened to one person's data, from the
audit trail.

For each of the person's cases: which organisations were granted or served which kinds of
data (field names), when, on which rules and grounds, for what purpose and how long (the
rules' purpose and retention term, as the policy in force states them), and from which
source (the author of the events). The referrer's identity is withheld: wherever the
organisation that made the aanmelding appears, the report says `aanmelder (afgeschermd)` —
the person learns that a referral was made, not by whom. The shape follows the VNG's
Inzage API for processing logs (`verwerkingsacties`), in Dutch as that API is.

A restriction under UAVG art. 41 (the police or the OM invoking it for an ongoing
investigation, say) withholds what it names — a case, an organisation (as receiver or
source), or both — from the report, the summary per organisation included, and a case it
covers whole from the list of cases. The report says that a restriction applies, and on
which ground, only where whoever invoked it said that may be said (`may_mention`);
otherwise nothing in the report shows it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.restriction_table import RestrictionRow, RestrictionTable
from casestore.adapters.persistence.rows import stamp
from casestore.domain import errors
from casestore.domain.person import Person
from casestore.services.audit import (
    EVENT_RECORDED,
    RESTRICTION_LIFTED,
    RESTRICTION_RECORDED,
    SEARCH_BSN,
    SEARCH_CASE,
    SEARCH_NAME,
    TRAIL_PREFIX,
    AuditTrail,
)
from casestore.services.case_store import CaseStore
from sharing.policy.diff import retention_text

REFERRER = "aanmelder (afgeschermd)"
PAGE = 1000

ACTIES = {
    "event.recorded": "vastgelegd",
    "grant.created": "verstrekt",
    "grant.revoked": "verstrekking ingetrokken",
    "case.read": "ingezien",
    "case.decrypted": "ingezien (ontsleuteld door de dienst)",
    "case.timeline": "ingezien (tijdlijn)",
    "feed.read": "ingezien",
    "stream.delivered": "verstrekt (live)",
    "webhook.delivered": "verstrekt (webhook)",
    "search.case": "bekendheid nagevraagd",
    "case.shredded": "vernietigd",
    "meeting.pack-exported": "verstrekt (vergaderstuk casusoverleg)",
}


@dataclass(frozen=True)
class SubjectReport:
    person: str
    document: dict[str, Any]


class RestrictionError(Exception):
    """A restriction that names nothing of the person, or is not there to lift."""


class SubjectReports:
    def __init__(self, store: CaseStore, trail: AuditTrail, restrictions: RestrictionTable):
        self.store = store
        self.trail = trail
        self.restrictions = restrictions

    # ---- restrictions (UAVG art. 41) ---------------------------------------------------

    def restrict(
        self,
        bsn: str,
        *,
        case: UUID | None,
        organisation: str | None,
        ground: str,
        requested_by: str,
        may_mention: bool,
        by: str,
    ) -> RestrictionRow:
        """Record a restriction for the person with this BSN (CaseNotFound: no such
        person, or the case is not theirs)."""
        person = self.store.person_by_bsn(bsn)
        if person is None or (case is not None and str(case) not in person.cases):
            raise errors.CaseNotFound("no such case for this person")
        row = RestrictionRow(
            restriction_id=secrets.token_hex(8),
            person_id=str(person.id),
            case_id=None if case is None else str(case),
            organisation=organisation,
            ground=ground,
            requested_by=requested_by,
            may_mention=int(may_mention),
            recorded_by=by,
            recorded_at=self.trail.clock(),
        )
        self.restrictions.add(row)
        self.trail.record(
            [
                self.trail.entry(
                    RESTRICTION_RECORDED,
                    person=row.person_id,
                    case=row.case_id,
                    receiver=organisation,
                    reason=f"UAVG art. 41 restriction {row.restriction_id} by {requested_by}",
                )
            ]
        )
        return row

    def lift(self, restriction_id: str, by: str) -> RestrictionRow:
        row = self.restrictions.one(restriction_id)
        if row is None:
            raise RestrictionError(f"no restriction {restriction_id}")
        if row.lifted_at is None:
            self.restrictions.lift(restriction_id, by, self.trail.clock())
            self.trail.record(
                [
                    self.trail.entry(
                        RESTRICTION_LIFTED,
                        person=row.person_id,
                        case=row.case_id,
                        receiver=row.organisation,
                        reason=f"UAVG art. 41 restriction {restriction_id} lifted",
                    )
                ]
            )
        lifted = self.restrictions.one(restriction_id)
        assert lifted is not None  # noqa: S101 - never deleted
        return lifted

    # ---- the report ------------------------------------------------------------------

    def for_bsn(self, bsn: str) -> SubjectReport:
        """The report of the person with this BSN; the search is in the trail under the
        person's pseudonymous id, never the BSN. Unknown: CaseNotFound."""
        person = self.store.person_by_bsn(bsn)
        if person is None:
            raise errors.CaseNotFound("no case for this person")
        return self._report(person, SEARCH_BSN)

    def find(
        self,
        *,
        bsn: str | None = None,
        naam: str | None = None,
        geboortedatum: date | None = None,
        case: UUID | None = None,
    ) -> SubjectReport:
        """The report of the person found one of three ways (the first given)."""
        if bsn is not None:
            return self.for_bsn(bsn)
        if naam is not None and geboortedatum is not None:
            return self.for_name(naam, geboortedatum)
        if case is not None:
            return self.for_case(case)
        raise errors.CaseNotFound("no person named")

    def for_name(self, naam: str, geboortedatum: date) -> SubjectReport:
        """The report of a person registered without a BSN (or with one): found by the
        name and birth date through their pseudonym, as an aanmelding finds the person;
        in the trail as a search by name, under the pseudonymous id, never the name."""
        try:
            person = self.store.person_by_name(naam, geboortedatum)
        except errors.PayloadInvalid:
            person = None
        if person is None:
            raise errors.CaseNotFound("no case for this person")
        return self._report(person, SEARCH_NAME)

    def for_case(self, case_id: UUID) -> SubjectReport:
        """The report of the person a case is about (every case of that person); in the
        trail as a search by case id."""
        person = self.store.person_of(self.store.case(case_id))
        return self._report(person, SEARCH_CASE, case=str(case_id))

    def _report(self, person: Person, action: str, case: str | None = None) -> SubjectReport:
        pid = str(person.id)
        entry = self.trail.entry(action, person=pid, case=case, reason="inzage art. 15")
        self.trail.record([entry])
        return SubjectReport(pid, self.build(pid, [UUID(c) for c in person.cases]))

    def build(self, pid: str, cases: list[UUID]) -> dict[str, Any]:
        active = [r for r in self.restrictions.of_person(pid) if r.lifted_at is None]
        whole = {r.case_id for r in active if r.organisation is None}
        if any(r.case_id is None and r.organisation is None for r in active):
            whole |= {str(c) for c in cases}
        shown_cases = [c for c in cases if str(c) not in whole]

        def withheld(case_id: str, *organisations: str | None) -> bool:
            return any(
                (r.case_id is None or r.case_id == case_id)
                and (r.organisation is None or r.organisation in organisations)
                for r in active
            )

        # What each rule is for and how long it keeps, as the policy in force says.
        rules = {r.id: r for r in self.store.sealer.matrix.policy.rules}
        acties: list[dict[str, Any]] = []
        ontvangers: dict[str, dict[str, Any]] = {}
        for case_id in shown_cases:
            entries = list(self._entries(str(case_id)))
            referrer = next(
                (
                    e["organisation"]
                    for e in entries
                    if e["action"] == EVENT_RECORDED and e.get("reason") == "aanmelding"
                ),
                None,
            )

            def shown(org: str | None, referrer: str | None = referrer) -> str | None:
                return REFERRER if org is not None and org == referrer else org

            for e in entries:
                if e["action"] not in ACTIES:
                    continue
                receiver = e.get("receiver") or e.get("organisation")
                if withheld(str(case_id), receiver, e.get("organisation")):
                    continue
                organisatie = shown(e.get("receiver") or e.get("organisation"))
                bron = shown(e.get("organisation"))
                acties.append(
                    {
                        "tijdstip": e["start"],
                        "actie": ACTIES[e["action"]],
                        "zaak": str(case_id),
                        "organisatie": organisatie,
                        "bron": bron,
                        "gegevens": e["fields"],
                        "verwerkingsactiviteiten": e["activities"],
                        "grondslagen": e["grounds"],
                        "doelen": sorted({rules[r].purpose for r in e["rules"] if r in rules}),
                        "bewaartermijnen": sorted(
                            {retention_text(rules[r]) for r in e["rules"] if r in rules}
                        ),
                        "voorwaarden": e["conditions"],
                        "beleidsversie": e["policy_version"],
                        "status": e["status"],
                    }
                )
                if organisatie is None or e["action"] == EVENT_RECORDED:
                    continue
                summary = ontvangers.setdefault(
                    organisatie,
                    {
                        "gegevens": set(),
                        "grondslagen": set(),
                        "doelen": set(),
                        "bewaartermijnen": set(),
                        "eerst": e["start"],
                        "laatst": "",
                    },
                )
                summary["gegevens"].update(e["fields"])
                summary["grondslagen"].update(e["grounds"])
                summary["doelen"].update(acties[-1]["doelen"])
                summary["bewaartermijnen"].update(acties[-1]["bewaartermijnen"])
                summary["laatst"] = max(summary["laatst"], e["start"])
        return {
            "persoon": pid,
            "opgesteld_op": stamp(self.trail.clock()),
            "zaken": [str(c) for c in shown_cases],
            "beperkingen": [
                {"grond": r.ground, "sinds": stamp(r.recorded_at)} for r in active if r.may_mention
            ],
            "ontvangers": {
                org: {
                    "gegevens": sorted(s["gegevens"]),
                    "grondslagen": sorted(s["grondslagen"]),
                    "doelen": sorted(s["doelen"]),
                    "bewaartermijnen": sorted(s["bewaartermijnen"]),
                    "eerst": s["eerst"],
                    "laatst": s["laatst"],
                }
                for org, s in sorted(ontvangers.items())
            },
            "verwerkingsacties": acties,
        }

    def _entries(self, case_id: str) -> Iterator[dict[str, Any]]:
        after = 0
        while rows := self.trail.page(case=case_id, after=after, limit=PAGE):
            for row in rows:
                if not row.action.startswith(TRAIL_PREFIX):
                    yield json.loads(row.entry)
            after = rows[-1].seq
