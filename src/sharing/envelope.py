"""Sealing event fields for exactly the organisations a policy grants, and opening them.

The format ("sharing/1") is specified byte for byte in docs/envelope.md; this is its
reference implementation. In short, for one event:

- every field gets a fresh 32-byte data key and is encrypted with XChaCha20-Poly1305 under
  associated data that names region, case, event, event type and field; a BLAKE2b key
  commitment sits beside the ciphertext so no second key can open it;
- one ephemeral X25519 key pair serves the whole event: one Diffie-Hellman per recipient
  organisation gives a key-encryption key (KEK), and each field's data key is wrapped under
  the KEK of every organisation granted that field, one ``Grant`` record per
  (field, organisation, key);
- every data key is also wrapped under the per-case key (``Escrow``), itself wrapped under the
  service master key, so the service can ``regrant`` after a policy change or key rotation and
  can shred a case by destroying one key.

Data (all frozen, all bytes raw; ``to_json``/``from_json`` give the wire form)::

    EventContext(region, case_id, event_id, event_type)       .field(name) -> FieldContext
    FieldContext(region, case_id, event_id, event_type, field)
    SealedField(field, nonce, ciphertext, commitment)          stored with the event
    Grant(org_id, key_id, field, ephemeral_public, nonce, wrapped_key)   stored apart, deletable
    Escrow(field, nonce, wrapped_key)                          stored apart, service only
    SealedEvent(fields, grants, escrows)

Operations::

    seal_event(event, plaintexts, recipients_by_field, case_key, *, rng) -> SealedEvent
    open_field(sealed, grant, ctx, key: DecryptionKey) -> bytes
    open_field_from_escrow(sealed, escrow, ctx, case_key) -> bytes
    regrant(escrow, ctx, case_key, recipient, *, rng) -> Grant
    new_case_key(rng) -> bytes
    wrap_case_key(master, region, case_id, case_key, *, rng) -> bytes
    unwrap_case_key(master, region, case_id, wrapped) -> bytes
    load_case_key(store: CaseKeyStore, master, region, case_id) -> bytes

Every failure to open raises ``DecryptionFailed`` and nothing else, whatever the cause. A
case key given as ``None`` means the case was shredded: ``CaseKeyDestroyed``.

``rng`` exists for tests and the published vectors only. Each operation draws all its
randomness in one call, laid out as follows (``n`` recipients of a field)::

    seal_event:     ephemeral secret (32), then per field in ``plaintexts`` order:
                    data key (32), content nonce (24), escrow nonce (24), n x grant nonce (24)
    regrant:        ephemeral secret (32), grant nonce (24)
    wrap_case_key:  nonce (24)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import nacl.bindings
import nacl.exceptions

from sharing.canonical import b64decode, b64encode, length_prefixed
from sharing.errors import CaseKeyDestroyed, DecryptionFailed, InvalidKey
from sharing.keys import DecryptionKey, MasterKey, Randomness, Recipient
from sharing.primitives import KEY_BYTES, NONCE_BYTES, TAG_BYTES, blake2b
from sharing.primitives import aead_encrypt as _seal

__all__ = [
    "FORMAT",
    "WIRE_VERSION",
    "CaseKeyStore",
    "Escrow",
    "EventContext",
    "FieldContext",
    "Grant",
    "SealedEvent",
    "SealedField",
    "case_key_ad",
    "commitment",
    "content_ad",
    "derive_kek",
    "escrow_ad",
    "grant_ad",
    "load_case_key",
    "new_case_key",
    "open_field",
    "open_field_from_escrow",
    "regrant",
    "seal_event",
    "unwrap_case_key",
    "wrap_case_key",
]

FORMAT = "sharing/1"
WIRE_VERSION = 1

COMMITMENT_BYTES = 32

# BLAKE2b personalisation is 16 bytes; shorter strings are zero-padded (as libsodium's
# crypto_generichash_blake2b_salt_personal and PyNaCl do).
_COMMIT_PERSONAL = b"sharing/1/commit"
_KEK_PERSONAL = b"sharing/1/kek".ljust(16, b"\0")

# length_prefixed(a, b, c) == length_prefixed(a) + length_prefixed(b, c), so constant heads
# are encoded once and context tails appended in the hot loop.
_CONTENT = length_prefixed(FORMAT, "content")
_GRANT = length_prefixed(FORMAT, "grant")
_ESCROW = length_prefixed(FORMAT, "escrow")
_KEK = length_prefixed(FORMAT, "kek")
_CASE_KEY = length_prefixed(FORMAT, "case-key")

_decrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt
_equal = nacl.bindings.sodium_memcmp


@dataclass(frozen=True, slots=True)
class EventContext:
    """What an event's ciphertexts are bound to; fields add their name to it."""

    region: str
    case_id: str
    event_id: str
    event_type: str

    def field(self, name: str) -> FieldContext:
        return FieldContext(self.region, self.case_id, self.event_id, self.event_type, name)

    def encoded(self) -> bytes:
        return length_prefixed(self.region, self.case_id, self.event_id, self.event_type)


