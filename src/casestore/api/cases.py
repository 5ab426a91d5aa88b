"""Cases and their events: open a case, append to it, read what the caller receives."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status

from casestore.api.deps import Reader, Store, Writer
from casestore.api.problems import Problem
from casestore.api.schemas import CaseCreate, EventCreate, EventRecorded, SharedEventPublic
from casestore.application import Author, Recorded, Submission
from casestore.clients import Client

router = APIRouter(prefix="/v1/cases", tags=["cases"])

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="The client's id for this event (or send `event_id` in the body).",
    ),
]
Decrypt = Annotated[
    bool, Query(description="Open the fields (organisations the service hosts only).")
]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in {
        400: "The body is not JSON.",
        401: "No valid bearer token.",
        403: "The caller may not do this.",
        404: "No such case (or none the caller may see).",
        409: "A version, idempotency or process conflict.",
        413: "Request body too large.",
        422: "A field is invalid; `errors` names it.",
        429: "Rate limited; see Retry-After.",
    }.items()
}


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=EventRecorded, responses=ERRORS
)
def open_case(
    body: CaseCreate,
    caller: Writer,
    store: Store,
    response: Response,
    key: IdempotencyHeader = None,
) -> EventRecorded:
    """Open a case with its aanmelding."""
    recorded = store.open_case(_submission(body, caller, key))
    response.headers["Location"] = f"/v1/cases/{recorded.case_id}"
    return _public(recorded)


@router.post(
    "/{case_id}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventRecorded,
    responses=ERRORS,
)
def append_event(
    case_id: UUID,
    body: EventCreate,
    caller: Writer,
    store: Store,
    response: Response,
    key: IdempotencyHeader = None,
) -> EventRecorded:
    """Append an event to an open case the caller's organisation is a member of."""
    recorded = store.append(
        case_id, _submission(body, caller, key), expected_version=body.expected_version
    )
    response.headers["Location"] = f"/v1/cases/{case_id}/events/{recorded.event_id}"
    return _public(recorded)


@router.get("/{case_id}/events", response_model=list[SharedEventPublic], responses=ERRORS)
def read_events(
    case_id: UUID,
    caller: Reader,
    store: Store,
    decrypt: Decrypt = False,
) -> list[dict[str, Any]]:
    """The events of a case the caller's organisation receives, sealed for it."""
    return [e.to_json() for e in store.read_case(caller.org_id, case_id, decrypt=decrypt)]


@router.get("/{case_id}/events/{event_id}", response_model=SharedEventPublic, responses=ERRORS)
def read_event(
    case_id: UUID,
    event_id: str,
    caller: Reader,
    store: Store,
    decrypt: Decrypt = False,
) -> dict[str, Any]:
    """One event of a case, as the caller's organisation receives it."""
    return store.read_event(caller.org_id, case_id, event_id, decrypt=decrypt).to_json()


def _submission(body: CaseCreate, caller: Client, header_key: str | None) -> Submission:
    if header_key is not None and body.event_id is not None and header_key != body.event_id:
        raise Problem(
            422,
            "request-invalid",
            "Invalid request",
            "the Idempotency-Key header and event_id differ; send one, or both equal",
        )
    return Submission(
        event_type=body.type,
        payload=body.payload,
        author=Author(caller.org_id, f"client:{caller.client_id}"),
        occurred_at=body.occurred_at,
        idempotency_key=header_key or body.event_id,
        signature=body.signature,
    )


def _public(recorded: Recorded) -> EventRecorded:
    return EventRecorded(
        case_id=recorded.case_id,
        event_id=recorded.event_id,
        version=recorded.version,
        position=recorded.position,
        replayed=recorded.replayed,
    )
