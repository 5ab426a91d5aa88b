"""The composition root: the one place that wires settings into services.

The API, the CLI and the tests all call `build()`; tests pass their own settings and
overrides (a fixed clock, a PostgreSQL schema of their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casestore.application import CaseStore, Clock, utcnow
from casestore.settings import Settings


@dataclass
class Services:
    settings: Settings
    store: CaseStore

    def close(self) -> None:
        self.store.close()


def build(settings: Settings, *, clock: Clock = utcnow, **env_overrides: str) -> Services:
    env: dict[str, Any] = {
        **settings.eventsourcing_env(),
        **env_overrides,
    }
    store = CaseStore(
        env,
        pseudonym_secret=settings.pseudonym_key(),
        custodian=settings.custodian,
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
    )
    return Services(settings=settings, store=store)