@dataclass(frozen=True, slots=True)
class FieldContext:
    """The exact place a value belongs; a ciphertext opens only in the place it was sealed for."""

    region: str
    case_id: str
    event_id: str
    event_type: str
    field: str

    @property
    def event(self) -> EventContext:
        return EventContext(self.region, self.case_id, self.event_id, self.event_type)


@dataclass(frozen=True, slots=True)
class SealedField:
    field: str
    nonce: bytes
    ciphertext: bytes
    commitment: bytes

    def to_json(self) -> dict[str, str | int]:
        return {
            "v": WIRE_VERSION,
            "field": self.field,
            "nonce": b64encode(self.nonce),
            "ciphertext": b64encode(self.ciphertext),
            "commitment": b64encode(self.commitment),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SealedField:
        with _Opaque():
            _check_version(data)
            return cls(
                field=_str(data, "field"),
                nonce=_b64(data, "nonce"),
                ciphertext=_b64(data, "ciphertext"),
                commitment=_b64(data, "commitment"),
            )


@dataclass(frozen=True, slots=True)
class Grant:
    """One organisation's access to one field of one event; deleting it revokes that access.

    Holds only what the recipient needs to unwrap with its private key, nothing secret.
    """

    org_id: str
    key_id: str
    field: str
    ephemeral_public: bytes
    nonce: bytes
    wrapped_key: bytes

    def to_json(self) -> dict[str, str | int]:
        return {
            "v": WIRE_VERSION,
            "org_id": self.org_id,
            "key_id": self.key_id,
            "field": self.field,
            "ephemeral_public": b64encode(self.ephemeral_public),
            "nonce": b64encode(self.nonce),
            "wrapped_key": b64encode(self.wrapped_key),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Grant:
        with _Opaque():
            _check_version(data)
            return cls(
                org_id=_str(data, "org_id"),
                key_id=_str(data, "key_id"),
                field=_str(data, "field"),
                ephemeral_public=_b64(data, "ephemeral_public"),
                nonce=_b64(data, "nonce"),
                wrapped_key=_b64(data, "wrapped_key"),
            )


@dataclass(frozen=True, slots=True)
class Escrow:
    """A field's data key under the case key: how the service re-issues grants."""

    field: str
    nonce: bytes
    wrapped_key: bytes

    def to_json(self) -> dict[str, str | int]:
        return {
            "v": WIRE_VERSION,
            "field": self.field,
            "nonce": b64encode(self.nonce),
            "wrapped_key": b64encode(self.wrapped_key),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Escrow:
        with _Opaque():
            _check_version(data)
            return cls(
                field=_str(data, "field"),
                nonce=_b64(data, "nonce"),
                wrapped_key=_b64(data, "wrapped_key"),
            )


@dataclass(frozen=True, slots=True)
class SealedEvent:
    fields: dict[str, SealedField]
    grants: tuple[Grant, ...]
    escrows: dict[str, Escrow]


class CaseKeyStore(Protocol):
    """Where the caller keeps wrapped case keys; ``None`` once a case is shredded."""

    def wrapped_case_key(self, region: str, case_id: str) -> bytes | None: ...


# --- associated data and derivations (the building blocks docs/envelope.md specifies) -------


def content_ad(ctx: FieldContext) -> bytes:
    return _CONTENT + _event_bytes(ctx) + length_prefixed(ctx.field)


def escrow_ad(ctx: FieldContext) -> bytes:
    return _ESCROW + _event_bytes(ctx) + length_prefixed(ctx.field)


def grant_ad(ctx: FieldContext, org_id: str, key_id: str) -> bytes:
    return _GRANT + _event_bytes(ctx) + length_prefixed(ctx.field, org_id, key_id)


def case_key_ad(region: str, case_id: str) -> bytes:
    return _CASE_KEY + length_prefixed(region, case_id)


def commitment(data_key: bytes, ctx: FieldContext) -> bytes:
    """Binds the ciphertext to one data key: Poly1305 alone does not (it is not committing)."""
    return blake2b(content_ad(ctx), COMMITMENT_BYTES, _COMMIT_PERSONAL, data_key)


def derive_kek(
    shared_secret: bytes,
    ephemeral_public: bytes,
    recipient: Recipient,
    event: EventContext,
) -> bytes:
    """Per (event, recipient key) wrapping key from the X25519 shared secret.

    Hashing both public keys in follows crypto_box_seal and binds the KEK to this exact
    exchange; hashing the context in makes a KEK useless for any other event or organisation.
    """
    return _kek(shared_secret, ephemeral_public, recipient, event.encoded())


def _kek(shared: bytes, epk: bytes, recipient: Recipient, event_bytes: bytes) -> bytes:
    message = (
        _KEK
        + event_bytes
        + length_prefixed(recipient.org_id, recipient.key_id, epk, recipient.public_key)
    )
    return blake2b(message, KEY_BYTES, _KEK_PERSONAL, shared)


def _event_bytes(ctx: FieldContext) -> bytes:
    return length_prefixed(ctx.region, ctx.case_id, ctx.event_id, ctx.event_type)


# --- case keys -------------------------------------------------------------------------------


def new_case_key(rng: Randomness = os.urandom) -> bytes:
    return _draw(rng, KEY_BYTES)


def wrap_case_key(
    master: MasterKey,
    region: str,
    case_id: str,
    case_key: bytes,
    *,
    rng: Randomness = os.urandom,
) -> bytes:
    """``nonce || ciphertext``: one opaque blob for the caller's case key store."""
    _check_key(case_key)
    nonce = _draw(rng, NONCE_BYTES)
    return nonce + _seal(case_key, case_key_ad(region, case_id), nonce, master.reveal())


def unwrap_case_key(master: MasterKey, region: str, case_id: str, wrapped: bytes | None) -> bytes:
    if wrapped is None:
        raise CaseKeyDestroyed(f"case key of {case_id!r} was destroyed")
    with _Opaque():
        _need(len(wrapped) == NONCE_BYTES + KEY_BYTES + TAG_BYTES)
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        return bytes(_decrypt(sealed, case_key_ad(region, case_id), nonce, master.reveal()))


def load_case_key(store: CaseKeyStore, master: MasterKey, region: str, case_id: str) -> bytes:
    return unwrap_case_key(master, region, case_id, store.wrapped_case_key(region, case_id))


# --- sealing ---------------------------------------------------------------------------------


def seal_event(
    event: EventContext,
    plaintexts: Mapping[str, bytes],
    recipients_by_field: Mapping[str, Sequence[Recipient]],
    case_key: bytes | None,
    *,
    rng: Randomness = os.urandom,
) -> SealedEvent:
    """Encrypt every field and grant each to exactly the recipients listed for it.

    A field without recipients is still sealed and escrowed: only a later ``regrant`` can
    share it.
    """
    case_key = _live_case_key(case_key)
    unknown = set(recipients_by_field) - set(plaintexts)
    if unknown:
        raise ValueError(f"recipients given for fields not in the event: {sorted(unknown)}")
    for name, recipients in recipients_by_field.items():
        ids = [(r.org_id, r.key_id) for r in recipients]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate recipient for field {name!r}")

    per_field = KEY_BYTES + 2 * NONCE_BYTES
    total = KEY_BYTES + sum(
        per_field + NONCE_BYTES * len(recipients_by_field.get(name, ())) for name in plaintexts
    )
    random = _draw(rng, total)
    ephemeral_secret, at = random[:KEY_BYTES], KEY_BYTES
    ephemeral_public = nacl.bindings.crypto_scalarmult_base(ephemeral_secret)

    event_bytes = event.encoded()
    keks: dict[Recipient, tuple[bytes, bytes]] = {}
    fields: dict[str, SealedField] = {}
    escrows: dict[str, Escrow] = {}
    grants: list[Grant] = []
    for name, plaintext in plaintexts.items():
        field_bytes = length_prefixed(name)
        data_key = random[at : at + KEY_BYTES]
        nonce = random[at + KEY_BYTES : at + KEY_BYTES + NONCE_BYTES]
        escrow_nonce = random[at + KEY_BYTES + NONCE_BYTES : at + per_field]
        at += per_field

        ad = _CONTENT + event_bytes + field_bytes
        fields[name] = SealedField(
            name,
            nonce,
            _seal(plaintext, ad, nonce, data_key),
            blake2b(ad, COMMITMENT_BYTES, _COMMIT_PERSONAL, data_key),
        )
        escrows[name] = Escrow(
            name,
            escrow_nonce,
            _seal(data_key, _ESCROW + event_bytes + field_bytes, escrow_nonce, case_key),
        )
        grant_head = _GRANT + event_bytes + field_bytes
        for recipient in recipients_by_field.get(name, ()):
            known = keks.get(recipient)
            if known is None:
                shared = _shared_secret(ephemeral_secret, recipient.public_key)
                if shared is None:
                    raise InvalidKey(f"unusable public key for {recipient.org_id!r}")
                kek = _kek(shared, ephemeral_public, recipient, event_bytes)
                tail = length_prefixed(recipient.org_id, recipient.key_id)
                known = keks[recipient] = (kek, tail)
            kek, tail = known
            grant_nonce = random[at : at + NONCE_BYTES]
            at += NONCE_BYTES
            gad = grant_head + tail
            grants.append(
                Grant(
                    recipient.org_id,
                    recipient.key_id,
                    name,
                    ephemeral_public,
                    grant_nonce,
                    _seal(data_key + gad, gad, grant_nonce, kek),
                )
            )
    return SealedEvent(fields, tuple(grants), escrows)


def regrant(
    escrow: Escrow,
    ctx: FieldContext,
    case_key: bytes | None,
    recipient: Recipient,
    *,
    rng: Randomness = os.urandom,
) -> Grant:
    """Issue a new grant from the escrow, e.g. after a policy change or a key rotation."""
    data_key = _unescrow(escrow, ctx, case_key)
    random = _draw(rng, KEY_BYTES + NONCE_BYTES)
    ephemeral_secret, nonce = random[:KEY_BYTES], random[KEY_BYTES:]
    ephemeral_public = nacl.bindings.crypto_scalarmult_base(ephemeral_secret)
    shared = _shared_secret(ephemeral_secret, recipient.public_key)
    if shared is None:
        raise InvalidKey(f"unusable public key for {recipient.org_id!r}")
    kek = _kek(shared, ephemeral_public, recipient, _event_bytes(ctx))
    gad = grant_ad(ctx, recipient.org_id, recipient.key_id)
    wrapped = _seal(data_key + gad, gad, nonce, kek)
    return Grant(recipient.org_id, recipient.key_id, ctx.field, ephemeral_public, nonce, wrapped)


# --- opening ---------------------------------------------------------------------------------


def open_field(sealed: SealedField, grant: Grant, ctx: FieldContext, key: DecryptionKey) -> bytes:
    """Open ``sealed`` as the value of ``ctx`` using a grant issued to ``key``."""
    with _Opaque():
        _need(sealed.field == ctx.field == grant.field)
        _need(grant.org_id == key.org_id and grant.key_id == key.key_id)
        _need(len(grant.ephemeral_public) == KEY_BYTES and len(grant.nonce) == NONCE_BYTES)
        shared = _shared_secret(key.private_key, grant.ephemeral_public)
        if shared is None:
            raise _Rejected
        kek = _kek(shared, grant.ephemeral_public, key.recipient, _event_bytes(ctx))
        gad = grant_ad(ctx, grant.org_id, grant.key_id)
        plain = _decrypt(grant.wrapped_key, gad, grant.nonce, kek)
        _need(len(plain) == KEY_BYTES + len(gad) and _equal(plain[KEY_BYTES:], gad))
        return _open_content(sealed, ctx, plain[:KEY_BYTES])


def open_field_from_escrow(
    sealed: SealedField, escrow: Escrow, ctx: FieldContext, case_key: bytes | None
) -> bytes:
    """The service's own read path (e.g. for an authorised timeline), via the case key."""
    data_key = _unescrow(escrow, ctx, case_key)
    with _Opaque():
        _need(sealed.field == ctx.field)
        return _open_content(sealed, ctx, data_key)


def _open_content(sealed: SealedField, ctx: FieldContext, data_key: bytes) -> bytes:
    _need(len(sealed.nonce) == NONCE_BYTES and len(sealed.commitment) == COMMITMENT_BYTES)
    ad = content_ad(ctx)
    expected = blake2b(ad, COMMITMENT_BYTES, _COMMIT_PERSONAL, data_key)
    _need(_equal(expected, sealed.commitment))
    return bytes(_decrypt(sealed.ciphertext, ad, sealed.nonce, data_key))


def _unescrow(escrow: Escrow, ctx: FieldContext, case_key: bytes | None) -> bytes:
    case_key = _live_case_key(case_key)
    with _Opaque():
        _need(escrow.field == ctx.field and len(escrow.nonce) == NONCE_BYTES)
        data_key = _decrypt(escrow.wrapped_key, escrow_ad(ctx), escrow.nonce, case_key)
        _need(len(data_key) == KEY_BYTES)
        return bytes(data_key)


# --- helpers ---------------------------------------------------------------------------------


class _Rejected(Exception):
    """Internal: a check failed while opening; always turned into DecryptionFailed."""


class _Opaque:
    """Turn every failure inside the block into a bare DecryptionFailed without a cause.

    ``from None`` matters: a chained cause would put the real reason into tracebacks and logs.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: object, tb: object) -> None:
        if kind is not None and issubclass(kind, _OPENING_FAILURES):
            raise DecryptionFailed() from None


_OPENING_FAILURES = (_Rejected, nacl.exceptions.CryptoError, ValueError, TypeError, KeyError)


def _need(condition: bool) -> None:
    if not condition:
        raise _Rejected


def _shared_secret(secret: bytes, public: bytes) -> bytes | None:
    """X25519, or None for a low-order point (the result would be all zeros, i.e. public)."""
    try:
        shared = nacl.bindings.crypto_scalarmult(secret, public)
    except nacl.exceptions.CryptoError:
        return None
    return None if shared == bytes(KEY_BYTES) else shared


def _live_case_key(case_key: bytes | None) -> bytes:
    if case_key is None:
        raise CaseKeyDestroyed("the case key was destroyed")
    _check_key(case_key)
    return case_key


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise InvalidKey("case key must be 32 bytes")


def _draw(rng: Randomness, length: int) -> bytes:
    random = rng(length)
    if len(random) != length:
        raise ValueError("randomness source returned the wrong length")
    return random


def _check_version(data: Mapping[str, object]) -> None:
    _need(data.get("v") == WIRE_VERSION and type(data.get("v")) is int)


def _str(data: Mapping[str, object], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise _Rejected
    return value


def _b64(data: Mapping[str, object], name: str) -> bytes:
    return b64decode(_str(data, name))
