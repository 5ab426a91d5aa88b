"""`casestore uitstroom …`: what the region's process settings say of ending cases."""

import json
from typing import Annotated

import typer

from sharing.keys import format_time

DemoOption = Annotated[
    bool, typer.Option("--demo", help="Demo mode: generate throwaway secrets under var/.")
]


def register(app: typer.Typer) -> None:
    from casestore.entrypoints import cli as base  # the shared plumbing
    from casestore.services.region_settings import uitstroom_candidates

    uitstroom_app = typer.Typer(help="Cases that may end, by the region's settings.")
    app.add_typer(uitstroom_app, name="uitstroom")

    @uitstroom_app.command("candidates")
    def candidates(demo: DemoOption = False) -> None:
        """Included cases stable for the region's stability term (JSON): each may end by
        an uitstroom as `stabiel`."""
        services = base._services(demo)
        try:
            store = services.store
            found = uitstroom_candidates(store, store.clock())
        finally:
            services.close()
        listed = [{"case_id": c, "stable_since": format_time(since)} for c, since in found]
        typer.echo(json.dumps(listed, indent=2))
