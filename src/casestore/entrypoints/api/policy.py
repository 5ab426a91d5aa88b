"""The region's policy as the service applies it: what it says, and why it decides."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from casestore.entrypoints.api.deps import Caller, Store, allow, services_of
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.problems import HttpProblem
from casestore.services.audit import POLICY_EXPLAINED, Basis
from casestore.services.clients import Client, ClientRole
from sharing.errors import PolicyError, UnknownOrganisation

router = APIRouter(prefix="/v1/policy", tags=["policy"])

Reviewer = Annotated[
    Client, Depends(allow(ClientRole.privacy_officer, ClientRole.auditor, ClientRole.coordinator))
]


@router.get("")
def read_policy(caller: Caller, store: Store) -> dict[str, Any]:
    """The policy in force: version, organisations, grounds, agreements, case roles,
    kaders, special data, rules and authorship."""
    policy = store.sealer.matrix.policy
    return {
        "version": store.sealer.policy_version,
        **policy.model_dump(mode="json", include={"region", "custodian", "organisations"}),
        **(
            policy.model_dump(mode="json", include=REVIEWED)
            if caller.role is not ClientRole.partner_system
            else {}
        ),
    }


REVIEWED = {
    "grounds",
    "agreements",
    "case_roles",
    "kaders",
    "special_data",
    "rules",
    "authorship",
}


@router.get("/explain", responses=errors(403, 404))
def explain(
    caller: Reviewer,
    store: Store,
    request: Request,
    organisation: Annotated[str, Query(min_length=1, max_length=64)],
    event_type: Annotated[str, Query(min_length=1, max_length=64)],
    field: Annotated[str | None, Query(max_length=64)] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Why an organisation, as a network member, may or may not read a field now; 404
    names an organisation, event type or field the policy does not know."""
    try:
        explanation = store.sealer.matrix.explain(
            organisation, event_type, field, store.clock(), author=author
        )
    except (UnknownOrganisation, PolicyError) as exc:
        raise HttpProblem(404, "not-found", "Not found", str(exc)) from None
    audit = services_of(request).audit
    audit.record(
        [
            audit.entry(
                POLICY_EXPLAINED,
                receiver=organisation,
                fields=() if field is None else (field,),
                basis=Basis(tuple(g.rule for g in explanation.grants)),
                reason=f"explain {event_type}",
            )
        ]
    )
    return {
        "organisation": explanation.organisation,
        "event_type": explanation.event_type,
        "field": explanation.field,
        "author": author,
        "granted": explanation.granted,
        "rules": [g.rule for g in explanation.grants],
        "grounds": sorted({ground for g in explanation.grants for ground in g.grounds}),
        "providing": sorted({ground for g in explanation.grants for ground in g.providing}),
        "receiving": sorted({ground for g in explanation.grants for ground in g.receiving}),
        "needs": list(explanation.nearest.needs) if explanation.nearest else [],
        "explanation": explanation.text,
    }
