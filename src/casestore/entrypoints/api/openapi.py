"""The OpenAPI document as partners read it: every operation named, the problem+json
schema published, and per route only the errors it can return.

A route declares the errors of what it does (`errors(409, …)`: conflicts, policy
refusals, unknown ids); those of how it is reached are derived here from the route
itself, so they cannot drift from it: a bearer token (401, and 429 from its rate limit),
a role set (403), a body (400, 413, 422), parameters (422), an id in the path (404).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.constants import REF_PREFIX
from fastapi.routing import APIRoute

from casestore.entrypoints.api import event_bodies
from casestore.entrypoints.api.deps import Bearer
from casestore.entrypoints.api.problems import MEDIA_TYPE
from casestore.entrypoints.api.schemas import ProblemDetails

DESCRIPTIONS = {
    400: "The body is not JSON.",
    401: "No valid bearer token.",
    403: "The caller's role, organisation or the policy does not allow this.",
    404: "No such resource (or none the caller may see).",
    409: "A version, idempotency or process conflict.",
    413: "Request body too large.",
    422: "A field is invalid; `errors` names it.",
    429: "Rate limited; see Retry-After.",
    503: "The database cannot serve now, or the case is too busy: retry after Retry-After.",
}


def documented(status: int, description: str | None = None) -> dict[str, Any]:
    """An error response as the OpenAPI document describes it."""
    schema = {"$ref": REF_PREFIX + ProblemDetails.__name__}
    return {
        "description": description or DESCRIPTIONS[status],
        "content": {MEDIA_TYPE: {"schema": schema}},
    }


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The errors a route declares for what it does (`responses=` of a route)."""
    return {status: documented(status) for status in statuses}


def operation_id(route: APIRoute) -> str:
    """The handler's name: stable, readable, and what generated clients call it."""
    return route.name


def derived(route: APIRoute) -> set[int]:
    """The errors that follow from how the route is reached."""
    found: set[int] = set()
    dependant = route.dependant
    bearers = [d.call for d in _walk(dependant) if isinstance(d.call, Bearer)]
    if bearers:
        found |= {401, 429, 503}  # a caller's token is looked up in the database
        if any(b.allowed for b in bearers):
            found.add(403)
    if route.body_field is not None:
        found |= {400, 413, 422}
    if dependant.path_params or dependant.query_params or dependant.header_params:
        found.add(422)
    if dependant.path_params:
        found.add(404)
    return found


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Extend the document FastAPI generates (it keeps it as app.openapi_schema) for the
    routes of `routers`, the ones the app includes."""
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schema = ProblemDetails.model_json_schema(ref_template=REF_PREFIX + "{model}")
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(schema.pop("$defs", {}))
        schemas[ProblemDetails.__name__] = schema
        event_bodies.install(document)
        for route in routes:
            if not route.include_in_schema:
                continue
            for method in route.methods or ():
                operation = document["paths"][route.path_format][method.lower()]
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)  # FastAPI's own, in its own shape
                declared = {int(s) for s in route.responses if int(s) >= 400}
                for status in sorted(derived(route) | declared):
                    responses.setdefault(str(status), documented(status))
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend it
