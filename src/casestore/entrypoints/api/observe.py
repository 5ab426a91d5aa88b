"""One structured log line and the request metrics per HTTP request.

Pure ASGI middleware (no extra task per request): the request id (the caller's
`X-Request-ID` if it is a sane one, else a fresh one; echoed in the answer) is bound to
structlog's context for every line the request logs, the write threads' included
(api/cases.py carries the context over). After the answer: the route template (never the
raw path, which holds case ids), status, duration, and the client and organisation the
bearer token named (api/deps.py leaves them in the scope).
"""

from __future__ import annotations

import re
import time
from typing import Any
from uuid import uuid4

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casestore.adapters import metrics
from casestore.entrypoints.api.deps import CALLER_KEY

log = structlog.get_logger("casestore.entrypoints.api.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UNMATCHED = "(unmatched)"


class Observe:
    def __init__(self, app: ASGIApp, *, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid4().hex
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, sending)
            finally:
                self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", UNMATCHED)
        method = scope["method"]
        metrics.REQUESTS.labels(method, template, str(status)).inc()
        metrics.LATENCY.labels(method, template).observe(seconds)
        if not self.access_log:
            return
        caller = scope.get(CALLER_KEY)
        log.info(
            "request",
            request_id=request_id,
            method=method,
            route=template,
            status=status,
            duration_ms=round(seconds * 1000, 2),
            client=getattr(caller, "client_id", None),
            organisation=getattr(caller, "org_id", None),
        )
