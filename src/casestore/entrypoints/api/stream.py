"""The organisation's feed, live: Server-Sent Events from a position on, as events commit.

The stream is the catch-up feed read in a loop: read after the last position sent, send
what came back, then wait for the process's wakeup (casestore.adapters.wakeup) or a few seconds,
and read again. Correctness rests on the reads (positions commit in order), never on the
wakeup, so a notification lost between processes only delays an event. A read that finds
the database away is tried again after the same wait: the stream stays open through a
database restart and goes on from where it was.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from casestore.adapters import metrics
from casestore.adapters.live_streams import Ending, LiveStreams
from casestore.adapters.persistence.policy_table import Notice, PolicyTable
from casestore.adapters.wakeup import Wakeup
from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.deps import Disclosed, Reader, ServicesDep, bearer_token
from casestore.entrypoints.api.feed import After
from casestore.services.audit import STREAM_DELIVERED
from casestore.services.clients import Client, Clients, Unauthenticated
from casestore.services.disclosure import Disclosure, SharedEvent

router = APIRouter(prefix="/v1/feed", tags=["feed"])
log = structlog.get_logger("casestore.entrypoints.api")

EVENT_NAME = "case-event"  # one name for every type: a client needs one listener
NOTICE_NAME = "policy-notice"  # fields newly granted on an event behind the position
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
        "`data` a feed item (JSON); one `policy-notice` (no `id`) per notice of fields newly "
        "granted on an event behind the position, `data` a notice as `GET /v1/feed/notices` "
        "returns it; comment lines keep the connection alive.",
        "content": {"text/event-stream": {}},
    },
}


def get_wakeup(request: Request) -> Wakeup:
    wakeup: Wakeup = request.app.state.wakeup
    return wakeup


@router.get("/stream", response_class=EventSourceResponse, responses=STREAM)
async def stream_feed(
    request: Request,
    caller: Reader,
    disclosure: Disclosed,
    services: ServicesDep,
    wakeup: Annotated[Wakeup, Depends(get_wakeup)],
    after: After = 0,
    last_event_id: LastEventId = None,
    notices_after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_JSON_INTEGER,
            description="The `seq` of the last `policy-notice` received (default: only "
            "notices made from now on).",
        ),
    ] = None,
) -> EventSourceResponse:
    """The caller's feed as Server-Sent Events, live, resuming after Last-Event-ID or `after`.

    Each event is named `case-event` (whatever its type; the type is in the data), its
    `id` is the event's position and its `data` one item as `GET /v1/feed` returns it,
    in position order, each once. A reconnecting client sends the last id as
    `Last-Event-ID` (browsers do) and misses nothing. A policy change that newly grants
    the caller fields of events behind its position is told as `policy-notice` events
    (data: a notice as `GET /v1/feed/notices` returns it, with its `seq`; no `id`, so the
    last event id stays the feed position): pass the last `seq` as `notices_after` when
    reconnecting to miss none. Comment lines every 15 s keep the connection open through
    proxies. The stream ends when the server shuts down, and
    when the caller's token is revoked or expires.
    """
    start = last_event_id if last_event_id is not None else after
    shutdown = anyio.Event()  # set by sse-starlette when the server is asked to exit
    streams: LiveStreams = request.app.state.streams
    session = _Session(
        disclosure,
        services.policy.table,
        services.clients,
        bearer_token(request),
        caller,
        services.database_unavailable,
    )
    if notices_after is None:
        notices_after = await run_in_threadpool(services.policy.table.last_notice, caller.org_id)
    return EventSourceResponse(
        _events(session, streams, start, notices_after, wakeup, shutdown),
        ping=PING_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )


@dataclass(frozen=True)
class _Session:
    """One client's stream: its feed, read a page at a time, and whether it may still be
    sent. A page is empty while the database is away; None once the client is revoked or
    expired (the stream then ends)."""

    disclosure: Disclosure
    notices: PolicyTable
    clients: Clients
    token: str
    caller: Client
    unavailable: Callable[[BaseException], bool]

    async def after(
        self, position: int, notice: int, ending: Ending
    ) -> tuple[list[SharedEvent], list[Notice]] | None:
        org_id = self.caller.org_id
        try:
            batch = await run_in_threadpool(
                partial(self.disclosure.feed, org_id, position, PAGE, audit_as=STREAM_DELIVERED)
            )
            notices = await run_in_threadpool(self.notices.notices_after, org_id, notice, PAGE)
            # Checked after the read: an event committed after the revocation was read
            # after it too, so this check sees the revocation (or the revoked cache entry).
            if ending.ended or not await self._still_authorised():
                return None
        except Exception as exc:
            if not self.unavailable(exc):
                raise
            log.warning("live feed waits for the database", error=type(exc).__name__)
            return [], []
        return batch, notices

    async def _still_authorised(self) -> bool:
        try:
            client = self.clients.authenticate_cached(self.token)
            if client is None:
                client = await asyncio.to_thread(self.clients.authenticate, self.token)
        except Unauthenticated:
            return False
        return client.client_id == self.caller.client_id

    def seconds_left(self) -> float:
        """Until the token expires, by the clients' clock."""
        return (self.caller.expires_at - self.clients.now()).total_seconds()


async def _events(
    session: _Session,
    streams: LiveStreams,
    position: int,
    notice: int,
    wakeup: Wakeup,
    shutdown: anyio.Event,
) -> AsyncIterator[ServerSentEvent]:
    """Every event the organisation receives after `position`, and every notice after
    `notice`, in order, until the server stops or the client may no longer read. (A
    client's disconnect cancels it from outside.)"""
    ending = streams.open(session.caller.client_id)  # a revocation ends it from outside
    metrics.SSE_CLIENTS.inc()
    try:
        while not (wakeup.stopped or shutdown.is_set() or ending.ended):
            seen = wakeup.generation  # before reading: a wakeup during the read is not lost
            read = await session.after(position, notice, ending)
            if read is None:
                log.info(
                    "live feed ended: client revoked or expired", client=session.caller.client_id
                )
                return
            batch, notices = read
            for event in batch:
                data = json.dumps(event.to_json(), separators=(",", ":"))
                yield ServerSentEvent(data=data, id=str(event.position), event=EVENT_NAME)
                position = event.position
            for told in notices:
                data = json.dumps(told.to_json(), separators=(",", ":"))
                yield ServerSentEvent(data=data, event=NOTICE_NAME)
                notice = told.seq
            if len(batch) < PAGE and len(notices) < PAGE:
                wait = max(0.0, min(RECHECK_SECONDS, session.seconds_left()))
                await _until_news(wakeup, seen, shutdown, ending, wait)
    finally:
        metrics.SSE_CLIENTS.dec()
        streams.close(ending)


async def _until_news(
    wakeup: Wakeup, seen: int, shutdown: anyio.Event, ending: Ending, timeout: float
) -> None:
    """Until a wakeup after `seen`, `timeout` seconds (the time to read again anyway, or
    the token's expiry), shutdown, or the client's revocation."""
    async with anyio.create_task_group() as group:

        async def on_event(event: Callable[[], Awaitable[Any]]) -> None:
            await event()
            group.cancel_scope.cancel()

        group.start_soon(on_event, shutdown.wait)
        group.start_soon(on_event, ending.wait)
        await wakeup.wait(seen, timeout)
        group.cancel_scope.cancel()
