"""Backups by design: case keys are wrapped under rotating epochs, and once a retired epoch
is destroyed a copy of the database taken before the rotation opens nothing with the key
material that is left. Both backends."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from casestore.adapters.epochs import EpochError, split_wrapped
from casestore.bootstrap import Services
from sharing.canonical import b64decode
from sharing.envelope import unwrap_case_key
from sharing.errors import DecryptionFailed, SharingError
from sharing.keys import MasterKey
from tests.factories import GGZ, Clock, aanmelding, fresh_bsn, submit


def backup(services: Services, tmp_path: Path) -> dict[str, str]:
    """The case keys as a copy of the database holds them: on SQLite a file copy made with
    the backup API; on PostgreSQL the key table as a dump would hold it."""
    path = services.settings.sqlite_path
    if path is not None:
        copy = tmp_path / "backup.sqlite3"
        with sqlite3.connect(path) as live, sqlite3.connect(copy) as target:
            live.backup(target)
        with sqlite3.connect(copy) as target:
            rows = target.execute("SELECT case_id, wrapped FROM casestore_case_keys").fetchall()
        live.close()
        target.close()
        return dict(rows)
    return dict(services.store.records.tables.wrapped_case_keys())


def surviving_material(services: Services, tmp_path: Path) -> list[MasterKey]:
    """Every key the deployment still has: the master key and every epoch file left."""
    directory = services.settings.epochs_directory
    assert directory is not None
    files = [MasterKey.from_file(p) for p in sorted(directory.glob("*.key"))]
    return [services.settings.master(), *files]


def test_after_rotation_and_destruction_of_the_old_epoch_an_old_backup_opens_nothing(
    services: Services, clock: Clock, tmp_path: Path
) -> None:
    store, region = services.store, services.sealer.region
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    case_id = str(opened.case_id)
    case_key = store.case_key(opened.case_id)
    before = backup(services, tmp_path)
    epoch, encoded = split_wrapped(before[case_id])
    assert epoch == 1
    directory = services.settings.epochs_directory
    assert directory is not None
    old = MasterKey.from_file(directory / "1.key")
    assert unwrap_case_key(old, region, case_id, b64decode(encoded)) == case_key  # it did open

    rotation = services.key_epochs.rotate()
    assert (rotation.epoch, rotation.rewrapped) == (2, 1)
    with pytest.raises(EpochError):  # the backups taken before still need it
        services.key_epochs.destroy(1)
    clock.advance(days=services.settings.backup_retention_days + 1)
    services.key_epochs.destroy(1)

    # the live store still opens the case, under the new epoch
    store.sealer.forget_case_key(case_id)
    assert store.case_key(opened.case_id) == case_key
    assert split_wrapped(dict(store.records.tables.wrapped_case_keys())[case_id])[0] == 2
    # the old copy opens with nothing that is left
    for key in surviving_material(services, tmp_path):
        with pytest.raises((DecryptionFailed, SharingError)):
            unwrap_case_key(key, region, case_id, b64decode(encoded))
    assert not (directory / "1.key").exists()


def test_the_current_epoch_and_the_master_key_cannot_be_destroyed(services: Services) -> None:
    with pytest.raises(EpochError):
        services.key_epochs.destroy(1)
    with pytest.raises(EpochError):
        services.key_epochs.destroy(0)
    assert timedelta(days=services.settings.backup_retention_days) > timedelta(0)
