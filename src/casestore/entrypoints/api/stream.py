"""The organisation's feed, live: Server-Sent Events from a position on, as events commit.

The stream is the catch-up feed read in a loop: read after the last position sent, send
what came back, then wait for the process's wakeup (casestore.adapters.wakeup) or a few seconds,
and read again. Correctness rests on the reads (positions commit in order), never on the
wakeup, so a notification lost between processes only delays an event. A read that finds
the database away is tried again after the same wait: the stream stays open through a
database restart and goes on from where it was.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Depends, Header, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from casestore.adapters.wakeup import Wakeup
from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.cases import ERRORS
from casestore.entrypoints.api.deps import Disclosed, Reader, ServicesDep
from casestore.entrypoints.api.feed import After
from casestore.services.disclosure import Disclosure, SharedEvent

router = APIRouter(prefix="/v1/feed", tags=["feed"])
log = structlog.get_logger("casestore.entrypoints.api")

EVENT_NAME = "case-event"  # one name for every type: a client needs one listener
PAGE = 200
RECHECK_SECONDS = 5.0  # read again even without a wakeup
PING_SECONDS = 15
SEND_TIMEOUT_SECONDS = 30.0  # a client that stops reading is let go
SHUTDOWN_GRACE_SECONDS = 2.0  # on shutdown, streams end with a proper end of body

LastEventId = Annotated[
    int | None,
    Header(
        alias="Last-Event-ID",
        ge=0,
        le=MAX_JSON_INTEGER,
        description="The id (position) of the last event received; wins over `after`.",
    ),
]
STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: one `case-event` per event, `id` its position, "
        "`data` a feed item (JSON); comment lines keep the connection alive.",
        "content": {"text/event-stream": {}},
    },
    **ERRORS,
}


def get_wakeup(request: Request) -> Wakeup:
    wakeup: Wakeup = request.app.state.wakeup
    return wakeup


@router.get("/stream", response_class=EventSourceResponse, responses=STREAM)
async def stream_feed(
    caller: Reader,
    disclosure: Disclosed,
    services: ServicesDep,
    wakeup: Annotated[Wakeup, Depends(get_wakeup)],
    after: After = 0,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    """The caller's feed as Server-Sent Events, live, resuming after Last-Event-ID or `after`.

    Each event is named `case-event` (whatever its type; the type is in the data), its
    `id` is the event's position and its `data` one item as `GET /v1/feed` returns it,
    in position order, each once. A reconnecting client sends the last id as
    `Last-Event-ID` (browsers do) and misses nothing. Comment lines every 15 s keep the
    connection open through proxies. The stream ends when the server shuts down.
    """
    start = last_event_id if last_event_id is not None else after
    shutdown = anyio.Event()  # set by sse-starlette when the server is asked to exit
    feed = _Feed(disclosure, caller.org_id, services.database_unavailable)
    return EventSourceResponse(
        _events(feed, start, wakeup, shutdown),
        ping=PING_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )


@dataclass(frozen=True)
class _Feed:
    """One organisation's feed, read a page at a time; empty while the database is away."""

    disclosure: Disclosure
    org_id: str
    unavailable: Callable[[BaseException], bool]

    async def after(self, position: int) -> list[SharedEvent]:
        try:
            return await run_in_threadpool(self.disclosure.feed, self.org_id, position, PAGE)
        except Exception as exc:
            if not self.unavailable(exc):
                raise
            log.warning("live feed waits for the database", error=type(exc).__name__)
            return []


async def _events(
    feed: _Feed,
    position: int,
    wakeup: Wakeup,
    shutdown: anyio.Event,
) -> AsyncIterator[ServerSentEvent]:
    """Every event the organisation receives after `position`, in order, until the server
    stops. (A client's disconnect cancels it from outside.)"""
    while not (wakeup.stopped or shutdown.is_set()):
        seen = wakeup.generation  # before reading: a wakeup during the read is not lost
        batch = await feed.after(position)
        for event in batch:
            data = json.dumps(event.to_json(), separators=(",", ":"))
            yield ServerSentEvent(data=data, id=str(event.position), event=EVENT_NAME)
            position = event.position
        if len(batch) < PAGE:
            await _until_news(wakeup, seen, shutdown)


async def _until_news(wakeup: Wakeup, seen: int, shutdown: anyio.Event) -> None:
    """Until a wakeup after `seen`, the time to read again anyway, or shutdown."""
    async with anyio.create_task_group() as group:

        async def on_shutdown() -> None:
            await shutdown.wait()
            group.cancel_scope.cancel()

        group.start_soon(on_shutdown)
        await wakeup.wait(seen, RECHECK_SECONDS)
        group.cancel_scope.cancel()
