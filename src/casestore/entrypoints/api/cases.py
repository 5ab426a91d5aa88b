"""Cases and their events: open a case, append to it, read what the caller receives."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic_core import to_json

from casestore.entrypoints.api.deps import Disclosed, Reader, ServicesDep, Writer, services_of
from casestore.entrypoints.api.openapi import errors
from casestore.entrypoints.api.problems import HttpProblem
from casestore.entrypoints.api.schemas import (
    BekendheidPublic,
    CaseCreate,
    EventCreate,
    EventRecorded,
    SharedEventPublic,
)
from casestore.services.case_store import Author, Recorded, Submission
from casestore.services.clients import Client

router = APIRouter(prefix="/v1/cases", tags=["cases"])

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="The client's id for this event (or send `event_id` in the body); for "
        "a signed submission it is the `submission_id` its document names, and required.",
    ),
]
Decrypt = Annotated[
    bool, Query(description="Open the fields (organisations the service hosts only).")
]


# The writes, the API's busiest requests, are `async def` and hand the store call to the
# app's few write threads (api/app.py): a plain `def` handler would go through anyio's
# thread pool, whose hop costs the process about twice the CPU of asyncio's, and which
# runs as many at once as there are requests. They take the store from the request they
# need for that anyway: one dependency fewer to resolve on every write.


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EventRecorded,
    responses=errors(403, 409),
)
async def open_case(
    body: CaseCreate,
    caller: Writer,
    request: Request,
    key: IdempotencyHeader = None,
) -> Response:
    """Open a case with its aanmelding."""
    store = services_of(request).store
    recorded = await _write(request, partial(store.open_case, _submission(body, caller, key)))
    return _created(recorded, f"/v1/cases/{recorded.case_id}")


@router.post(
    "/{case_id}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventRecorded,
    responses=errors(403, 404, 409),
)
async def append_event(
    case_id: UUID,
    body: EventCreate,
    caller: Writer,
    request: Request,
    key: IdempotencyHeader = None,
) -> Response:
    """Append an event to an open case the caller's organisation is a member of.

    Besides the process events, a partner records here the conditions the policy's rules
    may rest on: a `toestemming` of the betrokkene (`ontvangers`, optional
    `gebeurtenistypen`, `regels`, `geldig_tot`; `gegeven_door`, `gegeven_op`; sealed
    `motivering`), its withdrawal `toestemming_ingetrokken` (`toestemming`: the event id),
    and a `conflict_van_plichten` (`ontvangers`, optional `gebeurtenistypen`, `regels`,
    `gebeurtenissen`, `geldig_tot`; sealed `afweging`). Each opens only the recording
    organisation's own events. Once such a record, a withdrawal or a `netwerkwijziging` is
    stored, the case's grants are reconciled before this answer: what a record opens is
    sealed for its recipients from escrow, what rested on a withdrawn one is revoked, a
    joining partner receives its startdossier, a leaving one loses what the policy does not
    let it keep. An `inclusiebesluit` is written only by the procesregie of the case (403
    otherwise). The fields per type: docs/policy.md."""
    store, submission = services_of(request).store, _submission(body, caller, key)
    recorded = await _write(
        request,
        partial(store.append, case_id, submission, expected_version=body.expected_version),
    )
    return _created(recorded, f"/v1/cases/{case_id}/events/{recorded.event_id}")


@router.get("/{case_id}/events", response_model=list[SharedEventPublic], responses=errors(403, 404))
def read_events(
    case_id: UUID,
    caller: Reader,
    disclosure: Disclosed,
    decrypt: Decrypt = False,
) -> Response:
    """The events of a case the caller's organisation receives, sealed for it."""
    events = disclosure.read_case(caller.org_id, case_id, decrypt=decrypt)
    return _as_sent([e.to_json() for e in events])


@router.get(
    "/{case_id}/events/{event_id}", response_model=SharedEventPublic, responses=errors(403, 404)
)
def read_event(
    case_id: UUID,
    event_id: str,
    caller: Reader,
    disclosure: Disclosed,
    decrypt: Decrypt = False,
) -> Response:
    """One event of a case, as the caller's organisation receives it."""
    return _as_sent(
        disclosure.read_event(caller.org_id, case_id, event_id, decrypt=decrypt).to_json()
    )


def _as_sent(body: object) -> Response:
    """Events in their wire form, as signed: the response model documents them, but
    validating them against it would re-spell what the signatures cover (and cost more
    than reading them)."""
    return Response(to_json(body), media_type="application/json")


@router.get("/{case_id}/bekendheid", response_model=BekendheidPublic, responses=errors(404))
def check_bekendheid(case_id: UUID, caller: Reader, services: ServicesDep) -> dict[str, Any]:
    """The bekendheid check of a case's person: custodian (ZVH) only; 404 for anyone else."""
    found = services.bekendheid.check(caller.org_id, case_id)
    return {
        "case_id": found.case_id,
        "lopende_casus": found.lopende_casus,
        "casussen": [vars(c) for c in found.casussen],
        "zelfde_naam_andere_persoon": [vars(c) for c in found.zelfde_naam_andere_persoon],
    }


async def _write(request: Request, call: Callable[[], Recorded]) -> Recorded:
    context = contextvars.copy_context()  # the request's log context, into the write thread
    return await asyncio.get_running_loop().run_in_executor(
        request.app.state.writes, context.run, call
    )


def _submission(body: CaseCreate, caller: Client, header_key: str | None) -> Submission:
    if header_key is not None and body.event_id is not None and header_key != body.event_id:
        raise HttpProblem(
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
        author_document=body.author_document,
        salts=body.salts,
    )


def _created(recorded: Recorded, location: str) -> Response:
    """The 201 answer, serialised here: returned as a model, it would be validated once
    more before FastAPI serialised it (the route's response model documents it)."""
    body = EventRecorded(
        case_id=recorded.case_id,
        event_id=recorded.event_id,
        version=recorded.version,
        position=recorded.position,
        replayed=recorded.replayed,
    )
    return Response(
        body.model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Location": location},
    )
