"""The composition root: the one place that wires settings into services.

The API, the CLI and the tests all call `build()`; tests pass their own settings and
overrides (a fixed clock, a PostgreSQL schema of their own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from casestore.adapters.epochs import Epochs
from casestore.adapters.keyring import ensure_keys, load_keyring
from casestore.adapters.persistence.client_table import ClientTable
from casestore.adapters.persistence.grant_history import GrantHistoryTable
from casestore.adapters.persistence.housekeeping_table import HousekeepingTable
from casestore.adapters.persistence.key_generations import KeyGenerationTable
from casestore.adapters.persistence.migrations import Schema, SchemaError, SchemaStatus
from casestore.adapters.persistence.policy_table import PolicyTable
from casestore.adapters.persistence.recorder import CaseRecorder
from casestore.adapters.persistence.restriction_table import RestrictionTable
from casestore.adapters.persistence.retention_tables import RetentionTables
from casestore.adapters.persistence.session_table import SessionTable
from casestore.adapters.persistence.subscription_table import SubscriptionTable
from casestore.adapters.persistence.worklist_tables import WorklistTables
from casestore.adapters.secrets import load_or_create_secret
from casestore.adapters.token_cache import TokenCache
from casestore.adapters.wakeup import OnRevoked, Wakeup
from casestore.domain.catalogue import describe
from casestore.services.access_review import AccessReviews
from casestore.services.audit import AuditTrail
from casestore.services.bekendheid import BekendheidCheck
from casestore.services.breach import BlastRadius
from casestore.services.case_store import CaseStore, Clock, utcnow
from casestore.services.clients import Clients
from casestore.services.disclosure import Disclosure
from casestore.services.figures import Figures
from casestore.services.grants import Grants
from casestore.services.housekeeping import Housekeeping
from casestore.services.key_epochs import KeyEpochs
from casestore.services.keys import KeyGenerations
from casestore.services.meeting_pack import Meetings
from casestore.services.policy_versions import PolicyBook
from casestore.services.protocol import Protocols
from casestore.services.provenance import Provenance
from casestore.services.retention import Retention
from casestore.services.retention_terms import Terms
from casestore.services.sealing import Sealer
from casestore.services.sessions import WebSessions
from casestore.services.subject_report import SubjectReports
from casestore.services.timeline import Timelines
from casestore.services.webhooks.signing_secrets import SigningSecrets
from casestore.services.webhooks.subscriptions import Subscriptions
from casestore.services.worklist import Worklist
from casestore.settings import Settings, SettingsError
from sharing.keys import MasterKey
from sharing.policy import AccessMatrix, catalogue_from_description, compile_policy, load_policy
from sharing.policy.digest import policy_digest


@dataclass
class Services:
    """Everything an entrypoint calls, built once per process."""

    settings: Settings
    store: CaseStore  # the write path and history
    disclosure: Disclosure  # what each organisation receives
    grants: Grants  # re-granting, revoking, shredding, and their history
    clients: Clients
    subscriptions: Subscriptions
    housekeeping: Housekeeping  # the scheduled job of the worker process
    bekendheid: BekendheidCheck  # the custodian's view of a referred person's cases
    sessions: WebSessions  # the pages' sign-in
    keys: KeyGenerations  # organisations' key generations: generate, rotate, confirm
    audit: AuditTrail  # who processed which case data, hash-chained
    subject_reports: SubjectReports  # AVG art. 15, from the trail
    protocols: Protocols  # a partner's verstrekkingsprotocol (Wpg art. 32)
    blast_radius: BlastRadius  # what a breach exposed, and its notification drafted
    access_reviews: AccessReviews  # clients, their use, stale tokens, unusual reading
    policy: PolicyBook  # versions in force, proposals, re-seal jobs
    retention: Retention  # terms enforced, cases destroyed, legal holds, verklaringen
    figures: Figures  # the region's anonymous counts
    key_epochs: KeyEpochs  # the epochs case keys are wrapped under: rotated, destroyed
    worklist: Worklist  # the coordinators' cases and their attention signals
    meetings: Meetings  # casusoverleggen: agenda, packs per attendee, minutes
    timelines: Timelines  # a case reconstructed at a moment, as one organisation sees it

    @property
    def sealer(self) -> Sealer:
        return self.store.sealer

    @property
    def provenance(self) -> Provenance:
        return self.store.provenance

    def wakeup(
        self, tokens: TokenCache[Any] | None = None, on_revoked: OnRevoked | None = None
    ) -> Wakeup:
        """The live feeds' wakeup for this store's database (not started); on PostgreSQL
        it also keeps `tokens` honest and tells `on_revoked` of every revocation."""
        return self.store.records.backend.wakeup(
            self.store.on_saved, self.store.max_position, tokens, on_revoked
        )

    def not_ready(self) -> str | None:
        """Why this process cannot serve now, in words fit for an anonymous caller (None:
        it can): the database must answer and hold a schema this code serves."""
        try:
            Schema(self.store.records.backend).check()
        except SchemaError:
            return "the database schema does not fit this process"
        except Exception:  # any failure to reach storage means "not ready"
            return "the database cannot be reached"
        return None

    def database_unavailable(self, exc: BaseException) -> bool:
        """Whether `exc` says the database cannot serve just now (answer 503, not 500)."""
        return self.store.records.backend.unavailable(exc)

    def close(self) -> None:
        self.audit.close()
        self.store.close()


def content_field_names() -> set[str]:
    """Every payload field that holds content, of every event type: log lines drop what
    these keys name (casestore.adapters.logging.Redact)."""
    return {name for d in describe().values() for name in d["content_fields"]}


def compile_region_policy(path: Path) -> tuple[AccessMatrix, str]:
    """Load and compile a region's policy against the event catalogue."""
    if not path.exists():
        raise SettingsError(f"CASESTORE_POLICY_FILE: no policy at {path}")
    catalogue = catalogue_from_description(describe())
    policy = load_policy(path, catalogue)
    return compile_policy(
        policy, catalogue
    ), f"{policy.version}@{policy_digest(policy).removeprefix('sha256:')[:16]}"


