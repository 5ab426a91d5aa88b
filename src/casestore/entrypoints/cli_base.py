"""What every `casestore` command shares: settings and services built once per command,
progress on stderr, and the one-line failures with the exit codes an operator's script
can act on (`EXIT`)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn
from uuid import UUID

import eventsourcing.persistence
import psycopg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from casestore.adapters.logging import configure as configure_logging
from casestore.bootstrap import Services, build, content_field_names
from casestore.services.grants import GrantChanges
from casestore.settings import Settings, SettingsError
from sharing.errors import SharingError

EXIT = {
    "refused": 1,  # the command ran and was refused: unknown case, not closed, bad input
    "configuration": 2,  # settings, secrets, keys or policy (and usage errors, as click has)
    "database": 3,  # the database cannot be reached, or its schema does not fit
    "tampered": 4,  # `audit verify` found the trail changed
}
UNREACHABLE = (
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)


DemoOption = Annotated[
    bool, typer.Option("--demo", help="Demo mode: generate throwaway secrets under var/.")
]


def load_settings(demo: bool = False, *, verbose: bool = False) -> Settings:
    """The settings, logging configured: a one-shot command logs only warnings, so its
    stderr holds what it says itself; the long-running processes log everything."""
    try:
        settings = Settings(demo=True) if demo else Settings()
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        exit_as("configuration", problems)
    configure_logging(
        settings.log_format,
        logging.INFO if verbose else logging.WARNING,
        content_keys=content_field_names(),
    )
    return settings


def open_services(demo: bool = False, *, verbose: bool = False) -> Services:
    settings = load_settings(demo, verbose=verbose)
    try:
        return build(settings)
    except (SettingsError, SharingError) as exc:  # a policy, key or secret that is not fit
        exit_as("configuration", str(exc))


def _progress() -> Progress:
    """A bar on stderr (stdout stays the command's answer); plain when not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@contextmanager
def tracking(description: str) -> Iterator[Callable[[int, int], None]]:
    """A `(done, total)` callback that moves a progress bar."""
    with _progress() as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def case_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        exit_as("configuration", f"not a case id: {text!r}")


def fail(exc: Exception | str) -> NoReturn:
    exit_as("refused", str(exc))


def exit_as(kind: str, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT[kind])


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def described(changes: GrantChanges) -> str:
    return (
        f"{changes.granted} grants re-sealed, {changes.revoked} revoked; "
        f"access given {changes.access_added}, taken {changes.access_removed}"
    )
