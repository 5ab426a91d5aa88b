"""The reconstructed case timeline: `GET /v1/cases/{case_id}/timeline` (docs/timeline.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, Field
from pydantic_core import to_json

from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.entrypoints.api.openapi import errors
from casestore.services.clients import Client, ClientRole

router = APIRouter(prefix="/v1/cases", tags=["timeline"])

TimelineReader = Annotated[
    Client,
    Depends(allow(ClientRole.partner_system, ClientRole.coordinator, ClientRole.privacy_officer)),
]


class TimelinePublic(BaseModel):
    """The case at a moment as one organisation sees it. A content field shows as its
    value, as `{"withheld": true, "rule": …}` (the organisation may not read it; the rule
    it receives the event under, `author`, or `no-rule`) or as `{"sealed": true}` (granted,
    but the service does not open it for the caller)."""

    case_id: UUID
    reader: str = Field(description="The caller's organisation, for which values are opened.")
    view: str = Field(description="The organisation whose view this is.")
    as_of: datetime
    known: bool = Field(description="Only what was recorded by `as_of` (as known then).")
    status: str | None
    level: int | None
    level_history: list[dict[str, Any]]
    kaders: list[dict[str, Any]]
    kader_history: list[dict[str, Any]]
    risicotaxaties: list[dict[str, Any]]
    plan: dict[str, Any] | None
    plan_version: int
    regie: dict[str, str]
    network: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    open_signals: int
    overleggen: list[dict[str, Any]]
    entries: list[dict[str, Any]] = Field(
        description="The events in the order they occurred; `recorded_later` marks those "
        "recorded after `as_of` (known now, not then)."
    )


@router.get(
    "/{case_id}/timeline",
    response_model=TimelinePublic,
    responses=errors(403, 404),
)
def read_timeline(
    case_id: UUID,
    caller: TimelineReader,
    services: ServicesDep,
    as_of: Annotated[
        AwareDatetime | None, Query(description="The moment (default: now), with a time zone.")
    ] = None,
    known: Annotated[
        bool, Query(description="As it was known at `as_of`: only events recorded by then.")
    ] = False,
    view: Annotated[
        str | None,
        Query(
            max_length=100,
            description="See the case as this organisation does: the custodian's "
            "coordinators and privacy officers, and a privacy officer for its own "
            "organisation; a partner system is refused (403).",
        ),
    ] = None,
    event_type: Annotated[
        list[str] | None, Query(max_length=50, description="Only entries of these types.")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="Entries from then on.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Entries up to then.")] = None,
) -> Response:
    """The case reconstructed at a moment: status, care level and kader over time, plan,
    network, signals, meetings and every entry; audited as a read."""
    timelines = services.timelines
    if view is not None:
        timelines.check_view(caller.org_id, caller.role, view)
    found = timelines.timeline(
        caller.org_id,
        case_id,
        as_of=as_of,
        known=known,
        view=view,
        event_types=event_type or (),
        since=since,
        until=until,
    )
    return Response(to_json(found), media_type="application/json")
