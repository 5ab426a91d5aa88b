"""The `casestore` command line: thin commands over the composition root."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn
from uuid import UUID

import typer
from pydantic import ValidationError

from casestore.adapters.keyring import demo_signers
from casestore.adapters.logging import configure as configure_logging
from casestore.bootstrap import Services, build
from casestore.domain.catalogue import describe
from casestore.domain.errors import CaseStoreError
from casestore.entrypoints import demo as demo_data
from casestore.services.clients import ClientError
from casestore.settings import Settings, SettingsError
from sharing.client import load_decryption_key, open_event
from sharing.errors import PolicyError, SharingError
from sharing.keys import format_time
from sharing.policy import catalogue_from_description, compile_policy, load_policy, run_case_file

app = typer.Typer(help="casestore: the levensloop case record.", no_args_is_help=True)
db_app = typer.Typer(help="Database housekeeping.", no_args_is_help=True)
app.add_typer(db_app, name="db")
grants_app = typer.Typer(help="Grants after a policy change or key rotation.", no_args_is_help=True)
app.add_typer(grants_app, name="grants")
clients_app = typer.Typer(help="API clients and their bearer tokens.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
policy_app = typer.Typer(help="A region's sharing policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

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
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="Also deliver webhooks from this process (one-node set-ups and the demo).",
        ),
    ] = False,
) -> None:
    """Start the API process."""
    import threading

    import uvicorn

    from casestore.entrypoints.api.app import create_app
    from casestore.services.webhooks.worker import Worker

    services = _services(demo)
    if demo:
        recordings = list(
            demo_data.load(services.store, demo_signers(services.settings.key_directory))
        )
        typer.echo(f"demo region loaded: {len(demo_data.case_ids(recordings))} cases", err=True)
        tokens = demo_data.ensure_clients(services.clients, services.settings.demo_dir)
        typer.echo(f"demo API tokens (one per organisation and role): {tokens}", err=True)
    settings = services.settings
    delivery = Worker(services.disclosure, services.subscriptions) if with_worker else None
    if delivery is not None:
        threading.Thread(target=delivery.run, name="webhook-worker", daemon=True).start()
    try:
        uvicorn.run(
            create_app(services),
            host=host or settings.host,
            port=port or settings.port,
            access_log=settings.access_log,
        )
    finally:
        if delivery is not None:
            delivery.stop()


@app.command()
def worker(
    demo: DemoOption = False,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between polls.")] = 0.25,
    concurrency: Annotated[int, typer.Option(min=1, help="Deliveries at once.")] = 8,
    timeout: Annotated[float, typer.Option(min=0.1, help="HTTP timeout, seconds.")] = 10.0,
    lease: Annotated[
        float, typer.Option(help="Seconds a subscription stays with this worker unrenewed.")
    ] = 60.0,
    backoff_base: Annotated[
        float, typer.Option(min=0.01, help="First retry ceiling, seconds; doubles per failure.")
    ] = 1.0,
) -> None:
    """Deliver webhooks: push each subscription's events to its URL until stopped."""
    from casestore.services.webhooks.backoff import Backoff
    from casestore.services.webhooks.worker import Worker, run_until_signalled

    services = _services(demo)
    try:
        delivery = Worker(
            services.disclosure,
            services.subscriptions,
            backoff=Backoff(base=timedelta(seconds=backoff_base)),
            lease=timedelta(seconds=lease),
            timeout=timeout,
            poll_interval=poll,
            concurrency=concurrency,
        )
    except ValueError as exc:
        services.close()
        _fail(exc)
    try:
        if once:
            typer.echo(f"{delivery.run_once()} delivery attempts")
        else:
            run_until_signalled(delivery)
    finally:
        delivery.close()
        services.close()


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
    cases = demo_data.case_ids(recordings)
    typer.echo(f"{len(cases)} demo cases, {len(recordings)} events ({new} new)")
    for case_id in cases:
        typer.echo(f"case {case_id}")


