"""Sealing event fields for exactly the organisations a policy grants, and opening them.

The format ("sharing/1") is specified byte for byte in docs/envelope.md; this is its
reference implementation. In short, for one event:

- every field gets a fresh 32-byte data key and is encrypted with XChaCha20-Poly1305 under
  associated data that names region, case, event, event type and field; a BLAKE2b key
  commitment sits beside the ciphertext so no second key can open it;
- one ephemeral X25519 key pair serves the whole event, or, when the sealer passes a
  ``SenderKey``, all the events it seals for one case: one Diffie-Hellman per recipient
  organisation key (and per sender key) gives a shared secret, hashed with the event into a
  key-encryption key (KEK), under which the data keys of all the fields granted to that key
  are wrapped together, with their names: one ``Grant`` per (event, organisation key);
- the event's data keys are also wrapped together under the per-case key (one ``Escrow``
  per event), itself wrapped under the service master key, so the service can ``regrant``
  after a policy change or key rotation and can shred a case by destroying one key.

Data (all frozen, all bytes raw; ``to_json``/``from_json`` give the wire form)::

    EventContext(region, case_id, event_id, event_type)       .field(name) -> FieldContext
    FieldContext(region, case_id, event_id, event_type, field)
    SealedField(field, nonce, ciphertext, commitment)          stored with the event
    Grant(org_id, key_id, fields, ephemeral_public, nonce, wrapped_keys)  stored apart, deletable
    Escrow(fields, nonce, wrapped_keys)                        stored apart, service only
    SealedEvent(fields, grants, escrow)

Operations::

    SenderKey.generate(rng) -> SenderKey                        ephemeral key pair + its exchanges
    seal_event(event, plaintexts, recipients_by_field, case_key, *, sender, rng) -> SealedEvent
    open_grant(sealed_fields, grant, event, key: DecryptionKey) -> {field: bytes}
    Opener(key).open_grant(sealed_fields, grant, event)        the same, exchanges kept per sender
    open_field(sealed, grant, ctx, key: DecryptionKey) -> bytes
    open_escrow(sealed_fields, escrow, event, case_key) -> {field: bytes}
    open_field_from_escrow(sealed, escrow, ctx, case_key) -> bytes
    regrant(escrow, event, case_key, recipient, fields, *, sender, rng) -> Grant
    new_case_key(rng) -> bytes
    wrap_case_key(master, region, case_id, case_key, *, rng) -> bytes
    unwrap_case_key(master, region, case_id, wrapped) -> bytes

Every failure to open raises ``DecryptionFailed`` and nothing else, whatever the cause. A
case key given as ``None`` means the case was shredded: ``CaseKeyDestroyed``.

``rng`` exists for tests and the published vectors only. Each operation draws all its
randomness in one call, laid out as follows::

    seal_event:     ephemeral secret (32) unless a sender key is given; per field in
                    ``plaintexts`` order: data key (32), content nonce (24); escrow nonce
                    (24) if there are fields; per grant, in the order of
                    ``SealedEvent.grants``: grant nonce (24)
    regrant:        ephemeral secret (32) unless a sender key is given, grant nonce (24)
    SenderKey.generate: secret (32)
    wrap_case_key:  nonce (24)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions

from sharing.canonical import b64decode, b64encode, length_prefixed
from sharing.errors import CaseKeyDestroyed, DecryptionFailed, InvalidKey
from sharing.keys import DecryptionKey, MasterKey, Randomness, Recipient
from sharing.primitives import KEY_BYTES, NONCE_BYTES, TAG_BYTES, blake2b
from sharing.primitives import aead_encrypt as _seal

__all__ = [
    "FORMAT",
    "RECORD_VERSION",
    "WIRE_VERSION",
    "Escrow",
    "EventContext",
    "FieldContext",
    "Grant",
    "Opener",
    "SealedEvent",
    "SealedField",
    "SenderKey",
    "case_key_ad",
    "commitment",
    "content_ad",
    "derive_kek",
    "escrow_ad",
    "grant_ad",
    "new_case_key",
    "open_escrow",
    "open_field",
    "open_field_from_escrow",
    "open_grant",
    "regrant",
    "seal_event",
    "unwrap_case_key",
    "wrap_case_key",
]

FORMAT = "sharing/1"
WIRE_VERSION = 1  # sealed fields
RECORD_VERSION = 2  # grants and escrows: one per event (version 1 had one per field)

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
            _check_version(data, WIRE_VERSION)
            return cls(
                field=_str(data, "field"),
                nonce=_b64(data, "nonce"),
                ciphertext=_b64(data, "ciphertext"),
                commitment=_b64(data, "commitment"),
            )


@dataclass(frozen=True, slots=True)
class Grant:
    """One organisation key's access to some fields of one event; deleting it revokes that.

    One grant per (event, organisation key) wraps the data keys of every field granted to
    it: one unwrap per event for the recipient, one stored record per reader for the
    service. Holds only what the recipient needs to unwrap with its private key.
    """

    org_id: str
    key_id: str
    fields: tuple[str, ...]
    ephemeral_public: bytes
    nonce: bytes
    wrapped_keys: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "v": RECORD_VERSION,
            "org_id": self.org_id,
            "key_id": self.key_id,
            "fields": list(self.fields),
            "ephemeral_public": b64encode(self.ephemeral_public),
            "nonce": b64encode(self.nonce),
            "wrapped_keys": b64encode(self.wrapped_keys),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Grant:
        with _Opaque():
            _check_version(data, RECORD_VERSION)
            return cls(
                org_id=_str(data, "org_id"),
                key_id=_str(data, "key_id"),
                fields=_names(data),
                ephemeral_public=_b64(data, "ephemeral_public"),
                nonce=_b64(data, "nonce"),
                wrapped_keys=_b64(data, "wrapped_keys"),
            )


@dataclass(frozen=True, slots=True)
class Escrow:
    """An event's data keys under the case key: how the service re-issues grants."""

    fields: tuple[str, ...]
    nonce: bytes
    wrapped_keys: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "v": RECORD_VERSION,
            "fields": list(self.fields),
            "nonce": b64encode(self.nonce),
            "wrapped_keys": b64encode(self.wrapped_keys),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Escrow:
        with _Opaque():
            _check_version(data, RECORD_VERSION)
            return cls(
                fields=_names(data),
                nonce=_b64(data, "nonce"),
                wrapped_keys=_b64(data, "wrapped_keys"),
            )


