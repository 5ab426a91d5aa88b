"""The organisation's feed: every event it receives, across cases, in global order."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic_core import to_json

from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.deps import Disclosed, Reader, ServicesDep
from casestore.entrypoints.api.schemas import FeedPage

router = APIRouter(prefix="/v1/feed", tags=["feed"])

After = Annotated[
    int,
    Query(ge=0, le=MAX_JSON_INTEGER, description="The last position the caller has seen."),
]


@router.get("", response_model=FeedPage)
def read_feed(
    caller: Reader,
    disclosure: Disclosed,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The next page of events the caller's organisation receives after a position."""
    events = disclosure.feed(caller.org_id, after, limit)
    # Built as JSON directly: the items are already in their wire form, and validating
    # them again would cost more than reading them (the response model documents them).
    body = {
        "items": [e.to_json() for e in events],
        "next_after": events[-1].position if events else after,
    }
    return Response(to_json(body), media_type="application/json")


@router.get("/notices")
def read_notices(
    caller: Reader,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_JSON_INTEGER,
            description="The last notice `seq` seen: the notices after it, oldest first.",
        ),
    ] = None,
) -> dict[str, Any]:
    """Events behind the caller's feed position of which it was newly granted fields (or
    the event itself) by a policy change, newest first (or, with `after`, the notices
    numbered after that `seq`, oldest first: what a live stream or webhook receiver missed
    while away): re-read each (`GET /v1/cases/{case_id}/events/{event_id}`) instead of the
    feed from position 0. The same notices come on the live stream as `policy-notice`
    events and to webhook receivers as `nl.levensloop.policy.notice` deliveries."""
    table = services.policy.table
    notices = (
        table.notices(caller.org_id, limit)
        if after is None
        else table.notices_after(caller.org_id, after, limit)
    )
    return {"items": [n.to_json() for n in notices]}
