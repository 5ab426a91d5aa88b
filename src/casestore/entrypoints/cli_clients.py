"""`casestore clients …`: API clients and their bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from casestore.entrypoints.cli_base import (
    DemoOption,
    fail,
    open_services,
)
from casestore.services.clients import ClientError
from sharing.keys import format_time

app = typer.Typer(help="API clients and their bearer tokens.", no_args_is_help=True)


@app.command("add")
def clients_add(
    organisation: Annotated[str, typer.Option("--org", help="The client's organisation.")],
    role: Annotated[
        str, typer.Option(help="partner-system, coordinator, privacy-officer or auditor.")
    ],
    name: Annotated[str, typer.Option(help="Who or what uses the token.")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it expires.")] = 365,
    demo: DemoOption = False,
) -> None:
    """Issue a bearer token; it is printed once and stored only as a hash."""
    services = open_services(demo)
    try:
        issued = services.clients.add(organisation, role, name, timedelta(days=days))
    except ClientError as exc:
        fail(exc)
    finally:
        services.close()
    client = issued.client
    typer.echo(
        f"client {client.client_id} for {client.org_id} as {client.role.value}, "
        f"expires {format_time(client.expires_at)}",
        err=True,
    )
    typer.echo(issued.token)


@app.command("list")
def clients_list(
    organisation: Annotated[str | None, typer.Option("--org", help="Only this one.")] = None,
    demo: DemoOption = False,
) -> None:
    """List clients (never their tokens)."""
    services = open_services(demo)
    try:
        clients = services.clients.list(organisation)
    finally:
        services.close()
    for c in clients:
        state = "revoked" if c.revoked_at else f"expires {format_time(c.expires_at)}"
        typer.echo(f"{c.client_id}  {c.org_id}  {c.role.value}  {c.name!r}  {state}")


@app.command("revoke")
def clients_revoke(
    client_id: Annotated[str, typer.Argument(help="The client id `clients list` shows.")],
    demo: DemoOption = False,
) -> None:
    """Revoke a client's token at once."""
    services = open_services(demo)
    try:
        client = services.clients.revoke(client_id)
    except ClientError as exc:
        fail(exc)
    finally:
        services.close()
    assert client.revoked_at is not None  # noqa: S101 - just revoked
    typer.echo(f"client {client.client_id} revoked at {format_time(client.revoked_at)}")