class SenderKey:
    """An ephemeral X25519 key pair that a sealer may keep for the events of one case,
    with the exchanges made with it.

    The Diffie-Hellman per recipient key is the costliest step of sealing an event; kept
    here it is paid once per case and recipient key. Every KEK still differs per event (the
    event is hashed into it) and every wrap has its own random nonce, so the only thing
    reuse reveals is that grants with the same ``ephemeral_public`` belong to one case,
    which their events' envelopes say anyway. The secret stays in memory only: drop the
    object when the case is shredded.
    """

    __slots__ = ("_secret", "_shared", "public")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) != KEY_BYTES:
            raise InvalidKey("an X25519 secret is 32 bytes")
        self._secret = secret
        self.public = nacl.bindings.crypto_scalarmult_base(secret)
        self._shared: dict[tuple[str, str, bytes], bytes] = {}

    @classmethod
    def generate(cls, rng: Randomness = os.urandom) -> SenderKey:
        return cls(_draw(rng, KEY_BYTES))

    def __repr__(self) -> str:
        return "SenderKey(<secret>)"

    def kek(self, recipient: Recipient, event_bytes: bytes) -> bytes:
        """The KEK for one recipient key and one event (``event.encoded()``)."""
        index = (recipient.org_id, recipient.key_id, recipient.public_key)
        shared = self._shared.get(index)
        if shared is None:
            shared = _shared_secret(self._secret, recipient.public_key)
            if shared is None:
                raise InvalidKey(f"unusable public key for {recipient.org_id!r}")
            self._shared[index] = shared
        return _kek(shared, self.public, recipient, event_bytes)


@dataclass(frozen=True, slots=True)
class SealedEvent:
    fields: dict[str, SealedField]
    grants: tuple[Grant, ...]
    escrow: Escrow | None  # None only for an event without content fields


# --- associated data and derivations (the building blocks docs/envelope.md specifies) -------


