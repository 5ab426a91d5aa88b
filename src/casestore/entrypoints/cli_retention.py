"""`casestore retention …`: terms enforced, legal holds, verklaringen van vernietiging."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from casestore.domain.errors import CaseStoreError
from casestore.entrypoints.cli_base import (
    DemoOption,
    case_uuid,
    fail,
    open_services,
    tracking,
)
from sharing.errors import SharingError
from sharing.keys import format_time

app = typer.Typer(
    help="Retention: terms enforced, cases destroyed, legal holds, verklaringen.",
    no_args_is_help=True,
)


@app.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what is due; change nothing.")
    ] = False,
    demo: DemoOption = False,
) -> None:
    """Delete the grants past their rules' terms and destroy the cases past theirs (the
    worker does this daily)."""
    services = open_services(demo)
    try:
        with tracking("retention") as advance:
            report = services.retention.run(dry_run=dry_run, progress=advance)
    except (CaseStoreError, SharingError) as exc:
        fail(exc)
    finally:
        services.close()
    would = "would " if dry_run else ""
    for expired in report.expired:
        typer.echo(
            f"{would}revoke {expired.grants} grant(s) of case {expired.case_id}: "
            f"rule {', '.join(expired.rules)} ended"
        )
    for destroyed in report.destroyed:
        typer.echo(
            f"{would}destroy case {destroyed.case_id}: term ended "
            f"{format_time(destroyed.due_at)} (rule {', '.join(destroyed.rules)})"
        )
    for held in report.held:
        typer.echo(f"case {held} is under a legal hold: its clock is stopped")
    for case, error in report.failed:
        typer.echo(f"case {case} failed: {error}", err=True)
    typer.echo(
        f"{would}revoke {sum(e.grants for e in report.expired)} grant(s), "
        f"{would}destroy {len(report.destroyed)} case(s); {len(report.held)} held"
    )
    if report.failed:
        raise typer.Exit(1)


@app.command("hold")
def retention_hold(
    case_id: Annotated[str, typer.Argument(help="The case to keep.")],
    reason: Annotated[str, typer.Option(help="Why it must be kept (recorded).")],
    by: Annotated[str, typer.Option(help="Who places the hold (recorded).")],
    demo: DemoOption = False,
) -> None:
    """Place a legal hold: the case's retention clock stops until it is released."""
    services = open_services(demo)
    try:
        hold = services.retention.hold(case_uuid(case_id), by=by, reason=reason)
    except CaseStoreError as exc:
        fail(exc)
    finally:
        services.close()
    typer.echo(f"case {hold.case_id} held since {format_time(hold.placed_at)}: {hold.reason}")


@app.command("release")
def retention_release(
    case_id: Annotated[str, typer.Argument(help="The held case.")],
    by: Annotated[str, typer.Option(help="Who releases it (recorded).")],
    demo: DemoOption = False,
) -> None:
    """Release a case's legal holds: its clock runs again, its terms as much later as it
    was held."""
    services = open_services(demo)
    try:
        released = services.retention.release(case_uuid(case_id), by=by)
    finally:
        services.close()
    if not released:
        fail(f"case {case_id} has no legal hold in place")
    typer.echo(f"case {case_id} released ({released} hold(s))")


@app.command("verklaring")
def retention_verklaring(
    case_id: Annotated[str, typer.Argument(help="A destroyed case.")],
    demo: DemoOption = False,
) -> None:
    """Print the signed verklaring van vernietiging of a destroyed case (JSON)."""
    services = open_services(demo)
    try:
        verklaring = services.retention.verklaring(case_uuid(case_id))
    except CaseStoreError as exc:
        fail(exc)
    finally:
        services.close()
    body = {"document": verklaring.document, "signature": verklaring.signature}
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
