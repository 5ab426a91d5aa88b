"""Errors as RFC 9457 problem details: one table from error class to status and type.

Handlers never build error responses themselves; they let the application's errors
propagate and this module turns each into `application/problem+json`. Messages of our
own errors are written to be safe to show (they never carry payload content). Every body,
including those of the middleware that answers before FastAPI does, comes from `problem`,
so each carries the members the published `ProblemDetails` schema requires (api/openapi.py
publishes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from casestore.adapters import metrics
from casestore.domain import errors
from casestore.services import policy_versions as proposals
from casestore.services.clients import ClientError, Unauthenticated
from casestore.services.webhooks.errors import SubscriptionInvalid, SubscriptionNotFound
from sharing.errors import (
    DecryptionFailed,
    KeyNotFound,
    PolicyError,
    SharingError,
    SignatureInvalid,
    UnknownOrganisation,
)

MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_UNAVAILABLE = 2  # seconds; the pool's first reconnection comes after about 1
TYPE_BASE = "https://casestore.example/problems/"
log = structlog.get_logger("casestore.entrypoints.api")


class HttpProblem(Exception):
    """An error the HTTP edge itself raises (authentication, roles, limits)."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}


def forbidden(detail: str) -> HttpProblem:
    return HttpProblem(403, "forbidden", "Forbidden", detail)


@dataclass(frozen=True)
class Kind:
    status: int
    slug: str
    title: str


# Most specific first: the first class an error is an instance of decides.
KINDS: tuple[tuple[type[Exception], Kind], ...] = (
    (errors.PayloadInvalid, Kind(422, "payload-invalid", "Invalid payload")),
    (errors.UnknownEventType, Kind(422, "unknown-event-type", "Unknown event type")),
    (errors.InvalidBsn, Kind(422, "payload-invalid", "Invalid payload")),
    (errors.CaseNotFound, Kind(404, "not-found", "Not found")),
    (SubscriptionNotFound, Kind(404, "not-found", "Not found")),
    (SubscriptionInvalid, Kind(422, "request-invalid", "Invalid request")),
    (errors.AuthorNotInNetwork, Kind(403, "not-in-network", "Not in the case network")),
    (errors.AuthorNotPermitted, Kind(403, "author-not-permitted", "Not permitted to write")),
    (errors.NotHosted, Kind(403, "forbidden", "Forbidden")),
    (errors.ViewNotAllowed, Kind(403, "forbidden", "Forbidden")),
    (errors.VersionConflict, Kind(409, "version-conflict", "Version conflict")),
    (errors.IdempotencyConflict, Kind(409, "idempotency-conflict", "Idempotency conflict")),
    (errors.CaseBusy, Kind(503, "case-busy", "Case busy")),
    (errors.PersonHasOpenCase, Kind(409, "person-has-open-case", "Person has an open case")),
    (errors.CaseStillOpen, Kind(409, "case-still-open", "Case still open")),
    (errors.ProcessViolation, Kind(409, "process-violation", "Not allowed by the process")),
    (errors.CaseHeld, Kind(409, "legal-hold", "Under a legal hold")),
    (SignatureInvalid, Kind(422, "signature-invalid", "Signature invalid")),
    (DecryptionFailed, Kind(422, "decryption-failed", "Decryption failed")),
    (UnknownOrganisation, Kind(403, "unknown-organisation", "Unknown organisation")),
    (KeyNotFound, Kind(403, "key-not-found", "No key")),
    (PolicyError, Kind(422, "policy-error", "Policy error")),
    (SharingError, Kind(422, "sharing-error", "Sharing error")),
    (Unauthenticated, Kind(401, "unauthenticated", "Unauthenticated")),
    (ClientError, Kind(422, "client-error", "Client error")),
    (errors.CaseStoreError, Kind(422, "invalid-request", "Invalid request")),
    (proposals.NotFound, Kind(404, "not-found", "Not found")),
    (proposals.StaleBase, Kind(409, "stale-base-version", "Base version not in force")),
    (proposals.AlreadyDecided, Kind(409, "already-decided", "Already decided")),
    (proposals.FourEyes, Kind(403, "four-eyes", "Four eyes required")),
    (proposals.ProposalError, Kind(422, "proposal-invalid", "Invalid proposal")),
)


