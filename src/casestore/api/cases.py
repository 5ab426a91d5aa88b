"""Cases and their events: open a case, append to it, read what the caller receives."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status

from casestore.api.deps import Reader, ServicesDep, Store, Writer
from casestore.api.problems import Problem, forbidden, not_found
from casestore.api.schemas import CaseCreate, EventCreate, EventRecorded, SharedEventPublic
from casestore.application import Author, CaseStore, Recorded, Submission
from casestore.clients import Client
from casestore.domain import errors

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
    if body.type != "aanmelding":
        raise errors.OpeningEventRequired(body.type)
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
    try:
        recorded = store.append(
            case_id, _submission(body, caller, key), expected_version=body.expected_version
        )
    except (errors.AuthorNotInNetwork, errors.AuthorNotPermitted):
        _hide_unseen(store, caller, case_id)
        raise
    response.headers["Location"] = f"/v1/cases/{case_id}/events/{recorded.event_id}"
    return _public(recorded)


@router.get("/{case_id}/events", response_model=list[SharedEventPublic], responses=ERRORS)
def read_events(
    case_id: UUID,
    caller: Reader,
    services: ServicesDep,
    decrypt: Annotated[
        bool, Query(description="Open the fields (organisations the service hosts only).")
    ] = False,
) -> list[dict[str, Any]]:
    """The events of a case the caller's organisation receives, sealed for it."""
    _check_decrypt(services.settings.hosted_organisations, caller, decrypt)
    events = services.store.read_case(caller.org_id, case_id, decrypt=decrypt)
    return [e.to_json() for e in events]


@router.get("/{case_id}/events/{event_id}", response_model=SharedEventPublic, responses=ERRORS)
def read_event(
    case_id: UUID,
    event_id: str,
    caller: Reader,
    services: ServicesDep,
    decrypt: bool = False,
) -> dict[str, Any]:
    """One event of a case, as the caller's organisation receives it."""
    _check_decrypt(services.settings.hosted_organisations, caller, decrypt)
    for event in services.store.read_case(caller.org_id, case_id, decrypt=decrypt):
        if event.event_id == event_id:
            return event.to_json()
    raise not_found(f"no event {event_id} in case {case_id} for {caller.org_id}")


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


def _hide_unseen(store: CaseStore, caller: Client, case_id: UUID) -> None:
    """An organisation that never received anything of a case learns nothing about it."""
    if not store.receives_any(caller.org_id, case_id):
        raise errors.CaseNotFound(str(case_id))


def _check_decrypt(hosted: list[str], caller: Client, decrypt: bool) -> None:
    if decrypt and caller.org_id not in hosted:
        raise forbidden(
            f"{caller.org_id} is not hosted by this service: open the sealed fields with "
            "your own private key (sharing.client or `casestore decrypt`)"
        )