@app.command()
def read(
    organisation: Annotated[str, typer.Option("--org", help="The receiving organisation.")],
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    decrypt: Annotated[
        bool, typer.Option(help="Open the fields (organisations the service hosts only).")
    ] = False,
    demo: DemoOption = False,
) -> None:
    """Print, as JSON, what one organisation receives of a case."""
    services = _services(demo)
    try:
        events = services.disclosure.read_case(organisation, _uuid(case_id), decrypt=decrypt)
    except (CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(json.dumps([e.to_json() for e in events], indent=2, ensure_ascii=False))


@app.command()
def decrypt(
    key_file: Annotated[
        Path, typer.Option("--key", help="The organisation's private key file (JSON).")
    ],
    source: Annotated[
        Path, typer.Argument(help="Events as `casestore read` prints them; - for stdin.")
    ] = Path("-"),
) -> None:
    """Open received events with an organisation's own private key (partner side)."""
    try:
        key = load_decryption_key(json.loads(key_file.read_text()))
        text = sys.stdin.read() if str(source) == "-" else source.read_text()
        events = json.loads(text)
        opened = [
            {
                "event_id": e["event_id"],
                "event_type": e["event_type"],
                "fields": open_event(e, [key]),
            }
            for e in (events if isinstance(events, list) else [events])
        ]
    except (OSError, ValueError, KeyError, TypeError, SharingError) as exc:
        _fail(exc)
    typer.echo(json.dumps(opened, indent=2, ensure_ascii=False))


@app.command()
def shred(
    case_id: Annotated[str, typer.Argument(help="A closed case.")],
    by: Annotated[str, typer.Option(help="Who orders the shredding (recorded).")],
    reason: Annotated[str, typer.Option(help="Why, e.g. the retention period ended.")],
    demo: DemoOption = False,
) -> None:
    """Destroy a closed case's keys so its content can never be opened again."""
    services = _services(demo)
    try:
        record = services.grants.shred(_uuid(case_id), by=by, reason=reason)
    except (CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    when = format_time(record.shredded_at)
    typer.echo(f"case {record.case_id} shredded at {when} by {record.shredded_by}")


@grants_app.command("reconcile")
def grants_reconcile(demo: DemoOption = False) -> None:
    """Re-grant and revoke for every case under the policy and keys now configured."""
    services = _services(demo)
    try:
        changes = services.grants.reconcile_all()
    except (CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(
        f"{changes.granted} grants re-sealed, {changes.revoked} revoked; "
        f"access given {changes.access_added}, taken {changes.access_removed}"
    )


@clients_app.command("add")
def clients_add(
    organisation: Annotated[str, typer.Option("--org", help="The client's organisation.")],
    role: Annotated[
        str, typer.Option(help="partner-system, coordinator, privacy-officer or auditor.")
    ],
    name: Annotated[str, typer.Option(help="Who or what uses the token.")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it expires.")] = 365,
    demo: DemoOption = False,
) -> None:
    """Issue a bearer token; it is printed once and stored only as a hash."""
    services = _services(demo)
    try:
        issued = services.clients.add(organisation, role, name, timedelta(days=days))
    except ClientError as exc:
        _fail(exc)
    finally:
        services.close()
    client = issued.client
    typer.echo(
        f"client {client.client_id} for {client.org_id} as {client.role.value}, "
        f"expires {format_time(client.expires_at)}",
        err=True,
    )
    typer.echo(issued.token)


@clients_app.command("list")
def clients_list(
    organisation: Annotated[str | None, typer.Option("--org", help="Only this one.")] = None,
    demo: DemoOption = False,
) -> None:
    """List clients (never their tokens)."""
    services = _services(demo)
    try:
        clients = services.clients.list(organisation)
    finally:
        services.close()
    for c in clients:
        state = "revoked" if c.revoked_at else f"expires {format_time(c.expires_at)}"
        typer.echo(f"{c.client_id}  {c.org_id}  {c.role.value}  {c.name!r}  {state}")


@clients_app.command("revoke")
def clients_revoke(
    client_id: Annotated[str, typer.Argument(help="The client id `clients list` shows.")],
    demo: DemoOption = False,
) -> None:
    """Revoke a client's token at once."""
    services = _services(demo)
    try:
        client = services.clients.revoke(client_id)
    except ClientError as exc:
        _fail(exc)
    finally:
        services.close()
    assert client.revoked_at is not None  # noqa: S101 - just revoked
    typer.echo(f"client {client.client_id} revoked at {format_time(client.revoked_at)}")


@policy_app.command("check")
def policy_check(
    policy_file: Annotated[Path, typer.Argument(help="The policy (YAML) to check.")],
) -> None:
    """Check a policy against the catalogue and the legal lint, and run its cases
    (`<name>.tests.yaml` beside it): one line per problem; exit 1 if any."""
    if not policy_file.is_file():
        typer.echo(f"error: no policy file {policy_file}", err=True)
        raise typer.Exit(2)
    catalogue = catalogue_from_description(describe())
    try:
        matrix = compile_policy(load_policy(policy_file, catalogue), catalogue)
        cases = policy_file.with_name(policy_file.stem + ".tests.yaml")
        report = run_case_file(cases, matrix) if cases.is_file() else None
    except PolicyError as exc:
        for problem in exc.problems:
            typer.echo(problem)
        raise typer.Exit(1) from None
    if report is not None:
        for failure in report.failures:
            typer.echo(f"{report.source}:{str(failure).removeprefix('line ')}")
        for rule in report.unexercised_rules:
            typer.echo(f"{report.source}: rule {rule!r}: no allowed case shows it granting")
        if not report.ok:
            raise typer.Exit(1)
    tested = f", {report.cases} cases pass" if report is not None else ", no cases beside it"
    typer.echo(
        f"{policy_file}: sound and lawful by the lint: {len(matrix.policy.rules)} rules, "
        f"{len(matrix.organisations)} organisations{tested}"
    )


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        typer.echo(f"error: not a case id: {text!r}", err=True)
        raise typer.Exit(2) from None


def _fail(exc: Exception) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
