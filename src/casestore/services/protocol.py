"""The verstrekkingsprotocol of one partner: every provision of what it wrote.

The police must keep a record of every provision of police data (Wpg art. 32: to whom,
when, which data, on which ground), and the OM of justitiële gegevens likewise; the
custodian provides on their behalf, so the record is drawn from what the service did:
the grants its policy gave other organisations on the partner's events (and took back),
and every time such an event was read, fetched from the feed, streamed or delivered by
webhook. Ids, field names, rules and grounds only — the trail holds nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casestore.adapters.persistence.rows import stamp
from casestore.services.audit import (
    AUDIT_PROTOCOL,
    CASE_DECRYPTED,
    CASE_READ,
    FEED_READ,
    GRANT_CREATED,
    GRANT_REVOKED,
    STREAM_DELIVERED,
    WEBHOOK_DELIVERED,
    AuditTrail,
)
from casestore.services.case_store import CaseStore
from casestore.services.trail_facts import Granted, TrailFacts
from sharing.owned import field_of

ACTIES = {
    GRANT_CREATED: "verstrekt",
    GRANT_REVOKED: "verstrekking ingetrokken",
    CASE_READ: "opgevraagd",
    CASE_DECRYPTED: "opgevraagd (ontsleuteld door de dienst)",
    FEED_READ: "opgevraagd (feed)",
    STREAM_DELIVERED: "geleverd (live)",
    WEBHOOK_DELIVERED: "geleverd (webhook)",
}
READS = {CASE_READ, CASE_DECRYPTED, FEED_READ, STREAM_DELIVERED, WEBHOOK_DELIVERED}


class Protocols:
    def __init__(self, store: CaseStore, trail: AuditTrail) -> None:
        self.store = store
        self.trail = trail

    def of(
        self, organisation: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, Any]:
        """The protocol of `organisation`, oldest provision first; reading it is recorded."""
        facts = TrailFacts(self.store, self.trail)
        verstrekkingen = []
        for e in facts.entries:
            action = e["action"]
            if action not in ACTIES:
                continue
            own = [ev for ev in e["events"] if facts.author(ev) == organisation]
            receiver = e.get("receiver") or e.get("organisation")
            if not own or receiver is None or receiver == organisation:
                continue
            fields = {f for ev in own for f in facts.opened(e, ev)}
            if action in READS:  # on the grounds of the grants that opened it
                opened = [facts.granted.get((receiver, ev), Granted()) for ev in own]
                rules = {r for g in opened for r in g.rules}
                grounds = {r for g in opened for r in g.grounds}
            else:
                rules, grounds = set(e["rules"]), set(e["grounds"])
            if (since is not None and e["start"] < stamp(since)) or (
                until is not None and e["start"] >= stamp(until)
            ):
                continue
            verstrekkingen.append(
                {
                    "tijdstip": e["start"],
                    "actie": ACTIES[action],
                    "ontvanger": receiver,
                    "zaak": e["case"],
                    "gebeurtenissen": own,
                    "soorten": sorted({str(facts.event_type(ev)) for ev in own}),
                    "gegevens": sorted({field_of(f)[0] for f in fields}),
                    "regels": sorted(rules),
                    "grondslagen": sorted(grounds),
                    "voorwaarden": e["conditions"],
                    "beleidsversie": e["policy_version"],
                    "client": e.get("client"),
                    "namens": e.get("on_behalf_of"),
                    "status": e["status"],
                    "trace_id": e["trace_id"],
                }
            )
        per_ontvanger: dict[str, dict[str, Any]] = {}
        for v in verstrekkingen:
            s = per_ontvanger.setdefault(
                v["ontvanger"],
                {"verstrekkingen": 0, "gegevens": set(), "grondslagen": set(), "zaken": set()},
            )
            s["verstrekkingen"] += 1
            s["gegevens"].update(v["gegevens"])
            s["grondslagen"].update(v["grondslagen"])
            s["zaken"].add(v["zaak"])
        self.trail.record(
            [
                self.trail.entry(
                    AUDIT_PROTOCOL,
                    receiver=organisation,
                    reason=f"verstrekkingsprotocol {organisation}: {len(verstrekkingen)}",
                )
            ]
        )
        return {
            "organisatie": organisation,
            "opgesteld_op": stamp(self.trail.clock()),
            "van": None if since is None else stamp(since),
            "tot": None if until is None else stamp(until),
            "ontvangers": {
                org: {
                    "verstrekkingen": s["verstrekkingen"],
                    "zaken": len(s["zaken"]),
                    "gegevens": sorted(s["gegevens"]),
                    "grondslagen": sorted(s["grondslagen"]),
                }
                for org, s in sorted(per_ontvanger.items())
            },
            "verstrekkingen": verstrekkingen,
        }