def content_ad(ctx: FieldContext) -> bytes:
    return _content_ad(ctx.event.encoded(), ctx.field)


def escrow_ad(event: EventContext, fields: Sequence[str]) -> bytes:
    return _escrow_ad(event.encoded(), fields)


def grant_ad(event: EventContext, org_id: str, key_id: str, fields: Sequence[str]) -> bytes:
    """The fields come last: the parts before them are fixed in number, so the encoding
    stays injective for any number of fields."""
    return _grant_ad(event.encoded(), org_id, key_id, fields)


# The same three, from an event already encoded: sealing encodes it once for all its fields
# and grants.


def _content_ad(event_bytes: bytes, field: str) -> bytes:
    return _CONTENT + event_bytes + length_prefixed(field)


def _escrow_ad(event_bytes: bytes, fields: Sequence[str]) -> bytes:
    return _ESCROW + event_bytes + length_prefixed(*fields)


def _grant_ad(event_bytes: bytes, org_id: str, key_id: str, fields: Sequence[str]) -> bytes:
    return _GRANT + event_bytes + length_prefixed(org_id, key_id, *fields)


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


# --- sealing ---------------------------------------------------------------------------------


def seal_event(
    event: EventContext,
    plaintexts: Mapping[str, bytes],
    recipients_by_field: Mapping[str, Sequence[Recipient]],
    case_key: bytes | None,
    *,
    sender: SenderKey | None = None,
    rng: Randomness = os.urandom,
) -> SealedEvent:
    """Encrypt every field and grant each to exactly the recipients listed for it.

    A field without recipients is still sealed and escrowed: only a later ``regrant`` can
    share it. Grants come in the order their recipients first appear, walking the fields
    in ``plaintexts`` order; each lists its fields in that order too. Without ``sender``,
    the event gets an ephemeral key pair of its own.
    """
    case_key = _live_case_key(case_key)
    unknown = set(recipients_by_field) - set(plaintexts)
    if unknown:
        raise ValueError(f"recipients given for fields not in the event: {sorted(unknown)}")
    granted: dict[Recipient, list[str]] = {}
    for name in plaintexts:
        recipients = recipients_by_field.get(name, ())
        ids = {(r.org_id, r.key_id) for r in recipients}
        if len(ids) != len(recipients):
            raise ValueError(f"duplicate recipient for field {name!r}")
        for recipient in recipients:
            granted.setdefault(recipient, []).append(name)
    if len({(r.org_id, r.key_id) for r in granted}) != len(granted):
        raise ValueError("one key id given with two different public keys")

    per_field = KEY_BYTES + NONCE_BYTES
    escrow_nonce_bytes = NONCE_BYTES if plaintexts else 0
    own_key = KEY_BYTES if sender is None else 0
    total = own_key + per_field * len(plaintexts) + escrow_nonce_bytes + NONCE_BYTES * len(granted)
    random = _draw(rng, total)
    at = own_key

    event_bytes = event.encoded()
    fields: dict[str, SealedField] = {}
    data_keys: dict[str, bytes] = {}
    for name, plaintext in plaintexts.items():
        data_key = random[at : at + KEY_BYTES]
        nonce = random[at + KEY_BYTES : at + per_field]
        at += per_field
        ad = _content_ad(event_bytes, name)
        fields[name] = SealedField(
            name,
            nonce,
            _seal(plaintext, ad, nonce, data_key),
            blake2b(ad, COMMITMENT_BYTES, _COMMIT_PERSONAL, data_key),
        )
        data_keys[name] = data_key

    escrow = None
    if plaintexts:
        names = tuple(plaintexts)
        escrow_nonce = random[at : at + NONCE_BYTES]
        at += NONCE_BYTES
        escrow = Escrow(
            names,
            escrow_nonce,
            _seal(
                b"".join(data_keys.values()),
                _escrow_ad(event_bytes, names),
                escrow_nonce,
                case_key,
            ),
        )

    grants: list[Grant] = []
    if granted:
        if sender is None:
            sender = SenderKey(random[:KEY_BYTES])
        for recipient, granted_names in granted.items():
            grant_nonce = random[at : at + NONCE_BYTES]
            at += NONCE_BYTES
            keys = b"".join(data_keys[name] for name in granted_names)
            grants.append(_grant(recipient, granted_names, keys, sender, grant_nonce, event_bytes))
    return SealedEvent(fields, tuple(grants), escrow)


