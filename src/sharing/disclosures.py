"""Selective disclosure: every sealed value is signed through a salted digest, so a recipient
checks exactly the values it opened and learns nothing of the others.

As in SD-JWT, what gets sealed is a *disclosure*, the canonical JSON of
``[salt, sealed name, value]``, and what the author signs is its digest. A recipient that
opens a field recomputes the digest from the very bytes it opened. The 16-byte salt keeps a
withheld value of few possibilities (a level, yes or no, a date of birth) from being found
by hashing every candidate; it travels only inside the sealed plaintext.

A field sealed per owner (a plan's actions, see ``sharing.owned``) has one digest per
owner's part. They are listed sorted, among random decoys, padded to a multiple of 16, and
no digest is named by its owner: the list tells a recipient neither who the other owners
are nor how many there are.

docs/provenance.md specifies the encoding byte for byte.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sharing.canonical import b64decode, b64encode, canonical_json
from sharing.keys import Randomness
from sharing.owned import field_of
from sharing.primitives import blake2b

__all__ = [
    "DECOY_BLOCK",
    "DIGEST_BYTES",
    "SALT_BYTES",
    "Digests",
    "Disclosure",
    "digest",
    "digests_of",
    "disclose",
    "is_digest",
    "is_digest_list",
    "matches",
    "read_disclosure",
]

SALT_BYTES = 16
DIGEST_BYTES = 32
DECOY_BLOCK = 16
_PERSONAL = b"sharing/1/sd"

Digests = dict[str, str | list[str]]
"""Per content field: its disclosure's digest, or for an owned field the padded list of its
parts' digests. base64url throughout."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One sealed value with its salt: what is sealed, and what its digest is taken of."""

    salt: bytes
    name: str  # the sealed name: a field, or ``<field>/<owner>`` for one owner's part
    value: Any

    def encode(self) -> bytes:
        return canonical_json([b64encode(self.salt), self.name, self.value])


def disclose(values: Mapping[str, Any], rng: Randomness = os.urandom) -> dict[str, Disclosure]:
    """A fresh salt for every sealed value (drawn in one call, in ``values`` order)."""
    random = _draw(rng, SALT_BYTES * len(values))
    return {
        name: Disclosure(random[i * SALT_BYTES : (i + 1) * SALT_BYTES], name, value)
        for i, (name, value) in enumerate(values.items())
    }


def digest(encoded: bytes) -> str:
    """The digest of a disclosure's exact bytes (never of a re-encoding of them)."""
    return b64encode(blake2b(encoded, DIGEST_BYTES, _PERSONAL))


def digests_of(
    encoded: Mapping[str, bytes], owned: Iterable[str], rng: Randomness = os.urandom
) -> Digests:
    """The ``digests`` member of an author's document.

    ``encoded`` holds every disclosure of the event by sealed name; ``owned`` names the
    event type's owned fields, which get a list even when no entry (so no part) exists.
    Decoys are drawn in one call, 32 bytes each, in sorted order of the owned fields.
    """
    result: Digests = {}
    listed: dict[str, list[str]] = {field: [] for field in owned}
    for name, data in encoded.items():
        field, owner = field_of(name)
        if owner:
            if field not in listed:
                raise ValueError(f"{name!r} is a part of {field!r}, which is not owned")
            listed[field].append(digest(data))
        else:
            if field in listed:
                raise ValueError(f"{field!r} is owned: it is sealed in parts")
            result[field] = digest(data)
    padding = {field: _padding(len(parts)) for field, parts in listed.items()}
    random = _draw(rng, DIGEST_BYTES * sum(padding.values()))
    at = 0
    for field in sorted(listed):
        decoys = [
            b64encode(random[at + i * DIGEST_BYTES : at + (i + 1) * DIGEST_BYTES])
            for i in range(padding[field])
        ]
        at += DIGEST_BYTES * padding[field]
        result[field] = sorted(listed[field] + decoys)
    return result


def _padding(real: int) -> int:
    """Decoys that bring ``real`` digests to a multiple of 16, and never to zero."""
    return max(DECOY_BLOCK, -(-real // DECOY_BLOCK) * DECOY_BLOCK) - real


def is_digest(value: object) -> bool:
    """Whether ``value`` is a digest (or decoy) as documents carry it: 32 bytes, base64url."""
    if not isinstance(value, str):
        return False
    try:
        return len(b64decode(value)) == DIGEST_BYTES
    except ValueError:
        return False


def is_digest_list(value: object) -> bool:
    """Whether ``value`` is a well-formed owned field's list: sorted, distinct, padded."""
    return (
        isinstance(value, list)
        and len(value) >= DECOY_BLOCK
        and len(value) % DECOY_BLOCK == 0
        and all(is_digest(item) for item in value)
        and all(a < b for a, b in pairwise(value))
    )


def matches(digests: Mapping[str, object], name: str, encoded: bytes) -> bool:
    """Whether the disclosure ``encoded``, sealed as ``name``, is one the document signs."""
    field, owner = field_of(name)
    listed = digests.get(field)
    found = digest(encoded)
    if owner:
        return is_digest_list(listed) and found in listed  # type: ignore[operator]
    return isinstance(listed, str) and hmac.compare_digest(found, listed)


def read_disclosure(name: str, encoded: bytes) -> Disclosure:
    """The disclosure opened as sealed name ``name``; ValueError unless it is one, for
    that name."""
    try:
        decoded = json.loads(encoded)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not JSON") from exc
    if not (isinstance(decoded, list) and len(decoded) == 3):
        raise ValueError("not [salt, name, value]")
    salt_text, sealed_name, value = decoded
    salt = b64decode(salt_text)
    if len(salt) != SALT_BYTES:
        raise ValueError("salt is not 16 bytes")
    if sealed_name != name:
        raise ValueError("disclosure for another field")
    return Disclosure(salt, name, value)


def _draw(rng: Randomness, length: int) -> bytes:
    random = rng(length) if length else b""
    if len(random) != length:
        raise ValueError("randomness source returned the wrong length")
    return random
