"""Where the service finds organisations' keys: a directory of JSON files.

    <keys_dir>/public/<org>.json    list of published key generations (OrgPublicKeys JSON)
    <keys_dir>/private/<org>.json   private keys (OrgPrivateKeys JSON) — loaded ONLY for
                                    the organisations the service hosts (its custodian)

In demo mode every organisation of the policy gets a generated key pair, so the demo
partners can decrypt what they receive; the service still loads only hosted private keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sharing.errors import KeyNotFound
from sharing.keys import (
    DecryptionKey,
    OrgPrivateKeys,
    OrgPublicKeys,
    Recipient,
    SigningKey,
    current_recipient,
)


@dataclass
class Keyring:
    public: dict[str, list[OrgPublicKeys]]
    hosted: dict[str, OrgPrivateKeys] = field(repr=False)
    _signers: dict[str, SigningKey] = field(default_factory=dict, repr=False, compare=False)

    def records(self) -> list[OrgPublicKeys]:
        return [record for records in self.public.values() for record in records]

    def recipient(self, org_id: str, now: datetime) -> Recipient | None:
        """The key to seal to now, or None while an organisation has no usable key."""
        try:
            return current_recipient(self.public.get(org_id, ()), org_id, now)
        except KeyNotFound:
            return None

    def decryption_key(self, org_id: str) -> DecryptionKey:
        try:
            return self.hosted[org_id].decryption_key
        except KeyError:
            raise KeyNotFound(f"the service does not host {org_id!r}") from None

    def signing_key(self, org_id: str) -> SigningKey:
        # Deriving the key pair from the seed costs more than the signature it is for.
        signer = self._signers.get(org_id)
        if signer is None:
            try:
                signer = self._signers[org_id] = self.hosted[org_id].signing_key
            except KeyError:
                raise KeyNotFound(f"the service does not host {org_id!r}") from None
        return signer


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
    return Keyring(public, private)


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
