"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from casestore.api import health
from casestore.bootstrap import Services


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services
        yield
        services.close()

    app = FastAPI(
        title="casestore",
        summary="One case record per person in the levensloopaanpak, shared as policy allows.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    return app
