"""Case-key epochs: the keys that wrap case keys, one file per epoch, rotated and destroyed.

    <epochs_dir>/<n>.key        base64 of epoch n's 32-byte key (mode 0600)
    <epochs_dir>/<n>.retired    when epoch n stopped wrapping new case keys (RFC 3339)

A backup holds every case key as it was wrapped then. Were they wrapped under one key that
lives on, every backup would open every case ever destroyed for as long as that key lives.
So case keys are wrapped under an epoch's key: a rotation makes a new epoch, re-wraps every
case key under it, and marks the old one retired; once the backups taken before the
rotation have aged out (the backup retention), the retired epoch's file is destroyed and
those backups hold nothing the surviving keys open.

Without an epochs directory (deployments from before epochs), case keys are wrapped under
the master key itself, called epoch 0; it cannot be destroyed, since the master key has
other uses. A wrapped case key names its epoch: `e<n>:<base64>`; a bare base64 is epoch 0.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

from sharing.errors import KeyNotFound
from sharing.keys import MasterKey, format_time

_FILE = re.compile(r"^(\d+)\.key$")
_WRAPPED = re.compile(r"^e(\d+):(.*)$", re.DOTALL)


class EpochError(Exception):
    """An epoch cannot be rotated or destroyed; the message says why."""


def split_wrapped(wrapped: str) -> tuple[int, str]:
    """The epoch a stored wrapped case key names, and its base64."""
    found = _WRAPPED.match(wrapped)
    return (0, wrapped) if found is None else (int(found.group(1)), found.group(2))


def join_wrapped(epoch: int, encoded: str) -> str:
    return encoded if epoch == 0 else f"e{epoch}:{encoded}"


class Epochs:
    def __init__(self, master: MasterKey, directory: Path | None) -> None:
        self._master = master
        self.directory = directory
        self._keys: dict[int, MasterKey] = {}

    def numbers(self) -> list[int]:
        """The epochs whose keys exist, oldest first (read anew: another process may rotate)."""
        if self.directory is None or not self.directory.exists():
            return [0]
        found = sorted(
            int(m.group(1)) for p in self.directory.iterdir() if (m := _FILE.match(p.name))
        )
        return found or [0]

    def current(self) -> tuple[int, MasterKey]:
        """The epoch new case keys are wrapped under, and its key."""
        number = self.numbers()[-1]
        return number, self.key(number)

    def key(self, number: int) -> MasterKey:
        if number == 0:
            return self._master
        cached = self._keys.get(number)
        if cached is None:
            if self.directory is None:
                raise KeyNotFound(f"case-key epoch {number} is unknown: no epochs directory")
            try:
                cached = MasterKey.from_file(self.directory / f"{number}.key")
            except KeyNotFound:
                raise KeyNotFound(f"case-key epoch {number} was destroyed") from None
            self._keys[number] = cached
        return cached

    def ensure(self) -> None:
        """Make epoch 1 if there is a directory and no epoch in it yet."""
        if self.directory is not None and self.numbers() == [0]:
            self._create(1)

    def rotate(self, now: datetime) -> int:
        """Start a new epoch and mark the current one retired; the new epoch's number."""
        if self.directory is None:
            raise EpochError("CASESTORE_CASE_KEY_EPOCHS_DIR is not set: there are no epochs")
        old = self.numbers()[-1]
        new = old + 1
        self._create(new)
        if old != 0:
            (self.directory / f"{old}.retired").write_text(format_time(now) + "\n")
        return new

    def retired_at(self, number: int) -> datetime | None:
        if self.directory is None:
            return None
        marker = self.directory / f"{number}.retired"
        if not marker.exists():
            return None
        return datetime.fromisoformat(marker.read_text().strip())

    def destroy(self, number: int, now: datetime, backup_retention: timedelta) -> None:
        """Overwrite and delete a retired epoch's key, once the backup retention has passed
        since it was retired (the backups that need it have aged out)."""
        if number == 0:
            raise EpochError("epoch 0 is the master key itself, which has other uses")
        if number == self.numbers()[-1]:
            raise EpochError(f"epoch {number} is current: rotate first")
        retired = self.retired_at(number)
        if retired is None:
            raise EpochError(f"epoch {number} does not exist or was never retired")
        if now < retired + backup_retention:
            raise EpochError(
                f"epoch {number} was retired {format_time(retired)}: backups taken before "
                f"need it until {format_time(retired + backup_retention)}"
            )
        assert self.directory is not None  # noqa: S101 - retired_at read a file there
        path = self.directory / f"{number}.key"
        if path.exists():
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        self._keys.pop(number, None)

    def _create(self, number: int) -> None:
        assert self.directory is not None  # noqa: S101 - callers checked
        self.directory.mkdir(parents=True, exist_ok=True)
        MasterKey.generate().save(self.directory / f"{number}.key")
