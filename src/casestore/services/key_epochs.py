"""Rotating the epoch case keys are wrapped under, and destroying a retired one.

See casestore.adapters.epochs for why: a backup taken before a rotation holds case keys
wrapped under the old epoch, and once that epoch is destroyed (after the backup retention)
nothing that survives opens them — the keys of cases destroyed since included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from casestore.services.case_store import CaseStore
from casestore.services.grants import Grants

log = structlog.get_logger("casestore.services.key_epochs")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rotation:
    epoch: int
    rewrapped: int


class KeyEpochs:
    def __init__(self, store: CaseStore, grants: Grants, backup_retention: timedelta) -> None:
        self.store = store
        self.grants = grants
        self.backup_retention = backup_retention
        self.epochs = store.sealer.epochs

    def rotate(self, progress: Progress | None = None) -> Rotation:
        """Start a new epoch and re-wrap every case key under it."""
        epoch = self.epochs.rotate(self.store.clock())
        rewrapped = self.rewrap(progress)
        log.info("case-key epoch rotated", epoch=epoch, rewrapped=rewrapped)
        return Rotation(epoch, rewrapped)

    def rewrap(self, progress: Progress | None = None) -> int:
        """Wrap every case key not yet under the current epoch under it; how many were not.
        The old wrapped keys are then erased from the database files."""
        tables = self.store.records.tables
        rows = tables.wrapped_case_keys()
        changed = []
        for done, (case_id, wrapped) in enumerate(rows, start=1):
            again = self.store.sealer.rewrapped(case_id, wrapped)
            if again is not None:
                changed.append((case_id, again))
            if progress is not None:
                progress(done, len(rows))
        if changed:
            tables.rewrap(changed)
            self.grants.erase_freed()
        return len(changed)

    def destroy(self, epoch: int) -> int:
        """Destroy a retired epoch's key after the backup retention; case keys a process
        wrapped under it after the rotation are re-wrapped first (how many)."""
        rewrapped = self.rewrap()
        self.epochs.destroy(epoch, self.store.clock(), self.backup_retention)
        log.info("case-key epoch destroyed", epoch=epoch, rewrapped=rewrapped)
        return rewrapped
