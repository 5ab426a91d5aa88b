"""Where the service finds organisations' keys: the store's key generations, and a
directory of JSON files.

    store: casestore_key_generations   public keys per numbered generation, with validity
                                       (casestore keys generate|rotate|confirm)
    <keys_dir>/public/<org>.json       list of published key generations (OrgPublicKeys JSON),
                                       for organisations with no generation in the store
    <keys_dir>/private/<org>.json      private keys (OrgPrivateKeys JSON) — loaded ONLY for
                                       the organisations the service hosts (its custodian)
    <keys_dir>/private/<org>/<n>.json  a hosted organisation's later generations, written
                                       by `casestore keys rotate` before the generation is
                                       added to the store

A generation in the store replaces an organisation's key file entirely (the first one
stored copies the file's generations in before it: casestore.services.keys). Every
process checks the store's key-set version at most every `REFRESH_SECONDS` while it
seals, verifies or publishes, and reloads the generations when it moved, so a rotation
reaches running processes without a restart. A hosted organisation's private generations
are reloaded from the key directory at the same moment: the rotation wrote the new one
there before it moved the version, so a process that sees the new generation finds its
key (if the file has not reached a process's key directory yet, that process keeps
looking at every check until it has).

In demo mode every organisation of the policy gets a generated key pair, so the demo
partners can decrypt what they receive; the service still loads only hosted private keys.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from casestore.adapters.persistence.key_generations import GenerationRow, KeyGenerationTable
from sharing.canonical import b64decode
from sharing.envelope import Opener
from sharing.errors import KeyNotFound
from sharing.keys import (
    DecryptionKey,
    OrgPrivateKeys,
    OrgPublicKeys,
    Recipient,
    SigningKey,
    current_recipient,
    granted_recipients,
)

REFRESH_SECONDS = 0.1
"""How stale a process's view of the key generations may be (one single-row read each)."""


