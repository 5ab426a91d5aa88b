"""What handlers depend on: the services, the authenticated caller, and its role."""

from __future__ import annotations

import asyncio
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param

from casestore.bootstrap import Services
from casestore.entrypoints.api.problems import forbidden
from casestore.services.audit import (
    ON_BEHALF_OF,
    ON_BEHALF_OF_MAX,
    Actor,
    new_trace_id,
    parse_traceparent,
    set_actor,
)
from casestore.services.case_store import CaseStore
from casestore.services.clients import Client, ClientRole, Unauthenticated
from casestore.services.disclosure import Disclosure

# Dependencies without I/O are `async def`: a plain `def` would cost each request a hop
# through the thread pool per dependency.


def services_of(request: Request) -> Services:
    """The app's services, for handlers that take the request anyway (api/cases.py)."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    return services_of(request)


async def get_store(request: Request) -> CaseStore:
    return services_of(request).store


async def get_disclosure(request: Request) -> Disclosure:
    return services_of(request).disclosure


class Bearer(SecurityBase):
    """The bearer token scheme, as OpenAPI documents it, that also authenticates the
    caller, charges its rate limit and checks its role: in one dependency rather than
    FastAPI's HTTPBearer under a dependency of our own, since every level of dependencies
    costs each request a resolution of its own."""

    def __init__(self, *roles: ClientRole) -> None:
        self.model = HTTPBearerModel(description="A token from `casestore clients add`.")
        self.scheme_name = "HTTPBearer"  # one scheme, however many role sets use it
        self.allowed = frozenset(roles)

    async def __call__(self, request: Request) -> Client:
        caller = await authenticate(request)
        if self.allowed and caller.role not in self.allowed:
            names = ", ".join(sorted(r.value for r in self.allowed))
            raise forbidden(f"the role {caller.role.value} may not do this (allowed: {names})")
        return caller


CALLER_KEY = "casestore.caller"


def bearer_token(request: Request) -> str:
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated()
    return token


async def authenticate(request: Request) -> Client:
    """The client behind the bearer token, after its rate limit is charged (once per
    request, however many dependencies ask). Answered on the event loop when the token
    cache can tell; only a database lookup takes a thread."""
    known: Client | None = request.scope.get(CALLER_KEY)
    if known is not None:
        return known
    token = bearer_token(request)
    clients = services_of(request).clients
    client = clients.authenticate_cached(token)
    if client is None:
        client = await asyncio.to_thread(clients.authenticate, token)
    request.app.state.rate_limiter.take(client.client_id)
    request.scope[CALLER_KEY] = client  # also for the request's log line (api/observe.py)
    structlog.contextvars.bind_contextvars(client=client.client_id, organisation=client.org_id)
    set_actor(actor_of(request, client))
    return client


def actor_of(request: Request, client: Client) -> Actor:
    """Who the audit trail says is acting: the client, its organisation and role, the
    professional the partner system names in `X-On-Behalf-Of`, and the partner's trace
    (W3C `traceparent`) where it sends one."""
    behalf = request.headers.get(ON_BEHALF_OF)
    if behalf is not None:
        behalf = behalf.strip()[:ON_BEHALF_OF_MAX] or None
    parent = parse_traceparent(request.headers.get("traceparent"))
    return Actor(
        client=client.client_id,
        organisation=client.org_id,
        role=client.role.value,
        on_behalf_of=behalf,
        trace_id=parent[0] if parent else new_trace_id(),
        parent_operation_id=parent[1] if parent else None,
    )


def allow(*roles: ClientRole) -> Bearer:
    """A dependency that lets through only clients in one of `roles`."""
    return Bearer(*roles)


ServicesDep = Annotated[Services, Depends(get_services)]
Store = Annotated[CaseStore, Depends(get_store)]
Disclosed = Annotated[Disclosure, Depends(get_disclosure)]
Caller = Annotated[Client, Depends(Bearer())]

WRITERS = (ClientRole.partner_system, ClientRole.coordinator)
READERS = (ClientRole.partner_system, ClientRole.coordinator)
Writer = Annotated[Client, Depends(allow(*WRITERS))]
Reader = Annotated[Client, Depends(allow(*READERS))]
