"""The `casestore` command line: thin commands over the composition root."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from casestore import demo as demo_data
from casestore.application import Recorded
from casestore.bootstrap import Services, build
from casestore.domain.errors import CaseStoreError
from casestore.keyring import demo_signers
from casestore.logging import configure as configure_logging
from casestore.settings import Settings, SettingsError

app = typer.Typer(help="casestore: the levensloop case record.", no_args_is_help=True)
db_app = typer.Typer(help="Database housekeeping.", no_args_is_help=True)
app.add_typer(db_app, name="db")

DemoOption = Annotated[
    bool, typer.Option("--demo", help="Demo mode: generate throwaway secrets under var/.")
]


def _services(demo: bool = False) -> Services:
    try:
        settings = Settings(demo=True) if demo else Settings()
        configure_logging(settings.log_format)
        return build(settings)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from None
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    demo: DemoOption = False,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Start the API process."""
    import uvicorn

    from casestore.api.app import create_app

    services = _services(demo)
    if demo:
        recordings = list(
            demo_data.load(services.store, demo_signers(services.settings.key_directory))
        )
        typer.echo(f"demo region loaded: {len(demo_data.case_ids(recordings))} cases", err=True)
    settings = services.settings
    uvicorn.run(create_app(services), host=host or settings.host, port=port or settings.port)


@db_app.command("init")
def db_init(demo: DemoOption = False) -> None:
    """Create the tables (idempotent)."""
    services = _services(demo)
    typer.echo(f"database ready at position {services.store.max_position()}")
    services.close()


@app.command()
def demo(demo_mode: DemoOption = True) -> None:
    """Load a handful of realistic demo cases through every event type."""
    services = _services(demo_mode)
    try:
        recordings = list(
            demo_data.load(services.store, demo_signers(services.settings.key_directory))
        )
    except CaseStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        services.close()
    new = sum(not r.replayed for r in recordings)
    typer.echo(
        f"{len(demo_data.case_ids(recordings))} demo cases, {len(recordings)} events ({new} new)"
    )


def _load_demo(services: Services) -> list[Recorded]:
    signers = demo_signers(services.settings.key_directory)
    return list(demo_data.load(services.store, signers))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