@dataclass
class Keyring:
    public: dict[str, list[OrgPublicKeys]]  # from the key files
    hosted: dict[str, OrgPrivateKeys] = field(repr=False)  # each hosted org's key file
    directory: Path | None = field(default=None, compare=False)  # where later ones are
    _files: dict[str, HeldKey] = field(default_factory=dict, repr=False, compare=False)
    _later: dict[str, list[HeldKey]] = field(default_factory=dict, repr=False, compare=False)
    _missing: bool = field(default=False, repr=False, compare=False)
    _table: KeyGenerationTable | None = field(default=None, repr=False, compare=False)
    _stored: dict[str, list[OrgPublicKeys]] = field(default_factory=dict, compare=False)
    _version: int = field(default=-1, compare=False)
    _checked: float = field(default=float("-inf"), repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def attach(self, table: KeyGenerationTable) -> None:
        """Follow the store's key generations from now on."""
        self._table = table
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> None:
        """Reload the stored generations if the key set changed since they were loaded."""
        table = self._table
        if table is None:
            return
        with self._lock:
            moment = time.monotonic()
            if not force and moment - self._checked < REFRESH_SECONDS:
                return
            if table.version() != self._version or self._missing:
                version, rows = table.all()
                self._stored = stored_records(rows)
                self._version = version
                self._later = self._hosted_generations()
                self._missing = any(
                    record.enc_key_id not in {k.decryption.key_id for k in self._held(org_id)}
                    for org_id in self.hosted
                    for record in self._stored.get(org_id, [])
                    if record.retired_at is None
                )
            self._checked = moment

    def hosted_key_file(self, org_id: str, generation: int) -> Path:
        """Where a hosted organisation's private key of a stored generation is kept."""
        if self.directory is None:
            raise KeyNotFound("this keyring has no key directory")
        return self.directory / "private" / org_id / f"{generation}.json"

    def _hosted_generations(self) -> dict[str, list[HeldKey]]:
        if self.directory is None:
            return {}
        later: dict[str, list[HeldKey]] = {}
        for org_id in self.hosted:
            for path in sorted((self.directory / "private" / org_id).glob("*.json")):
                try:
                    keys = OrgPrivateKeys.from_json(json.loads(path.read_text()))
                except (OSError, ValueError, KeyError, TypeError):
                    continue  # not complete yet: a generation without it is looked for again
                if keys.org_id == org_id:
                    later.setdefault(org_id, []).append(HeldKey.of(keys))
        return later

    def _held(self, org_id: str) -> list[HeldKey]:
        """A hosted organisation's private generations: its key file's, then later ones."""
        first = self._files.get(org_id)
        if first is None:
            # Deriving the key pairs from the private halves costs more than a signature.
            try:
                first = self._files[org_id] = HeldKey.of(self.hosted[org_id])
            except KeyError:
                raise KeyNotFound(f"the service does not host {org_id!r}") from None
        return [first, *self._later.get(org_id, [])]

    @property
    def version(self) -> int:
        """The key-set version loaded last (-1: not following a store)."""
        return self._version

    def generations(self, org_id: str) -> list[OrgPublicKeys]:
        """The organisation's generations: the store's, else its key file's."""
        self.refresh()
        return list(self._stored.get(org_id) or self.public.get(org_id) or [])

    def stored(self, org_id: str) -> bool:
        self.refresh()
        return bool(self._stored.get(org_id))

    def records(self) -> list[OrgPublicKeys]:
        self.refresh()
        organisations = sorted(set(self.public) | set(self._stored))
        return [
            record
            for org_id in organisations
            for record in (self._stored.get(org_id) or self.public.get(org_id) or [])
        ]

    def recipient(self, org_id: str, now: datetime) -> Recipient | None:
        """The newest key to seal to now, or None while an organisation has no usable key."""
        try:
            return current_recipient(self.generations(org_id), org_id, now)
        except KeyNotFound:
            return None

    def recipients(self, org_id: str, now: datetime) -> list[Recipient]:
        """Every key to seal to now, newest first: during a rotation's overlap, both."""
        return granted_recipients(self.generations(org_id), org_id, now)

    def decryption_keys(self, org_id: str) -> list[DecryptionKey]:
        """Every generation's key of a hosted organisation: each grant names the one that
        opens it, and during a rotation's overlap the history holds grants to both."""
        self.refresh()
        return [held.decryption for held in self._held(org_id)]

    def openers(self, org_id: str) -> list[Opener]:
        """Every generation's key of a hosted organisation, each keeping the key exchanges
        it made: reading a case's history pays one exchange per sender key, not per event."""
        self.refresh()
        return [held.opener for held in self._held(org_id)]

    def signing_key(self, org_id: str, at: datetime | None = None) -> SigningKey:
        """A hosted organisation signs with its newest generation in use (valid at `at`,
        else not retired) whose private key is held; with its key file's before any."""
        self.refresh()
        held = self._held(org_id)
        records = {r.sign_key_id: r for r in self._stored.get(org_id, [])}
        usable = [
            key
            for key in held
            if (record := records.get(key.signing.key_id)) is not None
            and (record.is_valid_at(at) if at is not None else record.retired_at is None)
        ]
        return max(usable, key=lambda k: k.valid_from, default=held[0]).signing


@dataclass(frozen=True)
class HeldKey:
    """One private generation of a hosted organisation, its key pairs derived once."""

    valid_from: datetime
    decryption: DecryptionKey = field(repr=False)
    signing: SigningKey = field(repr=False)
    opener: Opener = field(repr=False)

    @classmethod
    def of(cls, keys: OrgPrivateKeys) -> HeldKey:
        decryption = keys.decryption_key
        return cls(keys.valid_from, decryption, keys.signing_key, Opener(decryption))


def public_record(row: GenerationRow) -> OrgPublicKeys:
    return OrgPublicKeys(
        org_id=row.org_id,
        enc_key_id=row.enc_key_id,
        enc_public_key=b64decode(row.enc_public_key),
        sign_key_id=row.sign_key_id,
        sign_public_key=b64decode(row.sign_public_key),
        valid_from=row.valid_from,
        retired_at=row.retired_at,
        generation=row.generation,
        confirmed_at=row.confirmed_at,
    )


def stored_records(rows: Iterable[GenerationRow]) -> dict[str, list[OrgPublicKeys]]:
    found: dict[str, list[OrgPublicKeys]] = {}
    for row in rows:
        found.setdefault(row.org_id, []).append(public_record(row))
    return found


def load_keyring(directory: Path, hosted: Iterable[str]) -> Keyring:
    public: dict[str, list[OrgPublicKeys]] = {}
    for path in sorted((directory / "public").glob("*.json")):
        records = [OrgPublicKeys.from_json(item) for item in json.loads(path.read_text())]
        public[path.stem] = records
    private = {}
    for org_id in hosted:
        path = directory / "private" / f"{org_id}.json"
        if not path.exists():
            raise KeyNotFound(f"no private key file for hosted organisation {org_id!r}: {path}")
        private[org_id] = OrgPrivateKeys.from_json(json.loads(path.read_text()))
    return Keyring(public, private, directory)


def ensure_keys(directory: Path, organisations: Iterable[str], now: datetime) -> list[str]:
    """Generate a key pair for every organisation that has none (demo mode); returns them."""
    created = []
    for org_id in organisations:
        public_path = directory / "public" / f"{org_id}.json"
        if public_path.exists():
            continue
        keys = OrgPrivateKeys.generate(org_id, now)
        write_private(directory / "private" / f"{org_id}.json", keys)
        public_path.parent.mkdir(parents=True, exist_ok=True)
        public_path.write_text(json.dumps([keys.public.to_json()], indent=2) + "\n")
        created.append(org_id)
    return created


def write_private(path: Path, keys: OrgPrivateKeys) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys.to_json(), handle, indent=2)
        handle.write("\n")


def demo_signers(directory: Path) -> dict[str, SigningKey]:
    """Every demo partner's signing key, for the demo loader acting as those partners.

    Only demo mode calls this: in a real region partners keep their private keys.
    """
    signers = {}
    for path in sorted((directory / "private").glob("*.json")):
        keys = OrgPrivateKeys.from_json(json.loads(path.read_text()))
        signers[keys.org_id] = keys.signing_key
    return signers
