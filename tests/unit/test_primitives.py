"""The cffi fast path of the hot primitives must agree with PyNaCl's public bindings."""

from __future__ import annotations

import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharing.primitives import aead_encrypt, blake2b


@given(
    st.binary(max_size=300),
    st.binary(max_size=300),
    st.binary(min_size=24, max_size=24),
    st.binary(min_size=32, max_size=32),
)
def test_fast_aead_matches_public_binding(
    message: bytes, ad: bytes, nonce: bytes, key: bytes
) -> None:
    expected = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, nonce, key)
    assert aead_encrypt(message, ad, nonce, key) == expected


@given(
    st.binary(max_size=300),
    st.one_of(st.just(b""), st.binary(min_size=16, max_size=64)),
    st.sampled_from([16, 32, 64]),
    st.sampled_from([b"sharing/1/commit", b"casestore/field", b"x"]),
)
def test_fast_hash_matches_public_binding(
    message: bytes, key: bytes, size: int, personal: bytes
) -> None:
    expected = nacl.bindings.crypto_generichash_blake2b_salt_personal(
        message, digest_size=size, key=key, person=personal
    )
    assert blake2b(message, size, personal, key) == expected


def test_keyless_and_keyed_hashes_differ() -> None:
    assert blake2b(b"m", 32, b"p") != blake2b(b"m", 32, b"p", bytes(32))


def test_fast_path_refuses_wrong_lengths_like_the_binding() -> None:
    with pytest.raises(Exception, match=r"(?i)nonce|key"):
        aead_encrypt(b"m", b"", b"short", bytes(32))
    with pytest.raises(Exception, match=r"(?i)nonce|key"):
        aead_encrypt(b"m", b"", bytes(24), b"short")
    with pytest.raises(Exception, match=r"(?i)person"):
        blake2b(b"m", 32, b"a personalisation far too long")
