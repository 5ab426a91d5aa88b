"""`casestore keys …`: an organisation's key generations, from its first through
rotation and confirmation to the signed directory partners pin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from casestore.domain.errors import CaseStoreError
from casestore.entrypoints.cli_base import (
    DemoOption,
    described,
    fail,
    open_services,
    tracking,
)
from casestore.services.keys import KeyManagementError
from sharing.errors import SharingError
from sharing.keys import OrgPublicKeys, format_time

app = typer.Typer(
    help="Organisations' key generations: generate, rotate, confirm, publish.",
    no_args_is_help=True,
)


OrgArgument = Annotated[str, typer.Argument(help="The organisation, as the policy names it.")]
PrivateFileOption = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Where to write the new private key (JSON, mode 0600, never overwritten); "
        "it is never stored by the service. Hand it to the organisation.",
    ),
]
ReconcileOption = Annotated[
    bool,
    typer.Option(
        help="Reconcile every case's grants now (otherwise the worker's next housekeeping "
        "pass does)."
    ),
]


@app.command("generate")
def keys_generate(
    organisation: OrgArgument, out: PrivateFileOption, demo: DemoOption = False
) -> None:
    """Make an organisation's first key generation: the private key to --out, the public
    key into the store, in use at once."""
    services = open_services(demo)
    try:
        made = services.keys.generate(organisation, out)
    except KeyManagementError as exc:
        fail(exc)
    finally:
        services.close()
    typer.echo(f"{generation_line(made.public)}; private key written to {made.private_file}")


@app.command("rotate")
def keys_rotate(
    organisation: OrgArgument,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the new private key (JSON, mode 0600, never overwritten); "
            "it is never stored by the service. Hand it to the organisation. Leave it out "
            "for an organisation the service hosts: its key goes into the service's key "
            "directory, where running processes find it.",
        ),
    ] = None,
    reconcile: ReconcileOption = True,
    demo: DemoOption = False,
) -> None:
    """Make a new key generation. Until the organisation confirms it (`keys confirm`, or
    its own API call), both it and the one before are granted: new events are sealed to
    both, and the case history is re-granted to the new one."""
    services = open_services(demo)
    try:
        made = services.keys.rotate(organisation, out)
        typer.echo(f"{generation_line(made.public)}; private key written to {made.private_file}")
        if reconcile:
            with tracking("granting the history to the new keys") as advance:
                changes = services.grants.reconcile_all(
                    f"key generation {made.public.generation} of {organisation} came into use",
                    progress=advance,
                )
            typer.echo(described(changes))
    except (KeyManagementError, CaseStoreError, SharingError) as exc:
        fail(exc)
    finally:
        services.close()


@app.command("confirm")
def keys_confirm(
    organisation: OrgArgument,
    generation: Annotated[int, typer.Argument(min=1, help="The generation it now holds.")],
    reconcile: ReconcileOption = True,
    demo: DemoOption = False,
) -> None:
    """Record that the organisation holds a generation's private key: every older one is
    retired, and reconciling revokes their grants."""
    services = open_services(demo)
    try:
        record = services.keys.confirm(organisation, generation)
        typer.echo(generation_line(record))
        if reconcile:
            with tracking("revoking the retired keys' grants") as advance:
                changes = services.grants.reconcile_all(
                    f"key generation {generation} of {organisation} confirmed", progress=advance
                )
            typer.echo(described(changes))
    except (KeyManagementError, CaseStoreError, SharingError) as exc:
        fail(exc)
    finally:
        services.close()


@app.command("publish")
def keys_publish(
    organisation: Annotated[
        str | None,
        typer.Argument(help="Also list this organisation's generations on stderr."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the directory here, not to stdout.")
    ] = None,
    demo: DemoOption = False,
) -> None:
    """Print the key directory, signed by the custodian, as `GET /v1/keys` serves it:
    every organisation's generations with their validity."""
    services = open_services(demo)
    try:
        generations = services.keys.of(organisation) if organisation is not None else []
        directory = services.provenance.key_directory(services.store.clock())
    except KeyManagementError as exc:
        fail(exc)
    finally:
        services.close()
    for record in generations:
        typer.echo(generation_line(record), err=True)
    text = json.dumps(directory, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")


@app.command("list")
def keys_list(organisation: OrgArgument, demo: DemoOption = False) -> None:
    """An organisation's key generations and their validity."""
    services = open_services(demo)
    try:
        generations = services.keys.of(organisation)
    except KeyManagementError as exc:
        fail(exc)
    finally:
        services.close()
    for record in generations:
        typer.echo(generation_line(record))
    if not generations:
        typer.echo(f"{organisation} has no keys", err=True)


def generation_line(record: OrgPublicKeys) -> str:
    number = "-" if record.generation is None else str(record.generation)
    if record.retired_at is not None:
        state = f"retired {format_time(record.retired_at)}"
    elif record.confirmed_at is not None:
        state = f"in use, confirmed {format_time(record.confirmed_at)}"
    elif record.generation is None:
        state = "in use (key file)"
    else:
        state = "in use, awaiting confirmation"
    return (
        f"{record.org_id} generation {number}: valid from {format_time(record.valid_from)}, "
        f"{state}; encryption key {record.enc_key_id}, signing key {record.sign_key_id}"
    )
