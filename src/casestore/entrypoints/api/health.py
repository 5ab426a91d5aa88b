"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from casestore.entrypoints.api.problems import documented, problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=None, responses={503: documented("The database cannot be reached.")}
)
async def readyz(request: Request) -> Any:
    """The database answers."""
    store = request.app.state.services.store
    try:
        position = await run_in_threadpool(store.max_position)
    except Exception:  # any failure to reach storage means "not ready"
        return problem_response(request, 503, None, "Not ready", "the database cannot be reached")
    return {"status": "ready", "position": position}
