"""The data-subject report (AVG art. 15): what happened to one person's data, from the
audit trail.

For each of the person's cases: which organisations were granted or served which kinds of
data (field names), when, on which rules and grounds, and from which source (the author
of the events). The referrer's identity is withheld: wherever the organisation that made
the aanmelding appears, the report says `aanmelder (afgeschermd)` — the person learns that
a referral was made, not by whom. The shape follows the VNG's Inzage API for processing
logs (`verwerkingsacties`), in Dutch as that API is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.rows import stamp
from casestore.domain import errors
from casestore.services.audit import (
    EVENT_RECORDED,
    SEARCH_BSN,
    TRAIL_PREFIX,
    AuditTrail,
)
from casestore.services.case_store import CaseStore

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
}


@dataclass(frozen=True)
class SubjectReport:
    person: str
    document: dict[str, Any]


class SubjectReports:
    def __init__(self, store: CaseStore, trail: AuditTrail) -> None:
        self.store = store
        self.trail = trail

    def for_bsn(self, bsn: str) -> SubjectReport:
        """The report of the person with this BSN; the search is in the trail under the
        person's pseudonymous id, never the BSN. Unknown: CaseNotFound."""
        person = self.store.person_by_bsn(bsn)
        if person is None:
            raise errors.CaseNotFound("no case for this person")
        pid = str(person.id)
        self.trail.record([self.trail.entry(SEARCH_BSN, person=pid, reason="inzage art. 15")])
        return SubjectReport(pid, self.build(pid, [UUID(c) for c in person.cases]))

    def build(self, pid: str, cases: list[UUID]) -> dict[str, Any]:
        acties: list[dict[str, Any]] = []
        ontvangers: dict[str, dict[str, Any]] = {}
        for case_id in cases:
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
                        "voorwaarden": e["conditions"],
                        "beleidsversie": e["policy_version"],
                        "status": e["status"],
                    }
                )
                if organisatie is None or e["action"] == EVENT_RECORDED:
                    continue
                summary = ontvangers.setdefault(
                    organisatie,
                    {"gegevens": set(), "grondslagen": set(), "eerst": e["start"], "laatst": ""},
                )
                summary["gegevens"].update(e["fields"])
                summary["grondslagen"].update(e["grounds"])
                summary["laatst"] = max(summary["laatst"], e["start"])
        return {
            "persoon": pid,
            "opgesteld_op": stamp(self.trail.clock()),
            "zaken": [str(c) for c in cases],
            "ontvangers": {
                org: {
                    "gegevens": sorted(s["gegevens"]),
                    "grondslagen": sorted(s["grondslagen"]),
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
