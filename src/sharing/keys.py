"""Organisation key material and the service master key.

Each organisation holds generations of keys: an X25519 pair that fields are sealed to and an
Ed25519 pair it signs with. Every public key is named by a key id derived from its bytes, so a
rotated key never shadows an old one and a grant or signature says which key it needs.

Secret bytes live only in ``DecryptionKey``, ``SigningKey``, ``OrgPrivateKeys`` and
``MasterKey``; none of them shows secret bytes in ``repr``/``str``, so logging an object by
accident leaks nothing. Export is always explicit (``to_json``, ``to_base64``).

Times are timezone-aware ``datetime`` values passed in by the caller; nothing here reads the
clock. Randomness is a ``Randomness`` callable (``os.urandom`` by default) so tests and the
published test vectors can be deterministic.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

import nacl.bindings
import nacl.signing

from sharing.canonical import b64decode, b64encode, length_prefixed
from sharing.errors import InvalidKey, KeyNotFound
from sharing.primitives import blake2b

__all__ = [
    "KEY_BYTES",
    "DecryptionKey",
    "MasterKey",
    "OrgPrivateKeys",
    "OrgPublicKeys",
    "Randomness",
    "Recipient",
    "SigningKey",
    "current_recipient",
    "find_verify_key",
    "format_time",
    "granted_recipients",
    "key_id",
    "parse_time",
]

KEY_BYTES = 32

Randomness = Callable[[int], bytes]
"""Returns that many uniformly random bytes; ``os.urandom`` unless a test injects one."""

KeyKind = Literal["x25519", "ed25519"]

_KID_PERSONAL = b"sharing/1/kid"
_MASTER_FP_PERSONAL = b"sharing/1/master"
_DERIVE_PERSONAL = b"sharing/1/derive"


def key_id(public_key: bytes, kind: KeyKind) -> str:
    """Name a public key by its bytes, so ids need no registry and cannot be reassigned.

    The kind is hashed in so an encryption key and a signing key can never share an id.
    """
    _check_len(public_key, "public key")
    return _key_id(public_key, kind)


@lru_cache(maxsize=4096)
def _key_id(public_key: bytes, kind: KeyKind) -> str:
    # Every seal and signature names its keys; hashing the same few keys again is waste.
    return blake2b(length_prefixed(kind, public_key), 16, _KID_PERSONAL).hex()


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the only time form written to JSON."""
    _require_aware(moment)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    _require_aware(moment)
    return moment


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom a data key is sealed to: one organisation's X25519 public key, named by key id."""

    org_id: str
    key_id: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_len(self.public_key, "X25519 public key")
        if key_id(self.public_key, "x25519") != self.key_id:
            raise InvalidKey("key id does not match the public key")


@dataclass(frozen=True, slots=True, eq=False)
class DecryptionKey:
    """An organisation's X25519 private key, kept with the public half and its key id."""

    org_id: str
    key_id: str
    public_key: bytes
    private_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_len(self.private_key, "X25519 private key")
        if self.key_id != key_id(self.public_key, "x25519"):
            raise InvalidKey("key id does not match the public key")

    @classmethod
    def from_private(cls, org_id: str, private_key: bytes) -> DecryptionKey:
        _check_len(private_key, "X25519 private key")
        public = nacl.bindings.crypto_scalarmult_base(private_key)
        return cls(org_id, key_id(public, "x25519"), public, private_key)

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.org_id, self.key_id, self.public_key)


@dataclass(frozen=True, slots=True, eq=False)
class SigningKey:
    """An organisation's Ed25519 signing key (its 32-byte seed) with the public half."""

    org_id: str
    key_id: str
    public_key: bytes
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_len(self.seed, "Ed25519 seed")
        if self.key_id != key_id(self.public_key, "ed25519"):
            raise InvalidKey("key id does not match the public key")

    @classmethod
    def from_seed(cls, org_id: str, seed: bytes) -> SigningKey:
        _check_len(seed, "Ed25519 seed")
        public = bytes(nacl.signing.SigningKey(seed).verify_key)
        return cls(org_id, key_id(public, "ed25519"), public, seed)

    def sign(self, message: bytes) -> bytes:
        """Detached Ed25519 signature; kept here so the seed never leaves this object."""
        # libsodium's secret key is seed || public key: signing from it skips re-deriving
        # the key pair from the seed on every call.
        signed = nacl.bindings.crypto_sign(message, self.seed + self.public_key)
        return bytes(signed[: nacl.bindings.crypto_sign_BYTES])


