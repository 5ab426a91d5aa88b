"""The coordinators' worklist: their cases with the attention signals the record's own
dates raise (docs/worklist.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from casestore.domain.worklist import Signal
from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.entrypoints.api.problems import forbidden
from casestore.services import worklist as service
from casestore.services.clients import Client, ClientRole

router = APIRouter(tags=["worklist"])

Sort = Literal["aandacht", "casus", "niveau", "signalering", "plan", "monitoring", "aangemeld"]
Coordinator = Annotated[Client, Depends(allow(ClientRole.coordinator))]


class AttentionPublic(BaseModel):
    signal: Signal
    since: str
    detail: str


class WorklistCase(BaseModel):
    case_id: str
    status: str
    level: int | None
    regie: dict[str, str]
    opened: str | None
    last_signal: str | None
    plan_version: int | None
    plan_age_days: int | None
    monitoring_age_days: int | None
    signals: list[AttentionPublic]


class WorklistPublic(BaseModel):
    cases: list[WorklistCase]


@router.get("/v1/worklist", response_model=WorklistPublic)
def read_worklist(
    caller: Coordinator,
    services: ServicesDep,
    search: Annotated[
        str | None,
        Query(max_length=64, description="A case id (or its start) or a BSN (audited)."),
    ] = None,
    signal: Annotated[Signal | None, Query(description="Only cases raising it.")] = None,
    level: Annotated[int | None, Query(ge=1, le=4)] = None,
    status: Annotated[
        Literal["aangemeld", "getrieerd", "geincludeerd", "afgesloten", "uitgestroomd"] | None,
        Query(),
    ] = None,
    sort: Annotated[Sort, Query(description="The column to order by.")] = "aandacht",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> WorklistPublic:
    """The caller's open cases (and ended ones due for destruction), each with level,
    last signalering, plan age, days since the last monitoringsmoment and the attention
    signals raised now under the region's terms."""
    query = service.Query(search, signal, level, status, sort, order == "desc")
    try:
        rows = services.worklist.for_client(caller, query)
    except service.WorklistRefused as exc:
        raise forbidden(str(exc)) from None
    return WorklistPublic.model_validate({"cases": [r.to_json() for r in rows]})
