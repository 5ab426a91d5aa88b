"""The composition root: the one place that wires settings into services.

The API, the CLI and the tests all call `build()`; tests pass their own settings and
overrides (a fixed clock, a PostgreSQL schema of their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casestore.adapters.keyring import ensure_keys, load_keyring
from casestore.domain.catalogue import describe
from casestore.services.case_store import CaseStore, Clock, utcnow
from casestore.services.clients import Clients
from casestore.services.sealing import Sealer
from casestore.services.webhooks.signing_secrets import SigningSecrets
from casestore.services.webhooks.subscriptions import Subscriptions
from casestore.settings import Settings, SettingsError
from sharing.policy import AccessMatrix, catalogue_from_description, compile_policy, load_policy
from sharing.policy.digest import policy_digest


@dataclass
class Services:
    settings: Settings
    store: CaseStore
    clients: Clients
    subscriptions: Subscriptions

    def close(self) -> None:
        self.store.close()


def compile_region_policy(path: Path) -> tuple[AccessMatrix, str]:
    """Load and compile a region's policy against the event catalogue."""
    if not path.exists():
        raise SettingsError(f"CASESTORE_POLICY_FILE: no policy at {path}")
    catalogue = catalogue_from_description(describe())
    policy = load_policy(path, catalogue)
    return compile_policy(
        policy, catalogue
    ), f"{policy.version}@{policy_digest(policy).removeprefix('sha256:')[:16]}"


def build_sealer(settings: Settings, now: Any) -> Sealer:
    matrix, version = compile_region_policy(settings.policy_path)
    if settings.demo:
        ensure_keys(settings.key_directory, sorted(matrix.organisations), now)
    description = describe()
    return Sealer(
        region=settings.region,
        custodian=settings.custodian,
        matrix=matrix,
        policy_version=version,
        keyring=load_keyring(settings.key_directory, settings.hosted_organisations),
        master=settings.master(),
        owned_fields={t: d["owned_fields"] for t, d in description.items()},
    )


def build(settings: Settings, *, clock: Clock = utcnow, **env_overrides: str) -> Services:
    env: dict[str, Any] = {**settings.eventsourcing_env(), **env_overrides}
    store = CaseStore(
        env,
        pseudonym_secret=settings.pseudonym_key(),
        custodian=settings.custodian,
        sealer=build_sealer(settings, clock()),
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
        require_signatures=settings.require_signatures,
    )
    if not store.case_recorder.has_current_layout():
        store.close()
        raise SettingsError(
            "the database holds grants in an older layout (one per field) that this version "
            "no longer reads; point CASESTORE_DATABASE_URL at a new database "
            "(for the demo: make clean)"
        )
    clients = Clients(store.case_recorder, store.sealer.matrix.organisations, clock)
    subscriptions = Subscriptions(
        store.case_recorder,
        SigningSecrets(settings.master()),
        clock,
        store.max_position,
        private_destinations=settings.private_webhook_destinations,
    )
    return Services(settings=settings, store=store, clients=clients, subscriptions=subscriptions)
