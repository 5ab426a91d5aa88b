"""Ed25519 signatures over canonical documents, so provenance survives every copy.

An organisation signs the canonical JSON of what it posts; anyone holding its published keys
can check, later and elsewhere, that the document is unchanged and whose it is. The service
countersigns a document together with the author's signature to attest it accepted both.

What is signed is ``length_prefixed("sharing/1", "signature", purpose, canonical_json(doc))``
(docs/envelope.md). The ``purpose`` keeps a signature made for one use (say an event) from
being replayed as another (say a webhook delivery) even if the documents look alike.

Every failure to verify (unknown or retired key, wrong organisation, altered document,
malformed signature, a document that has no canonical form) raises one opaque
``SignatureInvalid``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import nacl.exceptions
import nacl.signing

from sharing.canonical import b64decode, b64encode, canonical_json, length_prefixed
from sharing.errors import KeyNotFound, SignatureInvalid
from sharing.keys import OrgPublicKeys, SigningKey, find_verify_key

__all__ = [
    "COUNTERSIGNATURE",
    "Signature",
    "countersign",
    "sign",
    "signing_input",
    "verify",
    "verify_countersignature",
]

COUNTERSIGNATURE = "countersignature"
SIGNATURE_BYTES = 64


@dataclass(frozen=True, slots=True)
class Signature:
    """A detached signature and the (organisation, key id) that made it."""

    org_id: str
    key_id: str
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "org_id": self.org_id,
            "key_id": self.key_id,
            "signature": b64encode(self.signature),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Signature:
        try:
            org_id, key_id, signature = data["org_id"], data["key_id"], data["signature"]
            if not (isinstance(org_id, str) and isinstance(key_id, str)):
                raise TypeError
            if not isinstance(signature, str):
                raise TypeError
            return cls(org_id, key_id, b64decode(signature))
        except (KeyError, TypeError, ValueError):
            raise SignatureInvalid() from None


def signing_input(document: object, purpose: str) -> bytes:
    """The exact bytes an Ed25519 signature covers."""
    return length_prefixed("sharing/1", "signature", purpose, canonical_json(document))


def sign(document: object, key: SigningKey, *, purpose: str) -> Signature:
    """Sign ``document``; raises ValueError/TypeError if it has no canonical JSON form."""
    return Signature(key.org_id, key.key_id, key.sign(signing_input(document, purpose)))


def verify(
    document: object,
    signature: Signature,
    public_keys: Iterable[OrgPublicKeys],
    *,
    purpose: str,
    at: datetime,
) -> None:
    """Check ``signature`` on ``document`` by a key of its organisation valid at ``at``.

    ``at`` is the moment the document says it was signed (or now, for a fresh post): a key
    retired afterwards still vouches for what it signed while it was current.
    """
    try:
        verify_key = find_verify_key(public_keys, signature.org_id, signature.key_id, at)
        message = signing_input(document, purpose)
        if len(signature.signature) != SIGNATURE_BYTES:
            raise ValueError
        nacl.signing.VerifyKey(verify_key).verify(message, signature.signature)
    except (KeyNotFound, nacl.exceptions.CryptoError, ValueError, TypeError):
        raise SignatureInvalid() from None


def countersign(document: object, author: Signature, key: SigningKey, *, purpose: str) -> Signature:
    """The service's signature over a document and its author's signature.

    Does not check the author's signature itself: call ``verify`` first, then countersign what
    was verified.
    """
    return sign(_countersigned(document, author, purpose), key, purpose=COUNTERSIGNATURE)


def verify_countersignature(
    document: object,
    author: Signature,
    counter: Signature,
    public_keys: Iterable[OrgPublicKeys],
    *,
    purpose: str,
    at: datetime,
    countersigned_at: datetime | None = None,
) -> None:
    """Check both the author's signature (key valid at ``at``) and the service's
    countersignature over it (key valid at ``countersigned_at``, default ``at``)."""
    keys = list(public_keys)
    verify(document, author, keys, purpose=purpose, at=at)
    countersigned = _countersigned(document, author, purpose)
    when = at if countersigned_at is None else countersigned_at
    verify(countersigned, counter, keys, purpose=COUNTERSIGNATURE, at=when)


def _countersigned(document: object, author: Signature, purpose: str) -> dict[str, object]:
    return {"document": document, "purpose": purpose, "signature": author.to_json()}