def _grant(
    recipient: Recipient,
    names: Sequence[str],
    keys: bytes,
    sender: SenderKey,
    nonce: bytes,
    event_bytes: bytes,
) -> Grant:
    kek = sender.kek(recipient, event_bytes)
    gad = _grant_ad(event_bytes, recipient.org_id, recipient.key_id, names)
    return Grant(
        recipient.org_id,
        recipient.key_id,
        tuple(names),
        sender.public,
        nonce,
        _seal(keys + gad, gad, nonce, kek),
    )


def regrant(
    escrow: Escrow,
    event: EventContext,
    case_key: bytes | None,
    recipient: Recipient,
    fields: Sequence[str],
    *,
    sender: SenderKey | None = None,
    rng: Randomness = os.urandom,
) -> Grant:
    """Issue a new grant of ``fields`` from the escrow, e.g. after a policy change or a key
    rotation. The grant lists them in the escrow's order, as sealing would have."""
    if isinstance(fields, str):
        raise TypeError("fields must be a sequence of field names, not one string")
    keys = _unescrow(escrow, event, case_key)
    wanted = set(fields)
    if not wanted or len(wanted) != len(fields) or not wanted <= keys.keys():
        raise ValueError("regrant needs distinct fields that the escrow holds")
    names = [name for name in escrow.fields if name in wanted]
    own_key = KEY_BYTES if sender is None else 0
    random = _draw(rng, own_key + NONCE_BYTES)
    if sender is None:
        sender = SenderKey(random[:KEY_BYTES])
    keys_bytes = b"".join(keys[name] for name in names)
    return _grant(recipient, names, keys_bytes, sender, random[own_key:], event.encoded())


# --- opening ---------------------------------------------------------------------------------


def open_grant(
    sealed_fields: Mapping[str, SealedField],
    grant: Grant,
    event: EventContext,
    key: DecryptionKey,
) -> dict[str, bytes]:
    """Open every field ``grant`` covers, each as the field of ``event`` it is keyed by."""
    return _open_all(sealed_fields, event, _unwrap_grant(grant, event, key))


def open_field(sealed: SealedField, grant: Grant, ctx: FieldContext, key: DecryptionKey) -> bytes:
    """Open ``sealed`` as the value of ``ctx`` using a grant issued to ``key``."""
    keys = _unwrap_grant(grant, ctx.event, key)
    with _Opaque():
        return _open_content(sealed, ctx, keys[ctx.field])


def open_escrow(
    sealed_fields: Mapping[str, SealedField],
    escrow: Escrow,
    event: EventContext,
    case_key: bytes | None,
) -> dict[str, bytes]:
    """The service's own read path (e.g. for an authorised timeline), via the case key."""
    return _open_all(sealed_fields, event, _unescrow(escrow, event, case_key))


def open_field_from_escrow(
    sealed: SealedField, escrow: Escrow, ctx: FieldContext, case_key: bytes | None
) -> bytes:
    keys = _unescrow(escrow, ctx.event, case_key)
    with _Opaque():
        return _open_content(sealed, ctx, keys[ctx.field])


class Opener:
    """One organisation key's side of opening many grants, with the X25519 exchange made
    once per sender key rather than once per grant.

    A sealer keeps one sender key per case (``SenderKey``), so the grants of one case name
    the same ``ephemeral_public``; the exchange with it is the costliest step of opening a
    grant, and its result depends on nothing but the two keys. Everything else is checked
    and derived per grant exactly as ``open_grant`` does: the KEK is still hashed from the
    event, and every wrap and every field is still authenticated, so a tampered record
    fails here as it fails there. The secrets stay in memory only (at most
    ``capacity`` sender keys, the oldest dropped first).
    """

    __slots__ = ("_capacity", "_lock", "_shared", "key")

    def __init__(self, key: DecryptionKey, capacity: int = 4096) -> None:
        self.key = key
        self._capacity = capacity
        self._shared: dict[bytes, bytes | None] = {}
        self._lock = threading.Lock()  # one opener serves a process's request threads

    def __repr__(self) -> str:
        return f"Opener({self.key.org_id!r}, {self.key.key_id!r})"

    def shared(self, ephemeral_public: bytes) -> bytes | None:
        try:
            return self._shared[ephemeral_public]
        except KeyError:
            pass
        shared = _shared_secret(self.key.private_key, ephemeral_public)
        with self._lock:
            if len(self._shared) >= self._capacity:
                self._shared.pop(next(iter(self._shared)))
            self._shared[bytes(ephemeral_public)] = shared
        return shared

    def open_grant(
        self, sealed_fields: Mapping[str, SealedField], grant: Grant, event: EventContext
    ) -> dict[str, bytes]:
        """Open every field ``grant`` covers, as ``open_grant`` does."""
        return _open_all(sealed_fields, event, _unwrap_grant(grant, event, self.key, self.shared))