def region_policy_text(path: Path) -> tuple[str, str | None]:
    """The region's policy file and its cases beside it: version 1 of a fresh store."""
    cases = path.with_name(path.stem + ".tests.yaml")
    tests = cases.read_text(encoding="utf-8") if cases.is_file() else None
    return path.read_text(encoding="utf-8"), tests


def build_sealer(settings: Settings, now: Any) -> Sealer:
    matrix, version = compile_region_policy(settings.policy_path)
    if settings.demo:
        ensure_keys(settings.key_directory, sorted(matrix.organisations), now)
    return Sealer(
        region=settings.region,
        custodian=settings.custodian,
        matrix=matrix,
        policy_version=version,
        keyring=load_keyring(settings.key_directory, settings.hosted_organisations),
        master=settings.master(),
        epochs=epochs(settings),
    )


def epochs(settings: Settings) -> Epochs:
    """The case-key epochs; the first is made when the directory has none."""
    found = Epochs(settings.master(), settings.epochs_directory)
    found.ensure()
    return found


def prepare(settings: Settings) -> Settings:
    """Make what the settings point at but do not hold: in demo mode the throwaway secrets
    (created once, kept under var/demo), and the directory of an SQLite file."""
    if settings.demo:
        configured = {
            "pseudonym_secret_file": settings.pseudonym_secret or settings.pseudonym_secret_file,
            "master_key_file": settings.master_key or settings.master_key_file,
        }
        missing = {
            name: path
            for name, path in settings.demo_secret_files.items()
            if configured[name] is None
        }
        if "pseudonym_secret_file" in missing:
            load_or_create_secret(missing["pseudonym_secret_file"])
        if "master_key_file" in missing and not missing["master_key_file"].exists():
            missing["master_key_file"].parent.mkdir(parents=True, exist_ok=True)
            MasterKey.generate().save(missing["master_key_file"])
        settings = settings.model_copy(update=missing)
    if (path := settings.sqlite_path) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return settings


def ready_schema(schema: Schema, settings: Settings) -> SchemaStatus:
    """Migrate if the settings say so, then refuse a schema this code cannot serve."""
    if settings.migrates_on_start:
        schema.migrate()
    return schema.check()


