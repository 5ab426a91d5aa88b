"""Casusoverleggen: their agenda, the pack of each attending organisation (JSON or PDF),
and the minutes recorded as the case's `casusoverleg` event (docs/worklist.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from casestore.domain.events.fields import OverlegSoort
from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.problems import HttpProblem
from casestore.entrypoints.api.schemas import EventRecorded
from casestore.entrypoints.web.pack_document import pack_pdf
from casestore.services.clients import Client, ClientRole
from casestore.services.meeting_pack import MeetingError, meeting_json

router = APIRouter(prefix="/v1/meetings", tags=["meetings"])

Coordinator = Annotated[Client, Depends(allow(ClientRole.coordinator))]
PDF = "application/pdf"


class MeetingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    soort: OverlegSoort
    held_on: date
    title: str = Field(min_length=1, max_length=200)
    attendees: list[str] = Field(min_length=1, max_length=30)
    cases: list[str] = Field(min_length=1, max_length=50, description="The agenda, in order.")


class MeetingPublic(BaseModel):
    meeting_id: str
    soort: str
    held_on: str
    title: str
    organiser: str
    attendees: list[str]
    cases: list[str]
    created_at: str


class MinutesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(
        description="A casusoverleg payload (docs/werkproces.md); its `soort` is the meeting's."
    )
    into_plan: bool = Field(
        default=False, description="Add the actiepunten to the plan in force as its next version."
    )


class MinutesRecorded(BaseModel):
    recorded: list[EventRecorded]


def problem(exc: MeetingError) -> HttpProblem:
    slug = {403: "forbidden", 404: "not-found"}.get(exc.status, "request-invalid")
    title = {403: "Forbidden", 404: "Not found"}.get(exc.status, "Invalid request")
    return HttpProblem(exc.status, slug, title, str(exc))


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=MeetingPublic, responses=errors(404)
)
def create_meeting(body: MeetingCreate, caller: Coordinator, services: ServicesDep) -> Any:
    """Plan a casusoverleg: kind, day, attending organisations and the cases on its
    agenda (cases of the caller's worklist)."""
    try:
        row = services.meetings.plan(
            caller,
            soort=body.soort.value,
            held_on=body.held_on,
            title=body.title,
            attendees=body.attendees,
            cases=body.cases,
        )
    except MeetingError as exc:
        raise problem(exc) from None
    return meeting_json(row)


@router.get("", response_model=list[MeetingPublic])
def list_meetings(caller: Coordinator, services: ServicesDep) -> Any:
    """The meetings the caller's organisation prepares (the custodian sees all), newest first."""
    try:
        return [meeting_json(m) for m in services.meetings.meetings(caller)]
    except MeetingError as exc:
        raise problem(exc) from None


@router.get("/{meeting_id}", response_model=MeetingPublic)
def read_meeting(meeting_id: str, caller: Coordinator, services: ServicesDep) -> Any:
    try:
        return meeting_json(services.meetings.meeting(caller, meeting_id))
    except MeetingError as exc:
        raise problem(exc) from None


@router.get("/{meeting_id}/packs/{organisation}")
def read_pack(
    meeting_id: str, organisation: str, caller: Coordinator, services: ServicesDep
) -> dict[str, Any]:
    """The pack of one attending organisation: per case on the agenda the events it
    receives with only the fields the policy grants it, the last casusoverleg and its
    actiepunten with their status. In the audit trail as exported, per case."""
    try:
        return services.meetings.pack(caller, meeting_id, organisation, how="api").to_json()
    except MeetingError as exc:
        raise problem(exc) from None


@router.get(
    "/{meeting_id}/packs/{organisation}/pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "The pack as PDF."}},
)
def export_pack_pdf(
    meeting_id: str, organisation: str, caller: Coordinator, services: ServicesDep
) -> Response:
    """The same pack as a PDF, to print or hand out; in the audit trail as exported."""
    try:
        pack = services.meetings.pack(caller, meeting_id, organisation, how="pdf")
    except MeetingError as exc:
        raise problem(exc) from None
    zone = services.sealer.matrix.policy.zone
    name = f"vergaderstuk-{pack.meeting.held_on}-{organisation}.pdf"
    return Response(
        pack_pdf(pack, zone),
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/{meeting_id}/minutes",
    status_code=status.HTTP_201_CREATED,
    response_model=MinutesRecorded,
    responses=errors(409),
)
def record_minutes(
    meeting_id: str, body: MinutesCreate, caller: Coordinator, services: ServicesDep
) -> Any:
    """The minutes of one case on the agenda, recorded as its `casusoverleg` event (once:
    posting them again answers with the first); with `into_plan` its actiepunten become
    actions of the next plan version."""
    try:
        recorded = services.meetings.record_minutes(
            caller,
            meeting_id,
            body.case_id,
            body.payload,
            user=caller.name,
            into_plan=body.into_plan,
        )
    except MeetingError as exc:
        raise problem(exc) from None
    return {
        "recorded": [
            {
                "case_id": str(r.case_id),
                "event_id": r.event_id,
                "version": r.version,
                "position": r.position,
                "replayed": r.replayed,
            }
            for r in recorded
        ]
    }
