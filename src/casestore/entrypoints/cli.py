"""The `casestore` command line: thin commands over the composition root.

Every expected failure ends in one line on stderr and an exit code an operator's script
can act on (`EXIT`); only a bug shows a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any
from wsgiref.simple_server import WSGIServer

import structlog
import typer

from casestore.adapters.keyring import demo_signers
from casestore.adapters.metrics import watch_deliveries
from casestore.adapters.persistence.migrations import SchemaError
from casestore.bootstrap import Services
from casestore.domain.errors import CaseStoreError
from casestore.entrypoints import cli_base as base
from casestore.entrypoints import demo as demo_data
from casestore.entrypoints.cli_audit import register as register_audit_commands
from casestore.entrypoints.cli_base import DemoOption as DemoOption
from casestore.entrypoints.cli_clients import app as clients_app
from casestore.entrypoints.cli_db import app as db_app
from casestore.entrypoints.cli_epochs import app as epochs_app
from casestore.entrypoints.cli_grants import app as grants_app
from casestore.entrypoints.cli_keys import app as keys_app
from casestore.entrypoints.cli_policy import register as register_policy_commands
from casestore.entrypoints.cli_retention import app as retention_app
from casestore.entrypoints.cli_timeline import register as register_timeline_command
from casestore.entrypoints.cli_uitstroom import register as register_uitstroom_commands
from casestore.entrypoints.probes import Readiness, serve_probes
from casestore.services.audit import AUDIT_EXPORTED, Actor, set_actor
from casestore.services.figures import figures_json
from casestore.services.webhooks.worker import Worker
from casestore.settings import Settings, SettingsError
from sharing.client import load_decryption_key, load_key_directory, open_event
from sharing.errors import KeyNotFound, SharingError
from sharing.keys import DecryptionKey, format_time

log = structlog.get_logger("casestore.entrypoints.cli")


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


app.add_typer(db_app, name="db")
app.add_typer(grants_app, name="grants")
app.add_typer(clients_app, name="clients")
policy_app = typer.Typer(help="A region's sharing policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(
    help="The audit trail: verify, checkpoint, export; accountability reports.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(epochs_app, name="epochs")


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

    services = base.open_services(demo, verbose=True)
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

    services = base.open_services(demo, verbose=True)
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
        base.fail(exc)
    probes = None
    try:
        if once:
            done = services.housekeeping.run_once()
            if done is not None and done.changes is not None:
                typer.echo(f"housekeeping: {base.described(done.changes)}", err=True)
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


@app.command()
def demo(demo_mode: DemoOption = True) -> None:
    """Load a handful of realistic demo cases through every event type."""
    services = base.open_services(demo_mode)
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
    services = base.open_services(demo)
    try:
        events = services.disclosure.read_case(
            organisation, base.case_uuid(case_id), decrypt=decrypt
        )
    except (CaseStoreError, SharingError) as exc:
        base.fail(exc)
    finally:
        services.close()
    typer.echo(json.dumps([e.to_json() for e in events], indent=2, ensure_ascii=False))


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
        base.fail(exc)
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
            base.fail(f"event {name} refused: {exc}")
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
    services = base.open_services(demo)
    try:
        services.retention.destroy(base.case_uuid(case_id), by=by, reason=reason)
        record = services.grants.shred_record(base.case_uuid(case_id))
    except (CaseStoreError, SharingError) as exc:
        base.fail(exc)
    finally:
        services.close()
    assert record is not None  # noqa: S101 - destroyed just now
    when = format_time(record.shredded_at)
    typer.echo(f"case {record.case_id} shredded at {when} by {record.shredded_by}")


@app.command()
def figures(demo: DemoOption = False) -> None:
    """The region's anonymous figures per quarter, small cells suppressed (JSON)."""
    services = base.open_services(demo)
    try:
        report = services.figures.report()
    finally:
        services.close()
    typer.echo(json.dumps(figures_json(report), indent=2))


@audit_app.command("verify")
def audit_verify(demo: DemoOption = False) -> None:
    """Recompute the trail's hash chain and check it against the signed checkpoints;
    names the first changed, removed, inserted or reordered entry, or a cut-off tail."""
    services = base.open_services(demo)
    try:
        result = services.audit.verify()
    finally:
        services.close()
    if not result.ok:
        base.exit_as("tampered", f"audit trail broken: {result.problem}")
    typer.echo(
        f"audit trail intact: {result.entries} entries, {result.checkpoints} signed checkpoints"
    )


@audit_app.command("checkpoint")
def audit_checkpoint(demo: DemoOption = False) -> None:
    """Sign the chain's head as the custodian now (the worker does so every minute)."""
    services = base.open_services(demo)
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
    services = base.open_services(demo)
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


register_policy_commands(policy_app)
register_audit_commands(audit_app)
register_timeline_command(app)
register_uitstroom_commands(app)


def main() -> None:
    """Run a command; what the database says when it cannot serve becomes one line."""
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(base.EXIT["configuration"])
    except SchemaError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(base.EXIT["database"])
    except base.UNREACHABLE as exc:
        typer.echo(
            "error: the database cannot be reached (CASESTORE_DATABASE_URL): "
            + base.first_line(exc),
            err=True,
        )
        sys.exit(base.EXIT["database"])


if __name__ == "__main__":
    main()
