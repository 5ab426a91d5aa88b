"""`casestore timeline CASE_ID`: the reconstructed case in the terminal, as the custodian's
coordinators see it (or, with `--view`, as another organisation does)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from casestore.domain.errors import CaseStoreError
from casestore.entrypoints import cli_base as base
from casestore.services.audit import Actor, set_actor
from casestore.services.clients import ClientRole
from sharing.errors import SharingError


def register(app: typer.Typer) -> None:

    @app.command("timeline")
    def timeline(
        case_id: Annotated[str, typer.Argument(help="The case id.")],
        as_of: Annotated[
            datetime | None,
            typer.Option("--as-of", help="The moment (ISO 8601, UTC if no zone; default now)."),
        ] = None,
        view: Annotated[
            str | None, typer.Option("--view", help="See the case as this organisation does.")
        ] = None,
        known: Annotated[
            bool, typer.Option("--known", help="Only what was recorded by --as-of.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="The timeline as JSON.")] = False,
        demo: Annotated[
            bool, typer.Option("--demo", help="Demo mode: generate throwaway secrets under var/.")
        ] = False,
    ) -> None:
        """The case reconstructed at a moment: level, kaders, plan, network, signals,
        meetings and entries, opened for the custodian (audited as a read)."""
        services = base.open_services(demo)
        custodian = services.settings.custodian
        set_actor(Actor(client=None, organisation=custodian, role="cli"))
        moment = as_of
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.now().astimezone().tzinfo).astimezone()
        try:
            if view is not None:
                services.timelines.check_view(custodian, ClientRole.coordinator, view)
            found = services.timelines.timeline(
                custodian, base.case_uuid(case_id), as_of=moment, known=known, view=view
            )
        except (CaseStoreError, SharingError) as exc:
            base.fail(exc)
        finally:
            services.close()
        if as_json:
            typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
            return
        print_timeline(Console(), found)


def _text(value: Any) -> str:
    if isinstance(value, dict) and value.get("withheld"):
        return f"[withheld: {value.get('rule')}]"
    if isinstance(value, dict) and value.get("sealed"):
        return "[sealed]"
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_timeline(console: Console, found: dict[str, Any]) -> None:
    """The timeline as tables, one per part, in the page's order."""
    console.print(
        f"[bold]Case {found['case_id']}[/bold] as {found['view']} sees it at {found['as_of']}"
        f"{' (as known then)' if found['known'] else ''}: status {found['status']}, "
        f"level {found['level']}, plan version {found['plan_version']}, "
        f"{found['open_signals']} open signal(s)"
    )
    levels = Table(title="Care level")
    for column in ("at", "level", "event"):
        levels.add_column(column)
    for step in found["level_history"]:
        levels.add_row(step["at"], str(step["level"]), step["event_type"])
    console.print(levels)
    kaders = Table(title="Juridisch kader")
    for column in ("kader", "from", "until", "in force", "toezichthouder"):
        kaders.add_column(column)
    for kader in found["kaders"]:
        kaders.add_row(
            kader["kader"],
            _text(kader["van"]),
            _text(kader["tot"]),
            "yes" if kader["in_force"] else "no",
            _text(kader["toezichthouder"]),
        )
    console.print(kaders)
    plan = found["plan"]
    if plan is not None:
        actions = Table(title=f"Plan version {plan['version']}")
        for column in ("nr", "owner", "action", "due", "status", "overdue"):
            actions.add_column(column)
        for action in plan["acties"]:
            actions.add_row(
                str(action["nr"]),
                _text(action.get("organisatie")),
                _text(action.get("actie")),
                _text(action.get("termijn")),
                action["status"],
                "OVERDUE" if action["overdue"] else "",
            )
        console.print(actions)
    network = Table(title="Network")
    for column in ("organisation", "role in case", "regie", "since"):
        network.add_column(column)
    for member in found["network"]:
        network.add_row(
            member["organisatie"],
            _text(member["rol_in_casus"]),
            ", ".join(member["regie"]),
            _text(member["since"]),
        )
    console.print(network)
    signals = Table(title="Signals")
    for column in ("at", "by", "categorie", "ernst", "answered"):
        signals.add_column(column)
    for signal in found["signals"]:
        signals.add_row(
            signal["at"],
            signal["author_org"],
            _text(signal.get("categorie")),
            _text(signal.get("ernst")),
            "yes" if signal["answered"] else "NO",
        )
    console.print(signals)
    entries = Table(title="Entries")
    for column in ("occurred", "type", "author", "fields"):
        entries.add_column(column)
    for entry in found["entries"]:
        marks = " (recorded later)" if entry["recorded_later"] else ""
        fields = "; ".join(f"{k}: {_text(v)}" for k, v in entry["fields"].items())
        entries.add_row(
            entry["occurred_at"] + marks, entry["event_type"], entry["author_org"], fields
        )
    console.print(entries)