@contextmanager
def open_schema(settings: Settings) -> Iterator[Schema]:
    """The store's schema alone, for `casestore db`: no policy, keys or secrets are read."""
    settings = prepare(settings)
    factory = InfrastructureFactory.construct(
        Environment(CaseStore.name, settings.eventsourcing_env())
    )
    try:
        recorder = cast(CaseRecorder, factory.application_recorder())
        yield Schema(recorder.backend)
    finally:
        factory.close()


def build(settings: Settings, *, clock: Clock = utcnow, **env_overrides: str) -> Services:
    settings = prepare(settings)
    env: dict[str, Any] = {**settings.eventsourcing_env(), **env_overrides}
    pseudonym_secret = settings.pseudonym_key()  # the first setting a user gets wrong
    sealer = build_sealer(settings, clock())
    store = CaseStore(
        env,
        pseudonym_secret=pseudonym_secret,
        custodian=settings.custodian,
        sealer=sealer,
        provenance=Provenance(
            region=settings.region,
            custodian=settings.custodian,
            keyring=sealer.keyring,
            require_signatures=settings.require_signatures,
        ),
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
    )
    backend = store.records.backend
    try:
        ready_schema(Schema(backend), settings)
        key_table = KeyGenerationTable(backend)
        sealer.keyring.attach(key_table)
    except BaseException:
        store.close()
        raise
    client_table, subscription_table = ClientTable(backend), SubscriptionTable(backend)
    history_table, job_table = GrantHistoryTable(backend), HousekeepingTable(backend)
    sealer = store.sealer
    audit = AuditTrail(
        store.records.audit_table,
        clock,
        region=settings.region,
        custodian=settings.custodian,
        policy_version=lambda: sealer.policy_version,
        signing_key=lambda: sealer.keyring.signing_key(settings.custodian),
        public_keys=lambda: sealer.keyring.records(),
    )
    store.audit = audit
    retention_tables = RetentionTables(backend)
    terms = Terms(lambda: store.sealer.matrix.policy, retention_tables)
    grants = Grants(store, store.sealer, history_table, terms)
    policy = PolicyBook(PolicyTable(backend), store, grants, clock)
    try:
        policy.seed(*region_policy_text(settings.policy_path))
    except BaseException:
        store.close()
        raise
    figures = Figures(store, retention_tables, store.sealer.matrix.policy.zone)
    retention = Retention(grants, retention_tables, terms, figures)
    session_table = SessionTable(backend)
    clients = Clients(client_table, store.sealer.matrix.organisations, clock)
    subscriptions = Subscriptions(
        subscription_table,
        SigningSecrets(settings.master()),
        clock,
        store.max_position,
        private_destinations=settings.private_webhook_destinations,
        notices=policy.table,
    )
    disclosure = Disclosure(store, store.sealer)
    worklist_tables = WorklistTables(backend)
    worklist = Worklist(store, worklist_tables, terms, retention_tables, clock)
    return Services(
        settings=settings,
        store=store,
        disclosure=disclosure,
        grants=grants,
        clients=clients,
        subscriptions=subscriptions,
        housekeeping=Housekeeping(
            grants,
            job_table,
            clock,
            audit=audit,
            policy=policy,
            retention=retention,
            worklist=worklist,
        ),
        retention=retention,
        figures=figures,
        key_epochs=KeyEpochs(store, grants, timedelta(days=settings.backup_retention_days)),
        bekendheid=BekendheidCheck(store),
        policy=policy,
        sessions=WebSessions(
            session_table, clients, settings.master().derive("casestore/web-sessions"), clock
        ),
        keys=KeyGenerations(
            key_table,
            sealer.keyring,
            clock,
            lambda: store.sealer.matrix.organisations,
            settings.custodian,
        ),
        audit=audit,
        worklist=worklist,
        meetings=Meetings(store, disclosure, worklist_tables, worklist.may_see, clock),
        subject_reports=SubjectReports(store, audit, RestrictionTable(backend)),
        protocols=Protocols(store, audit),
        blast_radius=BlastRadius(store, grants, audit),
        access_reviews=AccessReviews(store, clients, audit),
        timelines=Timelines(store, store.sealer),
    )