@dataclass(frozen=True, slots=True)
class OrgPublicKeys:
    """One published generation of an organisation's keys: what partners and the service see.

    A generation is usable from ``valid_from`` until ``retired_at`` (exclusive). A retired
    generation stays listed so that old signatures still verify and old grants stay openable.
    Generations a service numbers (``generation``) say when their organisation confirmed it
    holds the private half (``confirmed_at``); until then the one before stays in use too.
    """

    org_id: str
    enc_key_id: str
    enc_public_key: bytes
    sign_key_id: str
    sign_public_key: bytes
    valid_from: datetime
    retired_at: datetime | None = None
    generation: int | None = None
    confirmed_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_len(self.enc_public_key, "X25519 public key")
        _check_len(self.sign_public_key, "Ed25519 public key")
        if key_id(self.enc_public_key, "x25519") != self.enc_key_id:
            raise InvalidKey("encryption key id does not match the public key")
        if key_id(self.sign_public_key, "ed25519") != self.sign_key_id:
            raise InvalidKey("signing key id does not match the public key")
        _require_aware(self.valid_from)
        for moment in (self.retired_at, self.confirmed_at):
            if moment is not None:
                _require_aware(moment)

    def is_valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.retired_at is None or moment < self.retired_at)

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.org_id, self.enc_key_id, self.enc_public_key)

    def to_json(self) -> dict[str, str | int | None]:
        record: dict[str, str | int | None] = {
            "org_id": self.org_id,
            "enc_key_id": self.enc_key_id,
            "enc_public_key": b64encode(self.enc_public_key),
            "sign_key_id": self.sign_key_id,
            "sign_public_key": b64encode(self.sign_public_key),
            "valid_from": format_time(self.valid_from),
            "retired_at": None if self.retired_at is None else format_time(self.retired_at),
        }
        # Members of numbered generations only, so an unnumbered record keeps its form.
        if self.generation is not None:
            record["generation"] = self.generation
            record["confirmed_at"] = (
                None if self.confirmed_at is None else format_time(self.confirmed_at)
            )
        return record

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> OrgPublicKeys:
        try:
            retired, confirmed = data.get("retired_at"), data.get("confirmed_at")
            return cls(
                org_id=_str(data, "org_id"),
                enc_key_id=_str(data, "enc_key_id"),
                enc_public_key=b64decode(_str(data, "enc_public_key")),
                sign_key_id=_str(data, "sign_key_id"),
                sign_public_key=b64decode(_str(data, "sign_public_key")),
                valid_from=parse_time(_str(data, "valid_from")),
                retired_at=None if retired is None else parse_time(_str(data, "retired_at")),
                generation=_generation(data),
                confirmed_at=None if confirmed is None else parse_time(_str(data, "confirmed_at")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidKey("malformed public key record") from exc


@dataclass(frozen=True, slots=True, eq=False)
class OrgPrivateKeys:
    """The private side of one key generation, as an organisation (or the demo) stores it."""

    org_id: str
    valid_from: datetime
    enc_private_key: bytes = field(repr=False)
    sign_seed: bytes = field(repr=False)
    generation: int | None = None

    def __post_init__(self) -> None:
        _check_len(self.enc_private_key, "X25519 private key")
        _check_len(self.sign_seed, "Ed25519 seed")
        _require_aware(self.valid_from)

    @classmethod
    def generate(
        cls,
        org_id: str,
        now: datetime,
        rng: Randomness = os.urandom,
        *,
        generation: int | None = None,
    ) -> OrgPrivateKeys:
        return cls(org_id, now, _random_key(rng), _random_key(rng), generation)

    @property
    def decryption_key(self) -> DecryptionKey:
        return DecryptionKey.from_private(self.org_id, self.enc_private_key)

    @property
    def signing_key(self) -> SigningKey:
        return SigningKey.from_seed(self.org_id, self.sign_seed)

    @property
    def public(self) -> OrgPublicKeys:
        enc, sig = self.decryption_key, self.signing_key
        return OrgPublicKeys(
            self.org_id,
            enc.key_id,
            enc.public_key,
            sig.key_id,
            sig.public_key,
            self.valid_from,
            generation=self.generation,
        )

    def __repr__(self) -> str:
        public = self.public
        return (
            f"OrgPrivateKeys(org_id={self.org_id!r}, enc_key_id={public.enc_key_id!r}, "
            f"sign_key_id={public.sign_key_id!r}, valid_from={format_time(self.valid_from)!r})"
        )

    def to_json(self) -> dict[str, str | int]:
        """Export including secrets; the key ids let a loader detect a mangled file."""
        public = self.public
        exported: dict[str, str | int] = {
            "org_id": self.org_id,
            "valid_from": format_time(self.valid_from),
            "enc_key_id": public.enc_key_id,
            "enc_private_key": b64encode(self.enc_private_key),
            "sign_key_id": public.sign_key_id,
            "sign_seed": b64encode(self.sign_seed),
        }
        if self.generation is not None:
            exported["generation"] = self.generation
        return exported

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> OrgPrivateKeys:
        try:
            keys = cls(
                org_id=_str(data, "org_id"),
                valid_from=parse_time(_str(data, "valid_from")),
                enc_private_key=b64decode(_str(data, "enc_private_key")),
                sign_seed=b64decode(_str(data, "sign_seed")),
                generation=_generation(data),
            )
            public = keys.public
            expected = (_str(data, "enc_key_id"), _str(data, "sign_key_id"))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidKey("malformed private key record") from exc
        if expected != (public.enc_key_id, public.sign_key_id):
            raise InvalidKey("key ids do not match the private keys")
        return keys


def current_recipient(records: Iterable[OrgPublicKeys], org_id: str, now: datetime) -> Recipient:
    """The key new grants for ``org_id`` are sealed to: the newest generation valid at ``now``."""
    valid = [r for r in records if r.org_id == org_id and r.is_valid_at(now)]
    if not valid:
        raise KeyNotFound(f"no valid encryption key for organisation {org_id!r}")
    return max(valid, key=lambda r: (r.valid_from, r.enc_key_id)).recipient


def granted_recipients(
    records: Iterable[OrgPublicKeys], org_id: str, now: datetime
) -> list[Recipient]:
    """Every key new grants for ``org_id`` are sealed to, newest first: each generation
    valid at ``now``. After a rotation that is the new generation and the ones before it
    until the organisation confirms the new one (which retires them), so a partner that
    has not yet installed its new key keeps reading."""
    valid = [r for r in records if r.org_id == org_id and r.is_valid_at(now)]
    valid.sort(key=lambda r: (r.valid_from, r.enc_key_id), reverse=True)
    seen: set[str] = set()
    found = []
    for record in valid:
        if record.enc_key_id not in seen:
            seen.add(record.enc_key_id)
            found.append(record.recipient)
    return found


def find_verify_key(
    records: Iterable[OrgPublicKeys], org_id: str, sign_key_id: str, at: datetime
) -> bytes:
    """The Ed25519 public key named ``sign_key_id`` if it was valid at ``at``.

    ``at`` is the moment the signature claims to be made, so a later retirement does not
    invalidate what was signed before it.
    """
    for record in records:
        if record.org_id == org_id and record.sign_key_id == sign_key_id and record.is_valid_at(at):
            return record.sign_public_key
    raise KeyNotFound(f"no signing key {sign_key_id!r} for organisation {org_id!r}")


class MasterKey:
    """The service's 32-byte root secret; it wraps every case key.

    Stored as standard base64 (what ``openssl rand -base64 32`` prints) in a file or an
    environment variable. ``repr`` shows only a fingerprint, enough to tell two deployments'
    keys apart without revealing either.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise InvalidKey("master key must be 32 bytes")
        self._key = key

    @classmethod
    def generate(cls, rng: Randomness = os.urandom) -> MasterKey:
        return cls(_random_key(rng))

    @classmethod
    def from_base64(cls, text: str) -> MasterKey:
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidKey("master key is not base64") from None
        return cls(key)

    @classmethod
    def from_env(cls, name: str, environ: Mapping[str, str] | None = None) -> MasterKey:
        value = (os.environ if environ is None else environ).get(name)
        if value is None:
            raise KeyNotFound(f"environment variable {name} is not set")
        return cls.from_base64(value)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> MasterKey:
        try:
            text = Path(path).read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyNotFound(f"no master key file at {os.fspath(path)}") from None
        except UnicodeDecodeError:
            raise InvalidKey("master key file is not base64 text") from None
        return cls.from_base64(text)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a new key file readable by the owner only; never overwrite an existing key."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(self.to_base64() + "\n")

    def to_base64(self) -> str:
        return base64.b64encode(self._key).decode("ascii")

    def reveal(self) -> bytes:
        """The raw key, for the wrapping code only; named so call sites stand out in review."""
        return self._key

    def derive(self, purpose: str, length: int = KEY_BYTES) -> bytes:
        """An independent key for another service purpose (e.g. pseudonymisation).

        Using the master key itself for a second job would tie that job's security to the
        case-key wrapping; a keyed BLAKE2b over the purpose name separates them.
        """
        return blake2b(length_prefixed(purpose), length, _DERIVE_PERSONAL, self._key)

    @property
    def fingerprint(self) -> str:
        return blake2b(b"", 8, _MASTER_FP_PERSONAL, self._key).hex()

    def __repr__(self) -> str:
        return f"MasterKey(fingerprint={self.fingerprint!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("MasterKey cannot be pickled")


def _random_key(rng: Randomness) -> bytes:
    key = rng(KEY_BYTES)
    if len(key) != KEY_BYTES:
        raise ValueError("randomness source returned the wrong length")
    return key


def _check_len(key: bytes, what: str) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise InvalidKey(f"{what} must be {KEY_BYTES} bytes")


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


def _generation(data: Mapping[str, object]) -> int | None:
    value = data.get("generation")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TypeError("generation must be a positive integer")
    return value


def _str(data: Mapping[str, object], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value
