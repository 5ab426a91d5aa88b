"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> Any:
    """The database answers."""
    store = request.app.state.services.store
    try:
        position = await run_in_threadpool(store.max_position)
    except Exception:  # any failure to reach storage means "not ready"
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Not ready",
                "status": 503,
                "detail": "the database cannot be reached",
            },
            status_code=503,
            media_type="application/problem+json",
        )
    return {"status": "ready", "position": position}
