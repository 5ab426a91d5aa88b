"""Retention for privacy officers: legal holds, verklaringen van vernietiging, the figures.

Holds and verklaringen name cases, so only the custodian's privacy officer is answered
(anyone else is told of no case, as for a case they never received). The figures hold no
case and no person: every privacy officer and auditor may read them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from casestore.adapters.persistence.retention_tables import HoldRow
from casestore.domain import errors
from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.entrypoints.api.openapi import errors as documented
from casestore.services.clients import Client, ClientRole
from casestore.services.figures import figures_json

router = APIRouter(tags=["retention"])

Officer = Annotated[Client, Depends(allow(ClientRole.privacy_officer))]
Reviewer = Annotated[Client, Depends(allow(ClientRole.privacy_officer, ClientRole.auditor))]


class HoldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=1000, description="Why the case must be kept (recorded)."
    )


class HoldPublic(BaseModel):
    hold_id: str
    case_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None


def _custodians(caller: Client, services: Any, case_id: UUID) -> None:
    if caller.org_id != services.store.custodian:
        raise errors.CaseNotFound(str(case_id))


def _public(hold: HoldRow) -> HoldPublic:
    return HoldPublic(**vars(hold))


@router.post(
    "/v1/cases/{case_id}/legal-holds",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldPublic,
)
def place_legal_hold(
    case_id: UUID, body: HoldCreate, caller: Officer, services: ServicesDep
) -> HoldPublic:
    """Stop the case's retention clock until released: nothing of it expires meanwhile,
    and its terms end as much later as it was held."""
    _custodians(caller, services, case_id)
    hold = services.retention.hold(case_id, by=caller.client_id, reason=body.reason)
    return _public(hold)


@router.get("/v1/cases/{case_id}/legal-holds", response_model=list[HoldPublic])
def list_legal_holds(case_id: UUID, caller: Officer, services: ServicesDep) -> list[HoldPublic]:
    """Every hold placed on the case, released or in place, oldest first."""
    _custodians(caller, services, case_id)
    services.store.case(case_id)
    return [_public(h) for h in services.retention.holds(case_id)]


@router.post("/v1/cases/{case_id}/legal-holds/release", response_model=list[HoldPublic])
def release_legal_holds(case_id: UUID, caller: Officer, services: ServicesDep) -> list[HoldPublic]:
    """Release the case's holds in place: its clock runs again."""
    _custodians(caller, services, case_id)
    services.store.case(case_id)
    services.retention.release(case_id, by=caller.client_id)
    return [_public(h) for h in services.retention.holds(case_id)]


@router.get("/v1/verklaringen/{case_id}", responses=documented(404))
def read_verklaring(case_id: UUID, caller: Officer, services: ServicesDep) -> dict[str, Any]:
    """The verklaring van vernietiging of a destroyed case: what was destroyed, when and
    under which rules, signed by the custodian (verify it against `GET /v1/keys`, purpose
    `verklaring-van-vernietiging`). It holds nothing that identifies the person."""
    _custodians(caller, services, case_id)
    verklaring = services.retention.verklaring(case_id)
    return {"document": verklaring.document, "signature": verklaring.signature}


@router.get("/v1/figures")
def read_figures(caller: Reviewer, services: ServicesDep) -> dict[str, Any]:
    """The region's anonymous figures: aanmeldingen, triage elsewhere, inclusions and
    endings per quarter, destroyed cases included; a count under `suppressed_below` is
    null."""
    return figures_json(services.figures.report())
