"""The `casestore` command line: thin commands over the composition root.

Every expected failure ends in one line on stderr and an exit code an operator's script
can act on (`EXIT`); only a bug shows a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any, NoReturn
from uuid import UUID
from wsgiref.simple_server import WSGIServer

import eventsourcing.persistence
import psycopg
import structlog
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from casestore.adapters.epochs import EpochError
from casestore.adapters.keyring import demo_signers
from casestore.adapters.logging import configure as configure_logging
from casestore.adapters.metrics import watch_deliveries
from casestore.adapters.persistence.migrations import SchemaError
from casestore.bootstrap import Services, build, content_field_names, open_schema
from casestore.domain.catalogue import describe
from casestore.domain.errors import CaseStoreError
from casestore.entrypoints import demo as demo_data
from casestore.entrypoints.cli_policy import register as register_policy_commands
from casestore.entrypoints.cli_uitstroom import register as register_uitstroom_commands
from casestore.entrypoints.probes import Readiness, serve_probes
from casestore.services.audit import AUDIT_EXPORTED, Actor, set_actor
from casestore.services.clients import ClientError
from casestore.services.figures import figures_json
from casestore.services.grants import GrantChanges
from casestore.services.keys import KeyManagementError
from casestore.services.webhooks.worker import Worker
from casestore.settings import Settings, SettingsError
from sharing.client import load_decryption_key, load_key_directory, open_event
from sharing.errors import KeyNotFound, PolicyError, SharingError
from sharing.keys import DecryptionKey, OrgPublicKeys, format_time
from sharing.policy import catalogue_from_description, compile_policy, load_policy, run_case_file

log = structlog.get_logger("casestore.entrypoints.cli")

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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"casestore {package_version('casestore')}")
        raise typer.Exit()


app = typer.Typer(help="casestore: the levensloop case record.", no_args_is_help=True)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """casestore: the levensloop case record."""
    # What a command processes is in the audit trail as the operator's doing.
    set_actor(Actor(client="cli", organisation=None, role="operator"))


db_app = typer.Typer(help="The database schema: migrations and their status.", no_args_is_help=True)
app.add_typer(db_app, name="db")
grants_app = typer.Typer(help="Grants after a policy change or key rotation.", no_args_is_help=True)
app.add_typer(grants_app, name="grants")
clients_app = typer.Typer(help="API clients and their bearer tokens.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
policy_app = typer.Typer(help="A region's sharing policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
keys_app = typer.Typer(
    help="Organisations' key generations: generate, rotate, confirm, publish.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(
    help="The audit trail: verify its chain, sign a checkpoint, export it.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
retention_app = typer.Typer(
    help="Retention: terms enforced, cases destroyed, legal holds, verklaringen.",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")
epochs_app = typer.Typer(
    help="The epochs case keys are wrapped under: rotate, list, destroy retired ones.",
    no_args_is_help=True,
)
app.add_typer(epochs_app, name="epochs")

DemoOption = Annotated[
    bool, typer.Option("--demo", help="Demo mode: generate throwaway secrets under var/.")
]


def _settings(demo: bool = False, *, verbose: bool = False) -> Settings:
    """The settings, logging configured: a one-shot command logs only warnings, so its
    stderr holds what it says itself; the long-running processes log everything."""
    try:
        settings = Settings(demo=True) if demo else Settings()
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        _exit("configuration", problems)
    configure_logging(
        settings.log_format,
        logging.INFO if verbose else logging.WARNING,
        content_keys=content_field_names(),
    )
    return settings


def _services(demo: bool = False, *, verbose: bool = False) -> Services:
    settings = _settings(demo, verbose=verbose)
    try:
        return build(settings)
    except (SettingsError, SharingError) as exc:  # a policy, key or secret that is not fit
        _exit("configuration", str(exc))


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
def _tracking(description: str) -> Iterator[Callable[[int, int], None]]:
    """A `(done, total)` callback that moves a progress bar."""
    with _progress() as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


@app.command()
def serve(
    demo: DemoOption = False,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="Also deliver webhooks and run the scheduled housekeeping from this process "
            "(one-node set-ups and the demo).",
        ),
    ] = False,
) -> None:
    """Start the API process."""
    import threading

    import uvicorn

    from casestore.entrypoints.api.app import create_app

    services = _services(demo, verbose=True)
    if demo:
        recordings = list(
            demo_data.load(
                services.store,
                demo_signers(services.settings.key_directory),
                demo_data.recent_start(services.store),
            )
        )
        tokens = demo_data.ensure_clients(services.clients, services.settings.demo_dir)
        log.info(
            "demo region loaded",
            cases=len(demo_data.case_ids(recordings)),
            tokens_file=str(tokens),  # one token per organisation and role
        )
    settings = services.settings
    delivery = Worker(services.disclosure, services.subscriptions) if with_worker else None
    if delivery is not None:
        threading.Thread(target=delivery.run, name="webhook-worker", daemon=True).start()
        services.housekeeping.start(settings.housekeeping_interval)
    app = create_app(services, delivery)
    probes = _probes(settings, services, lambda: _api_not_ready(services, delivery))
    try:
        # uvicorn's own lines go through the process's logging (log_config=None); its
        # access log stays off, as the app logs each request itself (api/observe.py).
        uvicorn.run(
            app,
            host=host or settings.host,
            port=port or settings.port,
            access_log=False,
            log_config=None,
        )
    finally:
        if probes is not None:
            probes.shutdown()
        if delivery is not None:
            delivery.stop()
            services.housekeeping.stop()


def _api_not_ready(services: Services, delivery: Worker | None) -> str | None:
    reason = services.not_ready()
    if reason is None and delivery is not None and delivery.stalled():
        reason = "the delivery worker's loop has stalled"
    return reason


def _probes(settings: Settings, services: Services, ready: Readiness) -> WSGIServer | None:
    """The probe port (metrics, health, readiness), where one is configured."""
    if settings.metrics_port is None:
        return None
    watch_deliveries(services.subscriptions.delivery_figures)
    return serve_probes(settings.host, settings.metrics_port, ready)


@app.command()
def worker(
    demo: DemoOption = False,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between polls.")] = 0.25,
    concurrency: Annotated[int, typer.Option(min=1, help="Deliveries at once.")] = 8,
    timeout: Annotated[float, typer.Option(min=0.1, help="HTTP timeout, seconds.")] = 10.0,
    lease: Annotated[
        float | None,
        typer.Option(
            min=1.0,
            help="Seconds a subscription stays with this worker unrenewed (a heartbeat "
            "renews it every third of that while a delivery runs). [default: 5]",
        ),
    ] = None,
    backoff_base: Annotated[
        float, typer.Option(min=0.01, help="First retry ceiling, seconds; doubles per failure.")
    ] = 1.0,
) -> None:
    """Deliver webhooks (push each subscription's events to its URL) and run the scheduled
    housekeeping (act on policy rules whose validity began or ended), until stopped."""
    from casestore.services.webhooks.backoff import Backoff
    from casestore.services.webhooks.worker import LEASE, run_until_signalled

    services = _services(demo, verbose=True)
    try:
        delivery = Worker(
            services.disclosure,
            services.subscriptions,
            backoff=Backoff(base=timedelta(seconds=backoff_base)),
            lease=LEASE if lease is None else timedelta(seconds=lease),
            timeout=timeout,
            poll_interval=poll,
            concurrency=concurrency,
        )
    except ValueError as exc:
        services.close()
        _fail(exc)
    probes = None
    try:
        if once:
            done = services.housekeeping.run_once()
            if done is not None and done.changes is not None:
                typer.echo(f"housekeeping: {_described(done.changes)}", err=True)
            if resumed := services.housekeeping.resume_policy_jobs():
                typer.echo(f"housekeeping: {resumed} re-seal jobs finished", err=True)
            typer.echo(f"{delivery.run_once()} delivery attempts")
        else:
            probes = _probes(
                services.settings,
                services,
                lambda: (
                    services.not_ready()
                    or ("the delivery loop has stalled" if delivery.stalled() else None)
                ),
            )
            services.housekeeping.start(services.settings.housekeeping_interval)
            run_until_signalled(delivery)
    finally:
        services.housekeeping.stop()
        if probes is not None:
            probes.shutdown()
        delivery.close()
        services.close()


@db_app.command("migrate")
def db_migrate(demo: DemoOption = False) -> None:
    """Apply the pending schema migrations (several processes may run it at once)."""
    with open_schema(_settings(demo, verbose=True)) as schema, _tracking("migrating") as advance:
        pending = schema.status().pending
        for done, migration in enumerate(pending, start=1):
            schema.migrate(upto=migration.version)
            advance(done, len(pending))
        status = schema.check()
    typer.echo(f"schema at version {status.version} ({len(pending)} migrations applied)")


@db_app.command("status")
def db_status(demo: DemoOption = False) -> None:
    """Where the database's schema stands; exit code 3 when this casestore cannot serve it."""
    with open_schema(_settings(demo)) as schema:
        status = schema.status()
    typer.echo(status.describe() + (" (a store from before migrations)" if status.legacy else ""))
    status.check()


@app.command()
def demo(demo_mode: DemoOption = True) -> None:
    """Load a handful of realistic demo cases through every event type."""
    services = _services(demo_mode)
    try:
        recordings = list(
            demo_data.load(
                services.store,
                demo_signers(services.settings.key_directory),
                demo_data.recent_start(services.store),
            )
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


@keys_app.command("generate")
def keys_generate(
    organisation: OrgArgument, out: PrivateFileOption, demo: DemoOption = False
) -> None:
    """Make an organisation's first key generation: the private key to --out, the public
    key into the store, in use at once."""
    services = _services(demo)
    try:
        made = services.keys.generate(organisation, out)
    except KeyManagementError as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(f"{_generation_line(made.public)}; private key written to {made.private_file}")


@keys_app.command("rotate")
def keys_rotate(
    organisation: OrgArgument,
    out: PrivateFileOption,
    reconcile: ReconcileOption = True,
    demo: DemoOption = False,
) -> None:
    """Make a new key generation. Until the organisation confirms it (`keys confirm`, or
    its own API call), both it and the one before are granted: new events are sealed to
    both, and the case history is re-granted to the new one."""
    services = _services(demo)
    try:
        made = services.keys.rotate(organisation, out)
        typer.echo(f"{_generation_line(made.public)}; private key written to {made.private_file}")
        if reconcile:
            with _tracking("granting the history to the new keys") as advance:
                changes = services.grants.reconcile_all(
                    f"key generation {made.public.generation} of {organisation} came into use",
                    progress=advance,
                )
            typer.echo(_described(changes))
    except (KeyManagementError, CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()


@keys_app.command("confirm")
def keys_confirm(
    organisation: OrgArgument,
    generation: Annotated[int, typer.Argument(min=1, help="The generation it now holds.")],
    reconcile: ReconcileOption = True,
    demo: DemoOption = False,
) -> None:
    """Record that the organisation holds a generation's private key: every older one is
    retired, and reconciling revokes their grants."""
    services = _services(demo)
    try:
        record = services.keys.confirm(organisation, generation)
        typer.echo(_generation_line(record))
        if reconcile:
            with _tracking("revoking the retired keys' grants") as advance:
                changes = services.grants.reconcile_all(
                    f"key generation {generation} of {organisation} confirmed", progress=advance
                )
            typer.echo(_described(changes))
    except (KeyManagementError, CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()


@keys_app.command("publish")
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
    services = _services(demo)
    try:
        generations = services.keys.of(organisation) if organisation is not None else []
        directory = services.provenance.key_directory(services.store.clock())
    except KeyManagementError as exc:
        _fail(exc)
    finally:
        services.close()
    for record in generations:
        typer.echo(_generation_line(record), err=True)
    text = json.dumps(directory, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")


@keys_app.command("list")
def keys_list(organisation: OrgArgument, demo: DemoOption = False) -> None:
    """An organisation's key generations and their validity."""
    services = _services(demo)
    try:
        generations = services.keys.of(organisation)
    except KeyManagementError as exc:
        _fail(exc)
    finally:
        services.close()
    for record in generations:
        typer.echo(_generation_line(record))
    if not generations:
        typer.echo(f"{organisation} has no keys", err=True)


def _generation_line(record: OrgPublicKeys) -> str:
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


@app.command()
def decrypt(
    key_files: Annotated[
        list[Path],
        typer.Option(
            "--key",
            help="A private key file of the organisation (JSON); repeat it for each key "
            "generation you hold: each grant is opened with the one it names.",
        ),
    ],
    source: Annotated[
        Path, typer.Argument(help="Events as `casestore read` prints them; - for stdin.")
    ] = Path("-"),
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys", help="The key directory (JSON) as `GET /v1/keys` serves it."),
    ] = None,
    custodian_key_id: Annotated[
        str | None,
        typer.Option(
            help="The custodian's signing key id you pinned; the directory must be signed by it."
        ),
    ] = None,
    trust_keys: Annotated[
        bool,
        typer.Option("--trust-keys", help="Take the key directory as it is, unpinned."),
    ] = False,
    no_verify: Annotated[
        bool,
        typer.Option("--no-verify", help="Open without checking who wrote or stored them."),
    ] = False,
) -> None:
    """Open received events with an organisation's own private key (partner side),
    checking each against its author's signature and the custodian's countersignature."""
    if no_verify:
        typer.echo("warning: --no-verify: nothing says who wrote these events", err=True)
    elif keys_file is None or (custodian_key_id is None and not trust_keys):
        typer.echo(
            "error: verifying needs --keys FILE and --custodian-key-id ID (or --trust-keys); "
            "--no-verify opens without checking",
            err=True,
        )
        raise typer.Exit(2)
    try:
        keys = [load_decryption_key(json.loads(path.read_text())) for path in key_files]
        directory = None
        if keys_file is not None and not no_verify:
            directory = load_key_directory(
                json.loads(keys_file.read_text()),
                custodian_key_id=custodian_key_id,
                trust=trust_keys,
            )
        text = sys.stdin.read() if str(source) == "-" else source.read_text()
        events = json.loads(text)
    except (OSError, ValueError, KeyError, TypeError, SharingError) as exc:
        _fail(exc)
    opened = []
    for event in events if isinstance(events, list) else [events]:
        try:
            _require_a_key(event, keys)
            fields = open_event(event, keys, directory=directory, verify=not no_verify)
            opened.append(
                {"event_id": event["event_id"], "event_type": event["event_type"], "fields": fields}
            )
        except (ValueError, KeyError, TypeError, SharingError) as exc:
            name = event.get("event_id", "?") if isinstance(event, dict) else "?"
            _fail(f"event {name} refused: {exc}")
    typer.echo(json.dumps(opened, indent=2, ensure_ascii=False))


def _require_a_key(event: dict[str, Any], keys: list[DecryptionKey]) -> None:
    """An event granted to us that none of the keys opens is an error, not empty fields:
    the wrong key file, or a generation not yet installed."""
    grants = event.get("grants") or []
    held = {(k.org_id, k.key_id) for k in keys}
    named = {(g.get("org_id"), g.get("key_id")) for g in grants if isinstance(g, dict)}
    if named and not named & held:
        wanted = ", ".join(sorted(str(key_id) for _, key_id in named))
        raise KeyNotFound(f"none of the key files opens its grants (they name key {wanted})")


@app.command()
def shred(
    case_id: Annotated[str, typer.Argument(help="A closed case.")],
    by: Annotated[str, typer.Option(help="Who orders the shredding (recorded).")],
    reason: Annotated[str, typer.Option(help="Why, e.g. the retention period ended.")],
    demo: DemoOption = False,
) -> None:
    """Destroy a closed case now, before its term ends: its keys, its events' content and
    its link to the person (its figures are counted first, and a verklaring kept)."""
    services = _services(demo)
    try:
        services.retention.destroy(_uuid(case_id), by=by, reason=reason)
        record = services.grants.shred_record(_uuid(case_id))
    except (CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    assert record is not None  # noqa: S101 - destroyed just now
    when = format_time(record.shredded_at)
    typer.echo(f"case {record.case_id} shredded at {when} by {record.shredded_by}")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what is due; change nothing.")
    ] = False,
    demo: DemoOption = False,
) -> None:
    """Delete the grants past their rules' terms and destroy the cases past theirs (the
    worker does this daily)."""
    services = _services(demo)
    try:
        with _tracking("retention") as advance:
            report = services.retention.run(dry_run=dry_run, progress=advance)
    except (CaseStoreError, SharingError) as exc:
        _fail(exc)
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


@retention_app.command("hold")
def retention_hold(
    case_id: Annotated[str, typer.Argument(help="The case to keep.")],
    reason: Annotated[str, typer.Option(help="Why it must be kept (recorded).")],
    by: Annotated[str, typer.Option(help="Who places the hold (recorded).")],
    demo: DemoOption = False,
) -> None:
    """Place a legal hold: the case's retention clock stops until it is released."""
    services = _services(demo)
    try:
        hold = services.retention.hold(_uuid(case_id), by=by, reason=reason)
    except CaseStoreError as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(f"case {hold.case_id} held since {format_time(hold.placed_at)}: {hold.reason}")


@retention_app.command("release")
def retention_release(
    case_id: Annotated[str, typer.Argument(help="The held case.")],
    by: Annotated[str, typer.Option(help="Who releases it (recorded).")],
    demo: DemoOption = False,
) -> None:
    """Release a case's legal holds: its clock runs again, its terms as much later as it
    was held."""
    services = _services(demo)
    try:
        released = services.retention.release(_uuid(case_id), by=by)
    finally:
        services.close()
    if not released:
        _fail(f"case {case_id} has no legal hold in place")
    typer.echo(f"case {case_id} released ({released} hold(s))")


@retention_app.command("verklaring")
def retention_verklaring(
    case_id: Annotated[str, typer.Argument(help="A destroyed case.")],
    demo: DemoOption = False,
) -> None:
    """Print the signed verklaring van vernietiging of a destroyed case (JSON)."""
    services = _services(demo)
    try:
        verklaring = services.retention.verklaring(_uuid(case_id))
    except CaseStoreError as exc:
        _fail(exc)
    finally:
        services.close()
    body = {"document": verklaring.document, "signature": verklaring.signature}
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False))


@epochs_app.command("rotate")
def epochs_rotate(demo: DemoOption = False) -> None:
    """Start a new case-key epoch and re-wrap every case key under it; the old epoch is
    retired, to be destroyed once the backups that need it have aged out."""
    services = _services(demo)
    try:
        with _tracking("re-wrapping case keys") as advance:
            rotation = services.key_epochs.rotate(advance)
    except (EpochError, CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(f"epoch {rotation.epoch} current; {rotation.rewrapped} case key(s) re-wrapped")


@epochs_app.command("list")
def epochs_list(demo: DemoOption = False) -> None:
    """Every epoch whose key exists, and when each was retired."""
    services = _services(demo)
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


@epochs_app.command("destroy")
def epochs_destroy(
    epoch: Annotated[int, typer.Argument(help="A retired epoch.")],
    demo: DemoOption = False,
) -> None:
    """Destroy a retired epoch's key once the backup retention has passed since it was
    retired: backups from before then can no longer be opened."""
    services = _services(demo)
    try:
        rewrapped = services.key_epochs.destroy(epoch)
    except (EpochError, CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(f"epoch {epoch} destroyed ({rewrapped} late case key(s) re-wrapped first)")


@app.command()
def figures(demo: DemoOption = False) -> None:
    """The region's anonymous figures per quarter, small cells suppressed (JSON)."""
    services = _services(demo)
    try:
        report = services.figures.report()
    finally:
        services.close()
    typer.echo(json.dumps(figures_json(report), indent=2))


@grants_app.command("reconcile")
def grants_reconcile(demo: DemoOption = False) -> None:
    """Re-grant and revoke for every case under the policy and keys now configured."""
    services = _services(demo)
    try:
        with _tracking("reconciling cases") as advance:
            changes = services.grants.reconcile_all(progress=advance)
    except (CaseStoreError, SharingError) as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(_described(changes))


@grants_app.command("history")
def grants_history(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    demo: DemoOption = False,
) -> None:
    """When each grant of a case was given or taken after its event was written, and why."""
    services = _services(demo)
    try:
        changes = services.grants.history(_uuid(case_id))
    finally:
        services.close()
    for c in changes:
        typer.echo(
            f"{format_time(c.changed_at)}  v{c.version}  {c.org_id}  key {c.key_id}  "
            f"{c.change}  policy {c.policy_version}  rules {c.rules or '-'}  {c.reason}"
        )
    if not changes:
        typer.echo("no grant changed after its event was written", err=True)


def _described(changes: GrantChanges) -> str:
    return (
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


@audit_app.command("verify")
def audit_verify(demo: DemoOption = False) -> None:
    """Recompute the trail's hash chain and check it against the signed checkpoints;
    names the first changed, removed, inserted or reordered entry, or a cut-off tail."""
    services = _services(demo)
    try:
        result = services.audit.verify()
    finally:
        services.close()
    if not result.ok:
        _exit("tampered", f"audit trail broken: {result.problem}")
    typer.echo(
        f"audit trail intact: {result.entries} entries, {result.checkpoints} signed checkpoints"
    )


@audit_app.command("checkpoint")
def audit_checkpoint(demo: DemoOption = False) -> None:
    """Sign the chain's head as the custodian now (the worker does so every minute)."""
    services = _services(demo)
    try:
        row = services.audit.checkpoint()
    finally:
        services.close()
    if row is None:
        typer.echo("nothing chained since the last checkpoint")
    else:
        typer.echo(f"checkpoint signed at entry {row.seq}: {row.hash}")


@audit_app.command("export")
def audit_export(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; - for stdout.")
    ] = Path("-"),
    demo: DemoOption = False,
) -> None:
    """Every entry, oldest first, as JSON lines: {seq, entry, previous, hash}."""
    services = _services(demo)
    try:
        trail = services.audit
        count = 0
        with (
            contextlib.nullcontext(sys.stdout)
            if str(output) == "-"
            else output.open("w", encoding="utf-8")
        ) as out:
            for item in trail.export():
                out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
        trail.record([trail.entry(AUDIT_EXPORTED, reason=f"{count} entries")])
    finally:
        services.close()


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        _exit("configuration", f"not a case id: {text!r}")


def _fail(exc: Exception | str) -> NoReturn:
    _exit("refused", str(exc))


def _exit(kind: str, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT[kind])


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


register_policy_commands(policy_app)
register_uitstroom_commands(app)


def main() -> None:
    """Run a command; what the database says when it cannot serve becomes one line."""
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT["configuration"])
    except SchemaError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT["database"])
    except UNREACHABLE as exc:
        typer.echo(
            f"error: the database cannot be reached (CASESTORE_DATABASE_URL): {_first_line(exc)}",
            err=True,
        )
        sys.exit(EXIT["database"])


if __name__ == "__main__":
    main()
