"""What handlers depend on: the services, the authenticated caller, and its role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from casestore.api.problems import forbidden
from casestore.application import CaseStore
from casestore.bootstrap import Services
from casestore.clients import Client, Role, Unauthenticated

bearer = HTTPBearer(auto_error=False, description="A token from `casestore clients add`.")


# Dependencies without I/O are `async def`: a plain `def` would cost each request a hop
# through the thread pool per dependency.


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_store(request: Request) -> CaseStore:
    services: Services = request.app.state.services
    return services.store


def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Client:
    """The client behind the bearer token, after its rate limit is charged."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated()
    services: Services = request.app.state.services
    client = services.clients.authenticate(credentials.credentials)
    request.app.state.rate_limiter.take(client.client_id)
    return client


ServicesDep = Annotated[Services, Depends(get_services)]
Store = Annotated[CaseStore, Depends(get_store)]
Caller = Annotated[Client, Depends(get_caller)]


def allow(*roles: Role) -> Callable[[Client], Awaitable[Client]]:
    """A dependency that lets through only clients in one of `roles`."""
    allowed = frozenset(roles)

    async def check(caller: Caller) -> Client:
        if caller.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise forbidden(f"the role {caller.role.value} may not do this (allowed: {names})")
        return caller

    return check


WRITERS = (Role.partner_system, Role.coordinator)
READERS = (Role.partner_system, Role.coordinator)
Writer = Annotated[Client, Depends(allow(*WRITERS))]
Reader = Annotated[Client, Depends(allow(*READERS))]
