"""The key directory: every organisation's published key generations, signed by the custodian.

A recipient needs the custodian's key to check countersignatures and each author's key to
check what it signed. Key files handed around go stale at the first rotation, so the service
publishes them all as one document that the custodian signs. A partner pins the custodian's
signing key id once: key ids are derived from the key (docs/envelope.md), so the id names
exactly one key, and a directory that key did not sign is refused.

What a directory does not prove is that it is the latest: one signed earlier still verifies.
``issued_at`` is signed, so a reader can refuse one older than it accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sharing.errors import InvalidKey, ProvenanceInvalid, SignatureInvalid
from sharing.keys import OrgPublicKeys, SigningKey, format_time, parse_time
from sharing.signing import Signature, sign, verify

__all__ = [
    "DIRECTORY_VERSION",
    "KEY_DIRECTORY",
    "KeyDirectory",
    "directory_document",
    "read_directory",
    "sign_directory",
]

KEY_DIRECTORY = "casestore/key-directory"
DIRECTORY_VERSION = 1


@dataclass(frozen=True)
class KeyDirectory:
    """A verified directory: whose keys were valid when, and who the custodian is."""

    region: str
    custodian: str
    issued_at: datetime
    keys: tuple[OrgPublicKeys, ...]


def directory_document(
    region: str, custodian: str, issued_at: datetime, records: Iterable[OrgPublicKeys]
) -> dict[str, Any]:
    """What the custodian signs: every generation, ordered so the document is stable."""
    ordered = sorted(records, key=lambda r: (r.org_id, r.valid_from, r.sign_key_id))
    return {
        "v": DIRECTORY_VERSION,
        "region": region,
        "custodian": custodian,
        "issued_at": format_time(issued_at),
        "keys": [record.to_json() for record in ordered],
    }


def sign_directory(document: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """The directory as published: the document and the custodian's signature beside it."""
    return {
        "document": dict(document),
        "signature": sign(document, key, purpose=KEY_DIRECTORY).to_json(),
    }


def read_directory(
    published: Mapping[str, Any], *, custodian_key_id: str | None = None, trust: bool = False
) -> KeyDirectory:
    """The directory, once its signature is checked against the pinned custodian key.

    Without ``custodian_key_id`` the directory vouches for itself, which only helps against
    damage, not against whoever can change what the reader fetches: the caller has to say
    so with ``trust=True``.
    """
    if custodian_key_id is None and not trust:
        raise ValueError("pin the custodian's signing key id, or trust the directory explicitly")
    try:
        document = published["document"]
        signature = Signature.from_json(published["signature"])
        if not isinstance(document, Mapping) or document.get("v") != DIRECTORY_VERSION:
            raise TypeError
        region, custodian = document["region"], document["custodian"]
        if not (isinstance(region, str) and isinstance(custodian, str)):
            raise TypeError
        issued_at = parse_time(document["issued_at"])
        keys = tuple(OrgPublicKeys.from_json(item) for item in document["keys"])
    except (KeyError, TypeError, ValueError, InvalidKey, SignatureInvalid):
        raise ProvenanceInvalid("not a key directory (version 1)") from None
    if signature.org_id != custodian:
        raise ProvenanceInvalid(f"the key directory is not signed by its custodian {custodian}")
    if custodian_key_id is not None and signature.key_id != custodian_key_id:
        raise ProvenanceInvalid(
            f"the key directory is signed by key {signature.key_id}, "
            f"not by the pinned custodian key {custodian_key_id}"
        )
    try:
        verify(document, signature, keys, purpose=KEY_DIRECTORY, at=issued_at)
    except SignatureInvalid:
        raise ProvenanceInvalid("the key directory's signature does not verify") from None
    return KeyDirectory(region, custodian, issued_at, keys)
