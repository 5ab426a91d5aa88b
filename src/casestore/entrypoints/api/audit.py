"""The audit trail for privacy officers and auditors: who processed which case data."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import AwareDatetime
from pydantic_core import to_json

from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.schemas import AuditPage, SubjectReportCreate
from casestore.services.audit import AUDIT_READ
from casestore.services.clients import Client, ClientRole

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Officer = Annotated[Client, Depends(allow(ClientRole.privacy_officer, ClientRole.auditor))]


@router.get("", response_model=AuditPage, responses=errors())
def read_audit(
    caller: Officer,
    services: ServicesDep,
    case: Annotated[UUID | None, Query(description="Only entries about this case.")] = None,
    organisation: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Only entries about this organisation (the one served or granted, "
            "else the one acting).",
        ),
    ] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="Entries started at or after.")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="Entries started before.")] = None,
    after: Annotated[
        int, Query(ge=0, le=MAX_JSON_INTEGER, description="The last `seq` the caller has seen.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The audit trail, oldest first, a page at a time (like the feed): privacy officers
    and auditors only. Reading it is itself recorded in it."""
    trail = services.audit
    rows = trail.page(
        case=None if case is None else str(case),
        organisation=organisation,
        since=from_,
        until=to,
        after=after,
        limit=limit,
    )
    trail.record(
        [
            trail.entry(
                AUDIT_READ,
                reason=f"case={case} organisation={organisation} from={from_} to={to} "
                f"after={after}: {len(rows)} entries",
            )
        ]
    )
    body = {
        "items": [
            {"seq": r.seq, "entry": json.loads(r.entry), "previous": r.previous, "hash": r.hash}
            for r in rows
        ],
        "next_after": rows[-1].seq if rows else after,
    }
    return Response(to_json(body), media_type="application/json")


@router.post("/subject-report", responses=errors(404))
def subject_report(
    body: SubjectReportCreate, caller: Officer, services: ServicesDep
) -> dict[str, Any]:
    """The data-subject report (AVG art. 15) of the person with a BSN, from the trail: per
    case, which organisations received or read which kinds of data, when, on which rules
    and grounds, from which source; the referrer withheld (docs/audit.md). A person never
    referred is 404. The BSN travels in the body, never in a URL, and is not kept."""
    return services.subject_reports.for_bsn(body.bsn).document
