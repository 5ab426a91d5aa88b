"""Signatures over canonical documents, and the canonical encodings they rest on."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from sharing.canonical import (
    MAX_SAFE_INTEGER,
    b64decode,
    b64encode,
    canonical_json,
    length_prefixed,
)
from sharing.errors import SignatureInvalid
from sharing.keys import OrgPrivateKeys
from sharing.signing import (
    Signature,
    countersign,
    sign,
    signing_input,
    verify,
    verify_countersignature,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
AUTHOR = OrgPrivateKeys.generate("politie", T0)
OTHER = OrgPrivateKeys.generate("ggz", T0)
SERVICE = OrgPrivateKeys.generate("zvh-service", T0)
DIRECTORY = [AUTHOR.public, OTHER.public, SERVICE.public]
DOCUMENT: dict[str, Any] = {
    "event_id": "evt-1",
    "event_type": "signalering",
    "case_id": "case-17",
    "author": "politie",
    "payload": {"ernst": "hoog", "niveau": 3, "tags": ["a", "b"], "bevestigd": True},
}
SIGNATURE = sign(DOCUMENT, AUTHOR.signing_key, purpose="event")
NOW = T0 + DAY


def check(document: object, signature: Signature = SIGNATURE, *, purpose: str = "event") -> None:
    verify(document, signature, DIRECTORY, purpose=purpose, at=NOW)


@contextmanager
def fails_invalid() -> Iterator[None]:
    with pytest.raises(SignatureInvalid) as info:
        yield
    assert type(info.value) is SignatureInvalid
    assert info.value.__cause__ is None


# --- signing ------------------------------------------------------------------------------------


def test_signature_verifies() -> None:
    check(DOCUMENT)
    assert SIGNATURE.org_id == "politie"
    assert SIGNATURE.key_id == AUTHOR.public.sign_key_id


def test_key_order_and_integral_floats_do_not_matter() -> None:
    reordered = dict(reversed(list(DOCUMENT.items())))
    reordered["payload"] = {**DOCUMENT["payload"], "niveau": 3.0}
    check(reordered)


@given(st.sampled_from(["event_id", "case_id", "author"]), st.text(max_size=10))
def test_altered_document(name: str, value: str) -> None:
    if DOCUMENT[name] == value:
        return
    with fails_invalid():
        check({**DOCUMENT, name: value})


def test_altered_nested_value_added_or_removed_member() -> None:
    with fails_invalid():
        check({**DOCUMENT, "payload": {**DOCUMENT["payload"], "niveau": 4}})
    with fails_invalid():
        check({**DOCUMENT, "extra": None})
    with fails_invalid():
        check({k: v for k, v in DOCUMENT.items() if k != "author"})


@given(st.integers(min_value=0, max_value=63), st.integers(min_value=0, max_value=7))
def test_forged_signature_with_a_flipped_bit(position: int, bit: int) -> None:
    raw = bytearray(SIGNATURE.signature)
    raw[position] ^= 1 << bit
    with fails_invalid():
        check(DOCUMENT, dataclasses.replace(SIGNATURE, signature=bytes(raw)))


def test_truncated_or_empty_signature() -> None:
    for raw in (SIGNATURE.signature[:-1], b"", SIGNATURE.signature + b"\0"):
        with fails_invalid():
            check(DOCUMENT, dataclasses.replace(SIGNATURE, signature=raw))


def test_signature_by_another_organisation_claimed_as_the_author() -> None:
    forged = sign(DOCUMENT, OTHER.signing_key, purpose="event")
    claimed = dataclasses.replace(forged, org_id="politie", key_id=AUTHOR.public.sign_key_id)
    with fails_invalid():
        check(DOCUMENT, claimed)
    # Relabelled as ggz's key but under politie's name: the key belongs to another org.
    with fails_invalid():
        check(DOCUMENT, dataclasses.replace(forged, org_id="politie"))


def test_unknown_key_or_organisation() -> None:
    with fails_invalid():
        check(DOCUMENT, dataclasses.replace(SIGNATURE, key_id="0" * 32))
    with fails_invalid():
        check(DOCUMENT, dataclasses.replace(SIGNATURE, org_id="om"))
    with fails_invalid():
        verify(DOCUMENT, SIGNATURE, [OTHER.public], purpose="event", at=NOW)


def test_signature_for_another_purpose() -> None:
    with fails_invalid():
        check(DOCUMENT, purpose="delivery")


def test_key_validity_is_judged_at_signing_time() -> None:
    retired = dataclasses.replace(AUTHOR.public, retired_at=T0 + 2 * DAY)
    verify(DOCUMENT, SIGNATURE, [retired], purpose="event", at=T0 + DAY)
    with fails_invalid():
        verify(DOCUMENT, SIGNATURE, [retired], purpose="event", at=T0 + 3 * DAY)
    with fails_invalid():
        verify(DOCUMENT, SIGNATURE, [retired], purpose="event", at=T0 - DAY)


def test_documents_without_canonical_form() -> None:
    with pytest.raises(ValueError):
        sign({"x": 1.5}, AUTHOR.signing_key, purpose="event")
    with fails_invalid():
        check({**DOCUMENT, "x": math.nan})
    with fails_invalid():
        check({**DOCUMENT, "x": b"bytes"})


def test_signature_json_round_trip_and_malformed() -> None:
    wire = json.loads(json.dumps(SIGNATURE.to_json()))
    assert Signature.from_json(wire) == SIGNATURE
    for bad in (
        {**wire, "signature": wire["signature"] + "=="},
        {**wire, "org_id": 1},
        {k: v for k, v in wire.items() if k != "key_id"},
        {**wire, "signature": None},
    ):
        with fails_invalid():
            Signature.from_json(bad)


def test_countersignature() -> None:
    counter = countersign(DOCUMENT, SIGNATURE, SERVICE.signing_key, purpose="event")
    assert counter.org_id == "zvh-service"
    verify_countersignature(DOCUMENT, SIGNATURE, counter, DIRECTORY, purpose="event", at=NOW)
    verify_countersignature(
        DOCUMENT, SIGNATURE, counter, DIRECTORY, purpose="event", at=NOW, countersigned_at=NOW
    )

    def run(document: object, author: Signature, counter_: Signature) -> None:
        verify_countersignature(document, author, counter_, DIRECTORY, purpose="event", at=NOW)

    with fails_invalid():
        run({**DOCUMENT, "author": "ggz"}, SIGNATURE, counter)
    other_author = sign(DOCUMENT, OTHER.signing_key, purpose="event")
    with fails_invalid():
        run(DOCUMENT, other_author, counter)
    flipped = bytes([counter.signature[0] ^ 1]) + counter.signature[1:]
    with fails_invalid():
        run(DOCUMENT, SIGNATURE, dataclasses.replace(counter, signature=flipped))
    # An author signature is not a countersignature, even over the same document.
    with fails_invalid():
        run(DOCUMENT, SIGNATURE, SIGNATURE)
    with pytest.raises(SignatureInvalid):
        verify_countersignature(
            DOCUMENT,
            SIGNATURE,
            counter,
            DIRECTORY,
            purpose="event",
            at=NOW,
            countersigned_at=T0 - DAY,
        )


def test_signing_input_is_domain_separated() -> None:
    assert signing_input(DOCUMENT, "event") != signing_input(DOCUMENT, "delivery")
    assert signing_input(DOCUMENT, "event").endswith(canonical_json(DOCUMENT))


# --- canonical JSON -----------------------------------------------------------------------------


def test_canonical_json_form() -> None:
    value = {"b": [1, 2.0, True, None], "a": 'é\n"\\\t\x01\x7f', "A": {"z": -0.0, "y": []}}
    assert canonical_json(value) == (
        '{"A":{"y":[],"z":0},"a":"é\\n\\"\\\\\\t\\u0001\x7f","b":[1,2,true,null]}'.encode()
    )
    assert canonical_json([]) == b"[]"
    assert canonical_json("x") == b'"x"'
    assert canonical_json(("a", 1)) == b'["a",1]'


def test_canonical_json_sorts_keys_by_utf16_code_units() -> None:
    # Code-point order would put U+FFFF before the emoji; in UTF-16 the emoji's high
    # surrogate (U+D83D) comes first, as RFC 8785 §3.2.3 orders them.
    assert canonical_json({"é": 1, "e": 2, "😀": 3, "\uffff": 4, "Z": 5}) == (
        '{"Z":5,"e":2,"é":1,"😀":3,"\uffff":4}'.encode()
    )
    nested = {"k": [{"\ue000": 1, "\U00010000": 2, "\U00010000\ue000": 3}]}
    assert canonical_json(nested) == (
        '{"k":[{"\U00010000":2,"\U00010000\ue000":3,"\ue000":1}]}'.encode()
    )


def test_canonical_json_keeps_code_point_order_within_the_bmp() -> None:
    assert canonical_json({"\uffff": 1, "\ue000": 2, "\ud7ff": 3, "ÿ": 4}) == (
        '{"ÿ":4,"\ud7ff":3,"\ue000":2,"\uffff":1}'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        1.5,
        2**53,
        -(2**53),
        float(2**60),
        {1: "x"},
        {True: "x"},
        {None: "x"},
        {("a",): 1},
        {"x": {1, 2}},
        {"x": [1, {"y": 0.5}]},
        {"x": [{"y": 2**53}]},
        b"bytes",
        "\ud800",
        {"\udfff": 1},
        {"\ud800": 1, "😀": 2},  # refused on the UTF-16 ordering path too
        ["😀", "\ud83d"],
        {"k": object()},
        {"k": frozenset()},
    ],
)
def test_canonical_json_refuses_what_has_no_single_form(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_json(value)


def test_canonical_json_integer_bounds() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    assert canonical_json(-(2**53 - 1)) == b"-9007199254740991"


@given(
    st.integers().filter(lambda n: abs(n) > MAX_SAFE_INTEGER)
    | st.floats().filter(lambda x: not (math.isfinite(x) and x.is_integer()))
    | st.floats(min_value=2.0**53, allow_infinity=False)
)
def test_canonical_json_refuses_every_number_outside_the_safe_integers(number: object) -> None:
    with pytest.raises(ValueError):
        canonical_json({"a": [number]})


# Keys drawn often from where UTF-16 and code-point order part: above U+FFFF and U+E000-U+FFFF.
ORDER_EDGES = st.sampled_from(["a", "é", "\ud7ff", "\ue000", "\ufb01", "\uffff", "😀"])
ORDER_EDGES |= st.sampled_from(["\U00010000", "\U0010ffff"])
keys = st.text(ORDER_EDGES, max_size=3) | st.text(max_size=4)
Json: TypeAlias = bool | int | str | list["Json"] | dict[str, "Json"] | None
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_rfc8785(value: Json) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@given(json_values)
def test_canonical_json_is_valid_json_and_a_fixed_point(value: object) -> None:
    encoded = canonical_json(value)
    parsed = json.loads(encoded.decode("utf-8"))
    assert parsed == value
    assert canonical_json(parsed) == encoded


@given(st.dictionaries(keys, st.integers(0, 9), max_size=6), st.randoms())
def test_canonical_json_ignores_insertion_order(
    mapping: dict[str, int], rnd: random.Random
) -> None:
    items = list(mapping.items())
    rnd.shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(mapping)


# --- length-prefixed parts and base64url --------------------------------------------------------


def test_length_prefixed_is_not_a_naive_join() -> None:
    assert length_prefixed("ab", "c") != length_prefixed("a", "bc")
    assert length_prefixed("ab", "c") == bytes.fromhex("0000000261620000000163")
    assert length_prefixed("", "é") == bytes.fromhex("0000000000000002c3a9")
    assert length_prefixed("a", b"\x00") == length_prefixed(b"a", "\x00")


@given(st.lists(st.text(max_size=4), max_size=4), st.lists(st.text(max_size=4), max_size=4))
def test_length_prefixed_is_injective(a: list[str], b: list[str]) -> None:
    assert (length_prefixed(*a) == length_prefixed(*b)) == (a == b)


@given(st.binary(max_size=70))
def test_base64url_round_trip(data: bytes) -> None:
    text = b64encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64decode(text) == data


@pytest.mark.parametrize("text", ["AA==", "AA=", "A", "AB", "a+b/", "AAA ", "AAAA\n", "ÄÄÄÄ"])
def test_base64url_decoding_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        b64decode(text)