def problem(
    status: int, slug: str | None, title: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    """The body of every problem answer. A problem without a slug has no type of its own
    (`about:blank`, RFC 9457 §4.2.1): its status code says what it is."""
    return {
        "type": TYPE_BASE + slug if slug is not None else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def problem_response(
    request: Request,
    status: int,
    slug: str | None,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem(status, slug, title, detail, request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def kind_of(exc: Exception) -> Kind:
    return next(kind for cls, kind in KINDS if isinstance(exc, cls))


POLICY_REFUSALS = (errors.AuthorNotPermitted, errors.AuthorNotInNetwork, errors.NotHosted)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    kind = kind_of(exc)
    if isinstance(exc, POLICY_REFUSALS):
        metrics.POLICY_DENIALS.labels(kind.slug).inc()
    extra: dict[str, Any] = {}
    headers = None
    if isinstance(exc, errors.PayloadInvalid):
        extra["errors"] = [{"field": p.field, "message": p.message} for p in exc.problems]
    elif isinstance(exc, errors.InvalidBsn):
        extra["errors"] = [{"field": "bsn", "message": str(exc)}]
    elif isinstance(exc, SubscriptionInvalid):
        extra["errors"] = [{"field": exc.field, "message": exc.message}]
    elif isinstance(exc, errors.VersionConflict):
        extra["current_version"] = exc.actual
    elif isinstance(exc, errors.PersonHasOpenCase):
        extra["case_id"] = exc.case_id
    elif isinstance(exc, errors.CaseBusy):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    return problem_response(request, kind.status, kind.slug, kind.title, str(exc), headers, **extra)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HttpProblem)  # noqa: S101 - registered for HttpProblem only
    return problem_response(request, exc.status, exc.slug, exc.title, exc.detail, exc.headers)


def _not_json(exc: RequestValidationError) -> str | None:
    """Why the body is not JSON at all, if that is the trouble (400, not a field's 422)."""
    for error in exc.errors():
        at_body = tuple(error["loc"]) == ("body",)
        if error["type"] == "json_invalid":
            return f"the body is not JSON: {error.get('ctx', {}).get('error', 'cannot parse')}"
        if at_body and error["type"] == "missing":
            return "the body is empty: send a JSON object"
        if at_body and isinstance(error.get("input"), bytes):
            return "the body is not JSON: send it as application/json"
    return None


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    not_json = _not_json(exc)
    if not_json is not None:
        return problem_response(request, 400, "body-not-json", "Bad request", not_json)
    problems = [
        {
            "field": ".".join(str(part) for part in e["loc"] if part != "body"),
            "message": e["msg"],
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return problem_response(
        request, 422, "request-invalid", "Invalid request", detail, errors=problems
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    title = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        413: "Request too large",
    }.get(exc.status_code, "HTTP error")
    slug = title.lower().replace(" ", "-")
    detail = str(exc.detail)
    if exc.status_code == 400:
        # FastAPI's only 400: a JSON body that is not even text (bytes JSON cannot decode).
        slug, detail = "body-not-json", "the body is not JSON: it is not valid UTF-8 text"
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, exc.status_code, slug, title, detail, headers)


async def _storage(request: Request, exc: Exception) -> JSONResponse:
    """A database that cannot serve now is the service's trouble, told as such (503) so
    that the caller comes back; any other storage error is a bug (500)."""
    if not request.app.state.services.database_unavailable(exc):
        return await _unexpected(request, exc)
    log.warning("database unavailable", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        request,
        503,
        "database-unavailable",
        "Service unavailable",
        "the database cannot serve this request now; try again (a write with the same "
        "Idempotency-Key, which makes the retry safe)",
        {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The message may hold anything: log the class only and answer generically.
    log.error("unhandled error", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        request, 500, "internal", "Internal error", "the request could not be completed"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(HttpProblem, _problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    for cls in (errors.CaseStoreError, SharingError, ClientError, proposals.ProposalError):
        app.add_exception_handler(cls, _domain)
    app.add_exception_handler(PersistenceError, _storage)
    app.add_exception_handler(Exception, _unexpected)
