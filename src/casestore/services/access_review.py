"""The periodic access review: which clients each organisation has, in which role, when
each last used its token, which tokens are stale, and reading that asks for a look.

Two patterns are flagged, both from the trail: one client reading many different cases
(a partner system's feed reads every case it receives, so the threshold is per review
and the officer judges), and an organisation reading a case after it left its network
(what it may keep it got before; reading on is worth a question).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.rows import stamp
from casestore.domain import errors
from casestore.services.audit import (
    AUDIT_ACCESS_REVIEW,
    CASE_DECRYPTED,
    CASE_READ,
    FEED_READ,
    STREAM_DELIVERED,
    AuditTrail,
)
from casestore.services.case_store import CaseStore
from casestore.services.clients import Clients
from casestore.services.trail_facts import TrailFacts

READS = {CASE_READ, CASE_DECRYPTED, FEED_READ, STREAM_DELIVERED}
STALE_DAYS = 90
MANY_CASES = 50


class AccessReviews:
    def __init__(self, store: CaseStore, clients: Clients, trail: AuditTrail) -> None:
        self.store = store
        self.clients = clients
        self.trail = trail

    def review(
        self, *, stale_days: int = STALE_DAYS, many_cases: int = MANY_CASES
    ) -> dict[str, Any]:
        now = self.trail.clock()
        stale_before = stamp(now - timedelta(days=stale_days))
        facts = TrailFacts(self.store, self.trail)
        last_use: dict[str, str] = {}
        cases_read: dict[str, set[str]] = {}
        reads_of_case: dict[str, list[dict[str, Any]]] = {}
        for e in facts.entries:
            client = e.get("client")
            if client:
                last_use[client] = max(last_use.get(client, ""), e["start"])
            if e["action"] in READS and e["case"]:
                if client:
                    cases_read.setdefault(client, set()).add(e["case"])
                reads_of_case.setdefault(e["case"], []).append(e)

        organisations: dict[str, dict[str, list[dict[str, Any]]]] = {}
        stale, many = [], []
        for c in self.clients.list():
            used = last_use.get(c.client_id)
            active = c.active(now)
            row = {
                "client": c.client_id,
                "naam": c.name,
                "aangemaakt": stamp(c.created_at),
                "verloopt": stamp(c.expires_at),
                "ingetrokken": None if c.revoked_at is None else stamp(c.revoked_at),
                "actief": active,
                "laatst_gebruikt": used,
                "zaken_gelezen": len(cases_read.get(c.client_id, ())),
            }
            organisations.setdefault(c.org_id, {}).setdefault(c.role.value, []).append(row)
            if active and (used or stamp(c.created_at)) < stale_before:
                stale.append(
                    {
                        "client": c.client_id,
                        "organisatie": c.org_id,
                        "rol": c.role.value,
                        "laatst_gebruikt": used,
                    }
                )
            if len(cases_read.get(c.client_id, ())) >= many_cases:
                many.append(
                    {
                        "client": c.client_id,
                        "organisatie": c.org_id,
                        "zaken": len(cases_read[c.client_id]),
                    }
                )

        after_leaving = []
        for case_id, reads in sorted(reads_of_case.items()):
            left = self._left(case_id)
            for e in reads:
                reader = e.get("receiver") or e.get("organisation")
                at = left.get(str(reader))
                if at is not None and e["start"] > at:
                    after_leaving.append(
                        {
                            "zaak": case_id,
                            "organisatie": reader,
                            "client": e.get("client"),
                            "uitgetreden": at,
                            "gelezen": e["start"],
                            "gebeurtenissen": e["events"],
                        }
                    )
        self.trail.record(
            [
                self.trail.entry(
                    AUDIT_ACCESS_REVIEW,
                    reason=f"{len(stale)} stale, {len(many)} many cases, "
                    f"{len(after_leaving)} reads after leaving",
                )
            ]
        )
        return {
            "opgesteld_op": stamp(now),
            "drempels": {"ongebruikt_dagen": stale_days, "veel_zaken": many_cases},
            "organisaties": {
                org: dict(sorted(roles.items())) for org, roles in sorted(organisations.items())
            },
            "ongebruikte_tokens": stale,
            "veel_zaken_gelezen": many,
            "gelezen_na_uittreden": after_leaving,
        }

    def _left(self, case_id: str) -> dict[str, str]:
        """Per organisation, when it last left the case's network (if it has not rejoined)."""
        try:
            history = self.store.history(UUID(case_id))
        except errors.CaseNotFound:
            return {}
        left: dict[str, str] = {}
        for event in history:
            if event.event_type != "netwerkwijziging":
                continue
            org = str(event.control["organisatie"])
            if event.control["wijziging"] == "uitgetreden":
                left[org] = stamp(event.timestamp)
            else:
                left.pop(org, None)
        return left
