"""FastAPI application factory: routers, problem handlers and limits, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib.metadata import version as package_version

from fastapi import FastAPI

from casestore.adapters.live_streams import LiveStreams
from casestore.bootstrap import Services
from casestore.entrypoints.api import (
    audit,
    cases,
    docs,
    feed,
    health,
    keys,
    meetings,
    openapi,
    policy,
    problems,
    retention,
    stream,
    timeline,
    worklist,
)
from casestore.entrypoints.api.docs import SecurityHeaders
from casestore.entrypoints.api.limits import BodyLimit, RateLimiter
from casestore.entrypoints.api.observe import Observe
from casestore.entrypoints.api.subscriptions import router as subscriptions_router
from casestore.entrypoints.web import install as install_pages
from casestore.services.clients import ClientCache
from casestore.services.webhooks.worker import Worker

DESCRIPTION = """\
The partner API of casestore. Every request carries a bearer token issued with
`casestore clients add`; the token's organisation and role decide what an endpoint allows,
and the region's policy decides which content reaches the organisation (sealed for it).
Errors are RFC 9457 problem details.

Every processing of case data is recorded in the audit trail (`GET /v1/audit`). A partner
system should send `X-On-Behalf-Of` naming the professional it acts for (an employee
number or role, up to 200 characters), and may send a W3C `traceparent`: its trace id is
recorded with the request's entries and passed on in the webhooks that follow from it.
"""
WRITE_THREADS = 3
"""Threads for the writes (api/cases.py). Saves take turns at the events table's lock, so
a few threads keep it busy; more only take turns at the GIL with the event loop and one
another, which costs every write more CPU (a quarter more and worse with forty)."""


def create_app(services: Services, worker: Worker | None = None) -> FastAPI:
    """The API app; `worker`, where this process also delivers webhooks, is part of its
    readiness."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.writes = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="casestore-write")
        services.clients.use_cache(app.state.tokens)
        services.clients.use_streams(app.state.streams)
        app.state.wakeup.start()
        yield
        app.state.wakeup.stop()
        services.clients.use_streams(None)
        services.clients.use_cache(None)
        app.state.writes.shutdown()
        services.close()

    app = FastAPI(
        title="casestore",
        summary="One case record per person in the levensloopaanpak, shared as policy allows.",
        description=DESCRIPTION,
        version=package_version("casestore"),
        lifespan=lifespan,
        docs_url=None,  # served by api/docs.py, without any CDN
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
    )
    settings = services.settings
    app.state.services = services
    app.state.worker = worker
    # Clients are cached only where a listener keeps the cache honest (PostgreSQL): there
    # a request's bearer token costs no database round trip.
    app.state.tokens = ClientCache() if services.clients.broadcasts_revocations else None
    # Live feeds await the wakeup (api/stream.py); on PostgreSQL it also feeds the cache
    # and ends the live streams of every client revoked.
    app.state.streams = LiveStreams()
    app.state.wakeup = services.wakeup(app.state.tokens, app.state.streams.end)
    app.state.rate_limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Observe, access_log=settings.access_log)  # outermost: sees every answer
    problems.install(app)
    routers = [
        m.router
        for m in (
            health,
            docs,
            cases,
            feed,
            stream,
            policy,
            keys,
            audit,
            retention,
            timeline,
            worklist,
            meetings,
        )
    ]
    routers.append(subscriptions_router)
    for router in routers:
        app.include_router(router)
    openapi.install(app, routers)
    install_pages(app)
    return app
