"""Byte encodings that two independent implementations must produce identically.

Signatures and associated data only work across organisations if every party derives the very
same bytes from the same values. Three encodings are defined here and specified in
docs/envelope.md:

- ``length_prefixed``: a tuple of strings/bytes as ``u32be(len) || bytes`` per part. Unlike a
  join with a separator it is injective, so ``("ab", "c")`` and ``("a", "bc")`` never collide.
- ``canonical_json``: RFC 8785 (JCS) JSON restricted to integers, for signed documents and
  sealed plaintexts.
- ``b64encode``/``b64decode``: unpadded base64url for binary values on the wire, decoded
  strictly so one value has exactly one textual form.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping

__all__ = [
    "MAX_SAFE_INTEGER",
    "b64decode",
    "b64encode",
    "canonical_json",
    "length_prefixed",
]

#: Largest integer every JSON implementation (IEEE-754 doubles, JavaScript) represents exactly.
MAX_SAFE_INTEGER = 2**53 - 1

_MAX_PART = 2**32 - 1
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def length_prefixed(*parts: str | bytes) -> bytes:
    """Encode parts injectively; strings as UTF-8, byte strings as they are."""
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        if len(raw) > _MAX_PART:
            raise ValueError("part too long for a 32-bit length prefix")
        out += len(raw).to_bytes(4, "big")
        out += raw
    return bytes(out)


# JCS sorts keys by UTF-16 code units, Python's encoder by code points. The two orders part
# only where a character above U+FFFF (in UTF-16 a surrogate pair, D800-DBFF first) meets one
# in U+E000-U+FFFF at the same place in two keys, so the C encoder's own sort is exact unless
# a key holds a character above U+FFFF. The ASCII check that rules this out costs nothing;
# the text-wide check after it is one pass in C, and only then are the keys looked at.
# No circularity check: the encoders only ever see the fresh tree `_normalise` builds.
_SORTED = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)
_AS_GIVEN = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)


def canonical_json(value: object) -> bytes:
    """Return the one byte string that represents ``value`` for signing.

    RFC 8785 (JCS), so that any JCS implementation reproduces it, restricted to integers.
    Refuses, rather than approximates, anything another implementation could render
    differently: non-integral or non-finite numbers, integers beyond 2**53-1, non-string
    keys, strings that are not valid Unicode, and types that are not JSON.
    """
    normalised = _normalise(value)
    text = _SORTED.encode(normalised)
    if not text.isascii() and _has_pairs(text) and _pairs_in_keys(normalised):
        text = _AS_GIVEN.encode(_in_utf16_order(normalised))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates have no UTF-8 form
        raise ValueError("string is not valid Unicode") from exc


def _has_pairs(text: str) -> bool:
    # Whether UTF-16 needs a surrogate pair anywhere: a length, so one pass in C (a regular
    # expression for the same costs five times as much on a paragraph of Dutch).
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _pairs_in_keys(value: object) -> bool:
    # Only normalised values come here: exact dicts with str keys, exact lists, scalars.
    if type(value) is dict:
        return any(
            (not key.isascii() and _has_pairs(key)) or _pairs_in_keys(item)
            for key, item in value.items()
        )
    if type(value) is list:
        return any(_pairs_in_keys(item) for item in value)
    return False


def _in_utf16_order(value: object) -> object:
    if type(value) is dict:
        return {key: _in_utf16_order(value[key]) for key in sorted(value, key=_utf16_units)}
    if type(value) is list:
        return [_in_utf16_order(item) for item in value]
    return value


def _utf16_units(key: str) -> bytes:
    # Big-endian UTF-16 compares bytewise as its code units do. A lone surrogate passes here
    # so that the UTF-8 encoding refuses it with every other string that is not Unicode.
    return key.encode("utf-16-be", "surrogatepass")


def _normalise(value: object) -> object:
    # Exact-type fast paths first: every signed document passes through here, and plain
    # str/int/dict/list values are nearly all of it. Subclasses take the general path.
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        out: dict[str, object] = {}
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                return _normalise_any(value)
            out[key] = _normalise(item)
        return out
    if kind is list:
        return [_normalise(item) for item in value]  # type: ignore[attr-defined]
    if kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:  # type: ignore[operator]
        return value
    return _normalise_any(value)


def _normalise_any(value: object) -> object:
    # bool before int: bool is an int subclass but must stay true/false.
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("integer outside the interoperable range ±(2**53-1)")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("only finite, integral numbers are allowed")
        return _normalise(int(value))
    if isinstance(value, Mapping):
        normalised: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("object keys must be strings")
            normalised[key] = _normalise(item)
        return normalised
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not a JSON value")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), the wire form of every binary value."""
    # binascii directly, one translate: the stdlib wrapper costs more than the encoding
    # and an event's seal writes some sixty of these.
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing every other spelling of the same bytes.

    Lenient decoders accept padding, stray characters and non-zero trailing bits, which lets a
    value be re-spelt without changing it; strictness keeps stored and signed forms unique.
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not unpadded base64url") from exc
    if b64encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data
