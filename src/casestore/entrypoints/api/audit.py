"""The audit trail for privacy officers and auditors: who processed which case data."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import AwareDatetime
from pydantic_core import to_json

from casestore.adapters.persistence.restriction_table import RestrictionRow
from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.problems import HttpProblem
from casestore.entrypoints.api.schemas import (
    AuditPage,
    BlastRadiusCreate,
    RestrictionCreate,
    RestrictionPublic,
    SubjectReportCreate,
)
from casestore.services.access_review import MANY_CASES, STALE_DAYS
from casestore.services.audit import AUDIT_READ
from casestore.services.breach import BreachError
from casestore.services.clients import Client, ClientRole
from casestore.services.subject_report import RestrictionError

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Officer = Annotated[Client, Depends(allow(ClientRole.privacy_officer, ClientRole.auditor))]
PrivacyOfficer = Annotated[Client, Depends(allow(ClientRole.privacy_officer))]


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
    """The data-subject report (AVG art. 15) of a person, found by BSN, by name and birth
    date (a person registered without a BSN) or by a case id, from the trail: per case,
    which organisations received or read which kinds of data, when, on which rules and
    grounds, from which source; the referrer withheld (docs/audit.md). A person never
    referred is 404. What identifies the person travels in the body, never in a URL, and
    is not kept."""
    return services.subject_reports.find(
        bsn=body.bsn, naam=body.naam, geboortedatum=body.geboortedatum, case=body.zaak
    ).document


@router.get("/protocol/{organisation}", responses=errors())
def verstrekkingsprotocol(
    organisation: Annotated[str, PathParam(min_length=2, max_length=64)],
    caller: Officer,
    services: ServicesDep,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="Provisions at or after.")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="Provisions before.")] = None,
) -> dict[str, Any]:
    """The verstrekkingsprotocol of a partner (Wpg art. 32 for the police, likewise for the
    OM): every provision of events it wrote to another organisation — grants given and
    taken, reads, feed pages, live and webhook deliveries — to whom, when, which kinds of
    data, on which rules and grounds (docs/audit.md). Drawing it up is recorded. An
    organisation the policy does not name is 404."""
    if organisation not in services.sealer.matrix.organisations:
        raise HttpProblem(
            404, "not-found", "Not found", f"the policy names no organisation {organisation!r}"
        )
    return services.protocols.of(organisation, since=from_, until=to)


@router.post("/blast-radius", responses=errors(404))
def blast_radius(body: BlastRadiusCreate, caller: Officer, services: ServicesDep) -> dict[str, Any]:
    """What a breach exposed: from a leaked key generation, a stolen client token or a
    time window, the persons (pseudonymous), cases and fields, split by special category
    (AVG art. 9 and 10), with drafts of the notification to the Autoriteit
    Persoonsgegevens (art. 33) and of the message to the persons (art. 34). An unknown
    key generation is 404. Working it out is recorded."""
    radius = services.blast_radius
    try:
        if body.generation is not None and body.organisation is not None:
            return radius.of_key(body.organisation, body.generation)
        if body.client is not None:
            return radius.of_client(body.client)
        assert body.from_ is not None and body.to is not None  # noqa: S101 - validated
        return radius.of_window(body.from_, body.to, body.organisation)
    except BreachError as exc:
        raise HttpProblem(404, "not-found", "Not found", str(exc)) from None


@router.get("/access-review", responses=errors())
def access_review(
    caller: Officer,
    services: ServicesDep,
    stale_days: Annotated[
        int, Query(ge=1, le=3650, description="A token unused this long is stale.")
    ] = STALE_DAYS,
    many_cases: Annotated[
        int,
        Query(ge=1, le=MAX_JSON_INTEGER, description="Flag a client that read this many cases."),
    ] = MANY_CASES,
) -> dict[str, Any]:
    """The access review: per organisation and role its clients, when each last used its
    token, stale tokens, clients that read many cases, and reads after an organisation
    left a case's network (docs/audit.md). Recorded."""
    return services.access_reviews.review(stale_days=stale_days, many_cases=many_cases)


@router.post(
    "/restrictions", status_code=201, response_model=RestrictionPublic, responses=errors(404)
)
def restrict_subject_report(
    body: RestrictionCreate, caller: PrivacyOfficer, services: ServicesDep
) -> RestrictionPublic:
    """Record a restriction of the person's right of access (UAVG art. 41), e.g. the
    police or the OM invoking it for an ongoing investigation: the data-subject report
    withholds what it names, and says that a restriction applies only if `may_mention`
    (docs/audit.md). A person never referred, or a case not theirs, is 404."""
    row = services.subject_reports.restrict(
        body.bsn,
        case=body.case,
        organisation=body.organisation,
        ground=body.ground,
        requested_by=body.requested_by,
        may_mention=body.may_mention,
        by=f"{caller.org_id}/{caller.client_id}",
    )
    return _restriction(row)


@router.post(
    "/restrictions/{restriction_id}/lift", response_model=RestrictionPublic, responses=errors(404)
)
def lift_restriction(
    restriction_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    caller: PrivacyOfficer,
    services: ServicesDep,
) -> RestrictionPublic:
    """Lift a restriction (the investigation ended): the report shows what it withheld
    again. Lifting one already lifted changes nothing."""
    try:
        row = services.subject_reports.lift(restriction_id, f"{caller.org_id}/{caller.client_id}")
    except RestrictionError as exc:
        raise HttpProblem(404, "not-found", "Not found", str(exc)) from None
    return _restriction(row)


def _restriction(row: RestrictionRow) -> RestrictionPublic:
    return RestrictionPublic(
        restriction_id=row.restriction_id,
        person=row.person_id,
        case=row.case_id,
        organisation=row.organisation,
        ground=row.ground,
        requested_by=row.requested_by,
        may_mention=bool(row.may_mention),
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        lifted_by=row.lifted_by,
        lifted_at=row.lifted_at,
    )
