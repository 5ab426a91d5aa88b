"""`casestore grants …`: grants brought in line with the policy and keys, and their history."""

from __future__ import annotations

from typing import Annotated

import typer

from casestore.domain.errors import CaseStoreError
from casestore.entrypoints.cli_base import (
    DemoOption,
    case_uuid,
    described,
    fail,
    open_services,
    tracking,
)
from sharing.errors import SharingError
from sharing.keys import format_time

app = typer.Typer(help="Grants after a policy change or key rotation.", no_args_is_help=True)


@app.command("reconcile")
def grants_reconcile(demo: DemoOption = False) -> None:
    """Re-grant and revoke for every case under the policy and keys now configured."""
    services = open_services(demo)
    try:
        with tracking("reconciling cases") as advance:
            changes = services.grants.reconcile_all(progress=advance)
    except (CaseStoreError, SharingError) as exc:
        fail(exc)
    finally:
        services.close()
    typer.echo(described(changes))


@app.command("history")
def grants_history(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    demo: DemoOption = False,
) -> None:
    """When each grant of a case was given or taken after its event was written, and why."""
    services = open_services(demo)
    try:
        changes = services.grants.history(case_uuid(case_id))
    finally:
        services.close()
    for c in changes:
        typer.echo(
            f"{format_time(c.changed_at)}  v{c.version}  {c.org_id}  key {c.key_id}  "
            f"{c.change}  policy {c.policy_version}  rules {c.rules or '-'}  {c.reason}"
        )
    if not changes:
        typer.echo("no grant changed after its event was written", err=True)
