"""`casestore db …`: the schema's migrations and where it stands."""

from __future__ import annotations

import typer

from casestore.bootstrap import open_schema
from casestore.entrypoints.cli_base import (
    DemoOption,
    load_settings,
    tracking,
)

app = typer.Typer(help="The database schema: migrations and their status.", no_args_is_help=True)


@app.command("migrate")
def db_migrate(demo: DemoOption = False) -> None:
    """Apply the pending schema migrations (several processes may run it at once)."""
    with open_schema(load_settings(demo, verbose=True)) as schema, tracking("migrating") as advance:
        pending = schema.status().pending
        for done, migration in enumerate(pending, start=1):
            schema.migrate(upto=migration.version)
            advance(done, len(pending))
        status = schema.check()
    typer.echo(f"schema at version {status.version} ({len(pending)} migrations applied)")


@app.command("status")
def db_status(demo: DemoOption = False) -> None:
    """Where the database's schema stands; exit code 3 when this casestore cannot serve it."""
    with open_schema(load_settings(demo)) as schema:
        status = schema.status()
    typer.echo(status.describe() + (" (a store from before migrations)" if status.legacy else ""))
    status.check()
