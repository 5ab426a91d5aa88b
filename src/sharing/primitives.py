"""The two hot libsodium primitives, called without PyNaCl's per-call argument checks.

Sealing one event of 10 fields for 8 organisations takes about 100 AEAD and 20 BLAKE2b
calls, and every stored event is digested field by field for the countersignature.
PyNaCl's public bindings spend ~4 µs of argument checking per call, more than the
cryptography itself, which alone would break the 1 ms sealing budget. So these call the
same libsodium functions through PyNaCl's own cffi module, with the lengths checked here.
Opening keeps the public bindings. tests/unit/test_primitives.py checks both paths agree;
if a future PyNaCl moves its cffi module, everything falls back to the public bindings.
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions

__all__ = ["aead_encrypt", "blake2b"]

KEY_BYTES = 32
NONCE_BYTES = 24
TAG_BYTES = 16
PERSONAL_BYTES = 16

try:
    from nacl._sodium import ffi as _ffi
    from nacl._sodium import lib as _lib
except ImportError:  # pragma: no cover
    _lib = None


def aead_encrypt(message: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF encrypt: ``ciphertext || tag``."""
    if _lib is None or len(nonce) != NONCE_BYTES or len(key) != KEY_BYTES:
        return bytes(
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, nonce, key)
        )
    size = len(message) + TAG_BYTES
    out = _ffi.new("unsigned char[]", size)
    rc = _lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, _ffi.NULL, message, len(message), ad, len(ad), _ffi.NULL, nonce, key
    )
    if rc != 0:  # pragma: no cover  (libsodium only fails on oversized input)
        raise nacl.exceptions.CryptoError("encryption failed")
    return bytes(_ffi.buffer(out, size))


def blake2b(message: bytes, size: int, personal: bytes, key: bytes = b"") -> bytes:
    """BLAKE2b with a personalisation (zero-padded to 16 bytes, as libsodium and PyNaCl
    do), an optional key of 16 to 64 bytes, and the salt all zeros."""
    personal = personal.ljust(PERSONAL_BYTES, b"\0")
    if (
        _lib is None
        or len(personal) != PERSONAL_BYTES
        or not 16 <= size <= 64
        or (key and not 16 <= len(key) <= 64)
    ):
        return bytes(
            nacl.bindings.crypto_generichash_blake2b_salt_personal(
                message, digest_size=size, key=key, person=personal
            )
        )
    out = _ffi.new("unsigned char[]", size)
    rc = _lib.crypto_generichash_blake2b_salt_personal(
        out, size, message, len(message), key or _ffi.NULL, len(key), _ffi.NULL, personal
    )
    if rc != 0:  # pragma: no cover  (only for sizes outside 16..64)
        raise nacl.exceptions.CryptoError("hashing failed")
    return bytes(_ffi.buffer(out, size))
