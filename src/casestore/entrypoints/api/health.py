"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from casestore.entrypoints.api.openapi import documented
from casestore.entrypoints.api.problems import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={503: documented(503, "Not ready: the database, its schema or the delivery loop.")},
)
async def readyz(request: Request) -> Any:
    """The database answers with a schema this process serves (and, where this process
    delivers webhooks, its loop runs). Nothing else: no figure of the region's records."""
    reason = await run_in_threadpool(not_ready, request)
    if reason is not None:
        return problem_response(request, 503, None, "Not ready", reason)
    return {"status": "ready"}


def not_ready(request: Request) -> str | None:
    reason: str | None = request.app.state.services.not_ready()
    worker = request.app.state.worker
    if reason is None and worker is not None and worker.stalled():
        reason = "the delivery worker's loop has stalled"
    return reason
