"""`casestore epochs …`: the epochs case keys are wrapped under."""

from __future__ import annotations

from typing import Annotated

import typer

from casestore.adapters.epochs import EpochError
from casestore.domain.errors import CaseStoreError
from casestore.entrypoints.cli_base import (
    DemoOption,
    fail,
    open_services,
    tracking,
)
from sharing.errors import SharingError
from sharing.keys import format_time

app = typer.Typer(
    help="The epochs case keys are wrapped under: rotate, list, destroy retired ones.",
    no_args_is_help=True,
)


@app.command("rotate")
def epochs_rotate(demo: DemoOption = False) -> None:
    """Start a new case-key epoch and re-wrap every case key under it; the old epoch is
    retired, to be destroyed once the backups that need it have aged out."""
    services = open_services(demo)
    try:
        with tracking("re-wrapping case keys") as advance:
            rotation = services.key_epochs.rotate(advance)
    except (EpochError, CaseStoreError, SharingError) as exc:
        fail(exc)
    finally:
        services.close()
    typer.echo(f"epoch {rotation.epoch} current; {rotation.rewrapped} case key(s) re-wrapped")


@app.command("list")
def epochs_list(demo: DemoOption = False) -> None:
    """Every epoch whose key exists, and when each was retired."""
    services = open_services(demo)
    try:
        epochs = services.sealer.epochs
        current = epochs.numbers()[-1]
        for number in epochs.numbers():
            retired = epochs.retired_at(number)
            state = "current" if number == current else "retired"
            when = f" {format_time(retired)}" if retired is not None else ""
            typer.echo(f"{number}  {state}{when}")
    finally:
        services.close()


@app.command("destroy")
def epochs_destroy(
    epoch: Annotated[int, typer.Argument(help="A retired epoch.")],
    demo: DemoOption = False,
) -> None:
    """Destroy a retired epoch's key once the backup retention has passed since it was
    retired: backups from before then can no longer be opened."""
    services = open_services(demo)
    try:
        rewrapped = services.key_epochs.destroy(epoch)
    except (EpochError, CaseStoreError, SharingError) as exc:
        fail(exc)
    finally:
        services.close()
    typer.echo(f"epoch {epoch} destroyed ({rewrapped} late case key(s) re-wrapped first)")
