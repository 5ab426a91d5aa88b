"""`casestore uitstroom …`: what the region's process settings say of ending cases."""

import json

import typer

from casestore.entrypoints import cli_base as base
from casestore.entrypoints.cli_base import DemoOption
from sharing.keys import format_time


def register(app: typer.Typer) -> None:
    from casestore.services.region_settings import uitstroom_candidates

    uitstroom_app = typer.Typer(help="Cases that may end, by the region's settings.")
    app.add_typer(uitstroom_app, name="uitstroom")

    @uitstroom_app.command("candidates")
    def candidates(demo: DemoOption = False) -> None:
        """Included cases stable for the region's stability term (JSON): each may end by
        an uitstroom as `stabiel`."""
        services = base.open_services(demo)
        try:
            store = services.store
            found = uitstroom_candidates(store, store.clock())
        finally:
            services.close()
        listed = [{"case_id": c, "stable_since": format_time(since)} for c, since in found]
        typer.echo(json.dumps(listed, indent=2))