def _unwrap_grant(
    grant: Grant,
    event: EventContext,
    key: DecryptionKey,
    exchange: Callable[[bytes], bytes | None] | None = None,
) -> dict[str, bytes]:
    with _Opaque():
        _need(grant.org_id == key.org_id and grant.key_id == key.key_id)
        _need(_distinct(grant.fields))
        _need(len(grant.ephemeral_public) == KEY_BYTES and len(grant.nonce) == NONCE_BYTES)
        if exchange is None:
            shared = _shared_secret(key.private_key, grant.ephemeral_public)
        else:
            shared = exchange(grant.ephemeral_public)
        if shared is None:
            raise _Rejected
        event_bytes = event.encoded()
        kek = _kek(shared, grant.ephemeral_public, key.recipient, event_bytes)
        gad = _grant_ad(event_bytes, grant.org_id, grant.key_id, grant.fields)
        plain = _decrypt(grant.wrapped_keys, gad, grant.nonce, kek)
        size = KEY_BYTES * len(grant.fields)
        _need(len(plain) == size + len(gad) and _equal(plain[size:], gad))
        return _split(grant.fields, plain[:size])


def _unescrow(escrow: Escrow, event: EventContext, case_key: bytes | None) -> dict[str, bytes]:
    case_key = _live_case_key(case_key)
    with _Opaque():
        _need(_distinct(escrow.fields) and len(escrow.nonce) == NONCE_BYTES)
        ad = escrow_ad(event, escrow.fields)
        keys = _decrypt(escrow.wrapped_keys, ad, escrow.nonce, case_key)
        _need(len(keys) == KEY_BYTES * len(escrow.fields))
        return _split(escrow.fields, keys)


def _open_all(
    sealed_fields: Mapping[str, SealedField], event: EventContext, keys: Mapping[str, bytes]
) -> dict[str, bytes]:
    with _Opaque():
        return {
            name: _open_content(sealed_fields[name], event.field(name), data_key)
            for name, data_key in keys.items()
        }


def _open_content(sealed: SealedField, ctx: FieldContext, data_key: bytes) -> bytes:
    _need(sealed.field == ctx.field)
    _need(len(sealed.nonce) == NONCE_BYTES and len(sealed.commitment) == COMMITMENT_BYTES)
    ad = content_ad(ctx)
    expected = blake2b(ad, COMMITMENT_BYTES, _COMMIT_PERSONAL, data_key)
    _need(_equal(expected, sealed.commitment))
    return bytes(_decrypt(sealed.ciphertext, ad, sealed.nonce, data_key))


def _split(names: Sequence[str], keys: bytes) -> dict[str, bytes]:
    return {name: bytes(keys[i * KEY_BYTES : (i + 1) * KEY_BYTES]) for i, name in enumerate(names)}


def _distinct(names: Sequence[str]) -> bool:
    return bool(names) and len(set(names)) == len(names)


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


def _check_version(data: Mapping[str, object], version: int) -> None:
    _need(isinstance(data, Mapping))
    _need(data.get("v") == version and type(data.get("v")) is int)


def _str(data: Mapping[str, object], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise _Rejected
    return value


def _names(data: Mapping[str, object]) -> tuple[str, ...]:
    value = data["fields"]
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise _Rejected
    names = tuple(value)
    _need(_distinct(names))
    return names


def _b64(data: Mapping[str, object], name: str) -> bytes:
    return b64decode(_str(data, name))
