"""The audit trail's entries of one recording, chained in the transaction that saves it."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from casestore.services.audit import EVENT_RECORDED, GRANT_CREATED, AuditTrail, Basis
from casestore.services.sealing import Sealed


def recording_entries(
    trail: AuditTrail, case_id: UUID, person: str, event_id: str, event_type: str, sealed: Sealed
) -> list[dict[str, Any]]:
    """The trail's entries of one recording: the event, and each organisation's grant
    sealed with it (names and grounds only), chained in the save's transaction."""
    cid = str(case_id)
    grants = [
        trail.entry(
            GRANT_CREATED,
            case=cid,
            person=person,
            events=[event_id],
            fields=tuple(json.loads(g.basis)),
            receiver=g.org_id,
            basis=Basis.of_grant_basis(g.basis),
            reason=f"sealed with {event_type}",
        )
        for g in sealed.rows.grants
    ]
    basis = Basis()
    for g in sealed.rows.grants:
        basis = basis | Basis.of_grant_basis(g.basis)
    recorded = trail.entry(
        EVENT_RECORDED,
        case=cid,
        person=person,
        events=[event_id],
        fields=sealed.content,
        basis=basis,
        reason=event_type,
    )
    return list(trail.within([recorded, *grants]))
