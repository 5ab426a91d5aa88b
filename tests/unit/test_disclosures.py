"""Disclosures and their digests: what an author signs instead of the values it seals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharing.canonical import canonical_json
from sharing.disclosures import (
    DECOY_BLOCK,
    Disclosure,
    digest,
    digests_of,
    disclose,
    is_digest_list,
    matches,
    read_disclosure,
)
from sharing.owned import parts


@given(owners=st.lists(st.sampled_from(["a", "b", "c", "d"]) | st.text(min_size=1), max_size=40))
def test_an_owned_fields_digests_hide_how_many_owners_it_has(owners: list[str]) -> None:
    entries = [{"org": owner, "n": i} for i, owner in enumerate(owners)]
    values = parts("acties", entries, "org")
    encoded = {name: d.encode() for name, d in disclose(values).items()}
    listed = digests_of(encoded, ["acties"])["acties"]
    assert isinstance(listed, list) and is_digest_list(listed)
    assert len(listed) == max(DECOY_BLOCK, -(-len(values) // DECOY_BLOCK) * DECOY_BLOCK)
    assert {digest(data) for data in encoded.values()} <= set(listed)
    for name, data in encoded.items():
        assert matches({"acties": listed}, name, data)


def test_a_field_sealed_whole_has_one_digest_and_an_absent_value_is_salted_too() -> None:
    first = disclose({"toelichting": None, "ernst": 3})
    second = disclose({"toelichting": None, "ernst": 3})
    one = digests_of({n: d.encode() for n, d in first.items()}, [])
    two = digests_of({n: d.encode() for n, d in second.items()}, [])
    assert set(one) == {"toelichting", "ernst"}
    assert one["toelichting"] != two["toelichting"]  # null is not recognisable by its digest
    assert first["ernst"].encode() == canonical_json(
        [first["ernst"].encode()[2:24].decode(), "ernst", 3]
    )


def test_a_disclosure_opens_only_as_the_name_it_was_sealed_under() -> None:
    disclosure = Disclosure(bytes(16), "ernst", 3)
    assert read_disclosure("ernst", disclosure.encode()) == disclosure
    for name, data in [
        ("categorie", disclosure.encode()),
        ("ernst", canonical_json(["AAAA", "ernst", 3])),  # a salt of 3 bytes
        ("ernst", canonical_json(["AAAAAAAAAAAAAAAAAAAAAA", "ernst"])),
        ("ernst", b"\xff"),
        ("ernst", b"3"),
    ]:
        with pytest.raises(ValueError):
            read_disclosure(name, data)


def test_a_digest_list_must_be_sorted_distinct_and_padded() -> None:
    listed = sorted(digest(bytes([i])) for i in range(16))
    assert is_digest_list(listed)
    assert not is_digest_list(listed[:-1])
    assert not is_digest_list(listed[::-1])
    assert not is_digest_list([*listed[:-1], listed[0]])
    assert not is_digest_list("x")


def test_parts_belong_only_to_owned_fields() -> None:
    with pytest.raises(ValueError, match="not owned"):
        digests_of({"acties/a": b"[]"}, [])
    with pytest.raises(ValueError, match="is owned"):
        digests_of({"acties": b"[]"}, ["acties"])
