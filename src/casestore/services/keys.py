"""Organisations' key generations: generating, rotating and confirming them.

A generation is an X25519 pair fields are sealed to and an Ed25519 pair its organisation
signs with. Its private half is written once, to a file the operator names (mode 0600),
and never to the store; the store keeps the public half with its validity: `valid_from`
(not before), `confirmed_at` and `retired_at`.

Rotation has an overlap window. `rotate` adds a generation that is granted at once, beside
the ones before it: new events are sealed to both, and a reconciliation re-grants the
case history to the new one from the escrow. Only when the organisation confirms that it
holds the new private key (`confirm`: `casestore keys confirm`, or the partner itself via
`POST /v1/keys/{org}/generations/{n}/confirm`) are the older generations retired, after
which a reconciliation revokes their grants. A partner that has not installed its new key
therefore never loses what it could read.

Organisations whose keys come from key files (the demo, or before this command was used)
get their file's generations copied into the store, numbered by age, the first time one is
added there; from then on the store's generations replace the file.

An organisation the service hosts (it decrypts and signs for it) rotates the same way, but
its new private key goes into the service's key directory (`Keyring.hosted_key_file`)
instead of to a file for the organisation, before the generation is added to the store:
every process that sees the new generation then finds its key. The custodian is not
rotated here: its signing key signs the key directory that partners pin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eventsourcing.persistence import IntegrityError

from casestore.adapters.keyring import Keyring, write_private
from casestore.adapters.persistence.key_generations import GenerationRow, KeyGenerationTable
from casestore.services.case_store import Clock
from sharing.canonical import b64encode
from sharing.keys import OrgPrivateKeys, OrgPublicKeys


class KeyManagementError(Exception):
    """A key generation cannot be made or confirmed; the message is safe to show."""


class UnknownGeneration(KeyManagementError):
    """No such organisation or generation (in the store)."""


@dataclass(frozen=True)
class Made:
    """A generation just added: its public record and where its private half went."""

    public: OrgPublicKeys
    private_file: Path


class KeyGenerations:
    """Key generations of the organisations the policy names, kept in the store."""

    def __init__(
        self,
        table: KeyGenerationTable,
        keyring: Keyring,
        clock: Clock,
        organisations: Callable[[], frozenset[str]],
        custodian: str | None = None,
    ) -> None:
        self.table = table
        self.keyring = keyring
        self.clock = clock
        self.organisations = organisations
        self.custodian = custodian

    def of(self, org_id: str) -> list[OrgPublicKeys]:
        """The organisation's generations, oldest first."""
        self._known(org_id)
        self.keyring.refresh(force=True)
        return self.keyring.generations(org_id)

    def generate(self, org_id: str, private_file: Path | None) -> Made:
        """The organisation's first generation, in use (and confirmed) at once."""
        if self.of(org_id):
            raise KeyManagementError(
                f"{org_id} already has keys; `casestore keys rotate {org_id}` makes new ones"
            )
        return self._add(org_id, private_file, generation=1, confirmed=True, before=[])

    def rotate(self, org_id: str, private_file: Path | None = None) -> Made:
        """A new generation, granted beside the ones in use until the organisation
        confirms it. Its private key goes to `private_file`, or, for an organisation the
        service hosts, into the service's key directory."""
        existing = self.of(org_id)
        if not existing:
            raise KeyManagementError(
                f"{org_id} has no keys yet; `casestore keys generate {org_id}` makes them"
            )
        before = [] if self.keyring.stored(org_id) else _numbered(existing)
        latest = max((r.generation or 0 for r in existing), default=0)
        number = max(latest, len(before)) + 1
        return self._add(org_id, private_file, generation=number, confirmed=False, before=before)

    def confirm(self, org_id: str, generation: int) -> OrgPublicKeys:
        """The organisation holds generation `generation`: retire every older one (their
        grants go at the next reconciliation). Confirming again changes nothing."""
        record = self._generation(org_id, generation)
        if record.retired_at is not None:
            raise KeyManagementError(
                f"generation {generation} of {org_id} was retired; confirm a newer one"
            )
        older_in_use = any(
            r.retired_at is None and (r.generation or 0) < generation for r in self.of(org_id)
        )
        if record.confirmed_at is None or older_in_use:
            self.table.confirm(org_id, generation, self.clock())
            self.keyring.refresh(force=True)
        return self._generation(org_id, generation)

    def _private_file(self, org_id: str, named: Path | None, generation: int) -> Path:
        if org_id not in self.keyring.hosted:
            if named is None:
                raise KeyManagementError(
                    f"name the file for {org_id}'s new private key (--out): the service "
                    "never keeps a partner's private key"
                )
            return named
        if named is not None:
            raise KeyManagementError(
                f"{org_id} is hosted by this service: its new private key goes into the "
                "service's key directory, not to a file (leave out --out)"
            )
        return self.keyring.hosted_key_file(org_id, generation)

    def _generation(self, org_id: str, generation: int) -> OrgPublicKeys:
        for record in self.of(org_id):
            if record.generation == generation and self.keyring.stored(org_id):
                return record
        raise UnknownGeneration(f"{org_id} has no key generation {generation}")

    def _known(self, org_id: str) -> None:
        if org_id not in self.organisations():
            raise UnknownGeneration(f"the policy names no organisation {org_id!r}")
        if org_id == self.custodian:
            raise KeyManagementError(
                f"{org_id} is the custodian, hosted by this service: its signing key signs "
                "the key directory partners pin, so its key file (CASESTORE_KEYS_DIR) is its "
                "key, not generations in the store"
            )

    def _add(
        self,
        org_id: str,
        private_file: Path | None,
        *,
        generation: int,
        confirmed: bool,
        before: list[GenerationRow],
    ) -> Made:
        private_file = self._private_file(org_id, private_file, generation)
        now = self.clock()
        keys = OrgPrivateKeys.generate(org_id, now, generation=generation)
        try:
            write_private(private_file, keys)
        except FileExistsError:
            raise KeyManagementError(f"{private_file} exists; name a new file") from None
        except OSError as exc:
            raise KeyManagementError(f"cannot write {private_file}: {exc.strerror}") from None
        row = _row(keys.public, generation, now if confirmed else None)
        try:
            self.table.add([*before, row])
        except IntegrityError:
            # Another rotation took the number first: this key was never published.
            with contextlib.suppress(OSError):
                private_file.unlink()
            raise KeyManagementError(
                f"{org_id}'s keys changed meanwhile; run the command again"
            ) from None
        self.keyring.refresh(force=True)
        return Made(self._generation(org_id, generation), private_file)


def _row(record: OrgPublicKeys, generation: int, confirmed: datetime | None) -> GenerationRow:
    return GenerationRow(
        org_id=record.org_id,
        generation=generation,
        enc_key_id=record.enc_key_id,
        enc_public_key=b64encode(record.enc_public_key),
        sign_key_id=record.sign_key_id,
        sign_public_key=b64encode(record.sign_public_key),
        valid_from=record.valid_from,
        confirmed_at=confirmed,
        retired_at=record.retired_at,
    )


def _numbered(records: list[OrgPublicKeys]) -> list[GenerationRow]:
    """A key file's generations as stored ones, numbered by age, each confirmed when it
    came into use (its organisation has used it since)."""
    ordered = sorted(records, key=lambda r: (r.valid_from, r.enc_key_id))
    return [_row(r, n, r.valid_from) for n, r in enumerate(ordered, start=1)]
