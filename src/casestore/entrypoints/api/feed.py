"""The organisation's feed: every event it receives, across cases, in global order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic_core import to_json

from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.deps import Disclosed, Reader
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
