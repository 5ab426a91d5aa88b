"""Sealing and opening fields: who can open what, and that every tampering fails the same way.

One grant per (event, organisation key) wraps the data keys of all the fields granted to that
key, and one escrow per event wraps all of them under the case key; the field names a grant
or escrow lists are bound into it, so neither can be stretched to another field.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharing import client
from sharing.canonical import b64encode, length_prefixed
from sharing.envelope import (
    RECORD_VERSION,
    WIRE_VERSION,
    Escrow,
    EventContext,
    FieldContext,
    Grant,
    Opener,
    SealedEvent,
    SealedField,
    SenderKey,
    commitment,
    content_ad,
    escrow_ad,
    grant_ad,
    new_case_key,
    open_escrow,
    open_field,
    open_field_from_escrow,
    open_grant,
    regrant,
    seal_event,
    unwrap_case_key,
    wrap_case_key,
)
from sharing.errors import CaseKeyDestroyed, DecryptionFailed, InvalidKey
from sharing.keys import DecryptionKey, MasterKey, Recipient, key_id

ORGS = ("ggz", "politie", "gemeente", "reclassering", "woningcorporatie", "om", "zvh", "wijkteam")
KEYS = {org: DecryptionKey.from_private(org, os.urandom(32)) for org in ORGS}
EVENT = EventContext("regio-west", "case-17", "evt-3", "signalering")
PLAINTEXTS = {
    "toelichting": b"Zorgen over terugval, huisbezoek gepland.",
    "categorie": b"middelengebruik",
    "leeg": b"",
}
# ggz holds two fields, politie one, nobody "leeg": a grant of {a, b} next to a field c.
GRANTED = {"toelichting": ["ggz", "politie"], "categorie": ["ggz"]}
CASE_KEY = new_case_key()

# Points of small order on Curve25519 (from the libsodium blocklist): X25519 with any of them
# gives all zeros.
LOW_ORDER_POINTS = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


def recipients(orgs: Sequence[str]) -> list[Recipient]:
    return [KEYS[org].recipient for org in orgs]


def seal(
    plaintexts: Mapping[str, bytes] = PLAINTEXTS,
    granted: Mapping[str, Sequence[str]] = GRANTED,
    event: EventContext = EVENT,
    case_key: bytes = CASE_KEY,
) -> SealedEvent:
    return seal_event(
        event, plaintexts, {f: recipients(orgs) for f, orgs in granted.items()}, case_key
    )


def grant_of(sealed: SealedEvent, org: str) -> Grant:
    """The one grant an organisation holds for an event (it has a single key here)."""
    (grant,) = [g for g in sealed.grants if g.org_id == org]
    return grant


def escrow_of(sealed: SealedEvent) -> Escrow:
    assert sealed.escrow is not None
    return sealed.escrow


def flip(data: bytes, position: int, mask: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


class Recorded:
    """Real randomness, kept so a test can check where each part of it went."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def __call__(self, size: int) -> bytes:
        data = os.urandom(size)
        self.calls.append(data)
        return data


SEALED = seal()
ESCROW = escrow_of(SEALED)
CTX = EVENT.field("toelichting")
SEALED_FIELD = SEALED.fields["toelichting"]
GGZ_GRANT = grant_of(SEALED, "ggz")
POLITIE_GRANT = grant_of(SEALED, "politie")

positions = st.integers(min_value=0, max_value=10_000)
masks = st.integers(min_value=1, max_value=255)


@contextmanager
def fails_opaquely() -> Iterator[None]:
    with pytest.raises(DecryptionFailed) as info:
        yield
    assert type(info.value) is DecryptionFailed
    assert str(info.value) == "decryption failed"
    # No reason may travel along in a traceback either.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def warm_opener(org: str) -> Opener:
    """An opener of `org` that has opened its authentic grant of SEALED: its exchange with
    that sender key is kept, the state in which a tampered grant must still fail."""
    opener = Opener(KEYS[org])
    assert opener.open_grant(SEALED.fields, grant_of(SEALED, org), EVENT) == open_grant(
        SEALED.fields, grant_of(SEALED, org), EVENT, KEYS[org]
    )
    return opener


def refused_grant(
    grant: Grant,
    key: DecryptionKey = KEYS["ggz"],
    fields: Mapping[str, SealedField] = SEALED.fields,
    event: EventContext = EVENT,
) -> None:
    """Neither the whole grant nor any single field opens through ``grant``, also not
    through an opener that holds the exchange with the authentic grant's sender."""
    with fails_opaquely():
        open_grant(fields, grant, event, key)
    if key is KEYS.get(key.org_id) and any(g.org_id == key.org_id for g in SEALED.grants):
        with fails_opaquely():
            warm_opener(key.org_id).open_grant(fields, grant, event)
    for name, sealed in fields.items():
        with fails_opaquely():
            open_field(sealed, grant, event.field(name), key)


def refused_escrow(escrow: Escrow, event: EventContext = EVENT) -> None:
    """The service can neither read nor re-issue anything through ``escrow``."""
    with fails_opaquely():
        open_escrow(SEALED.fields, escrow, event, CASE_KEY)
    for name, sealed in SEALED.fields.items():
        with fails_opaquely():
            open_field_from_escrow(sealed, escrow, event.field(name), CASE_KEY)
    with fails_opaquely():
        regrant(escrow, event, CASE_KEY, KEYS["om"].recipient, ["toelichting"])


def refused_sealed_field(sealed: SealedField) -> None:
    """``sealed`` opens as "toelichting" neither through a grant nor through the escrow."""
    substituted = {**SEALED.fields, "toelichting": sealed}
    with fails_opaquely():
        open_field(sealed, GGZ_GRANT, CTX, KEYS["ggz"])
    with fails_opaquely():
        open_grant(substituted, GGZ_GRANT, EVENT, KEYS["ggz"])
    with fails_opaquely():
        open_grant(substituted, POLITIE_GRANT, EVENT, KEYS["politie"])
    for org, grant in (("ggz", GGZ_GRANT), ("politie", POLITIE_GRANT)):
        with fails_opaquely():
            warm_opener(org).open_grant(substituted, grant, EVENT)
    with fails_opaquely():
        open_field_from_escrow(sealed, ESCROW, CTX, CASE_KEY)
    with fails_opaquely():
        open_escrow(substituted, ESCROW, EVENT, CASE_KEY)


# --- round trips -------------------------------------------------------------------------------


def test_each_recipient_opens_exactly_its_granted_fields() -> None:
    for org in ORGS:
        expected = [f for f in PLAINTEXTS if org in GRANTED.get(f, ())]
        held = [g for g in SEALED.grants if g.org_id == org]
        if not expected:
            assert held == []
            continue
        (grant,) = held
        assert grant.fields == tuple(expected)
        opened = open_grant(SEALED.fields, grant, EVENT, KEYS[org])
        assert opened == {f: PLAINTEXTS[f] for f in expected}
        assert list(opened) == expected
        for field in expected:
            sealed = SEALED.fields[field]
            assert open_field(sealed, grant, EVENT.field(field), KEYS[org]) == PLAINTEXTS[field]


def test_one_grant_per_recipient_key_and_one_escrow_per_event() -> None:
    # Grants follow the order recipients first appear, walking the fields in order.
    assert [g.org_id for g in SEALED.grants] == ["ggz", "politie"]
    assert GGZ_GRANT.fields == ("toelichting", "categorie")
    assert POLITIE_GRANT.fields == ("toelichting",)
    assert ESCROW.fields == tuple(PLAINTEXTS)
    many = {f"veld{i}": bytes([i]) * i for i in range(6)}
    sealed = seal(many, {name: ["ggz", "politie", "om"] for name in many})
    assert len(sealed.grants) == 3
    assert all(g.fields == tuple(many) for g in sealed.grants)
    assert escrow_of(sealed).fields == tuple(many)


def test_wrapped_key_sizes_follow_the_field_count() -> None:
    """A grant holds k data keys and its own context, an escrow n keys: nothing more."""
    for grant in SEALED.grants:
        ad = grant_ad(EVENT, grant.org_id, grant.key_id, grant.fields)
        assert len(grant.wrapped_keys) == 32 * len(grant.fields) + len(ad) + 16
    assert len(ESCROW.wrapped_keys) == 32 * len(PLAINTEXTS) + 16


def test_every_field_is_sealed_and_escrowed_even_without_recipients() -> None:
    assert set(SEALED.fields) == set(PLAINTEXTS)
    assert ESCROW.fields == tuple(PLAINTEXTS)
    assert "leeg" not in {f for g in SEALED.grants for f in g.fields}
    assert open_escrow(SEALED.fields, ESCROW, EVENT, CASE_KEY) == PLAINTEXTS
    for field in PLAINTEXTS:
        ctx = EVENT.field(field)
        opened = open_field_from_escrow(SEALED.fields[field], ESCROW, ctx, CASE_KEY)
        assert opened == PLAINTEXTS[field]
    unshared = seal(granted={})
    assert unshared.grants == ()
    assert open_escrow(unshared.fields, escrow_of(unshared), EVENT, CASE_KEY) == PLAINTEXTS


def test_an_event_without_fields_has_neither_escrow_nor_grants() -> None:
    sealed = seal_event(EVENT, {}, {}, CASE_KEY)
    assert sealed == SealedEvent({}, (), None)


def test_one_ephemeral_key_per_event_and_fresh_randomness_per_seal() -> None:
    assert len({g.ephemeral_public for g in SEALED.grants}) == 1
    assert len({g.nonce for g in SEALED.grants}) == len(SEALED.grants)
    again = seal()
    assert again.fields["toelichting"].ciphertext != SEALED_FIELD.ciphertext
    assert again.grants[0].ephemeral_public != SEALED.grants[0].ephemeral_public
    assert escrow_of(again).wrapped_keys != ESCROW.wrapped_keys


def test_randomness_is_drawn_once_in_the_documented_layout() -> None:
    rng = Recorded()
    sealed = seal_event(
        EVENT, PLAINTEXTS, {f: recipients(o) for f, o in GRANTED.items()}, CASE_KEY, rng=rng
    )
    (random,) = rng.calls
    n = len(PLAINTEXTS)
    assert len(random) == 32 + 56 * n + 24 + 24 * len(sealed.grants)
    ephemeral_public = nacl.bindings.crypto_scalarmult_base(random[:32])
    assert {g.ephemeral_public for g in sealed.grants} == {ephemeral_public}
    for i, (name, field) in enumerate(sealed.fields.items()):
        data_key = random[32 + 56 * i : 64 + 56 * i]
        assert field.commitment == commitment(data_key, EVENT.field(name))
        assert field.nonce == random[64 + 56 * i : 88 + 56 * i]
    escrow_start = 32 + 56 * n
    assert escrow_of(sealed).nonce == random[escrow_start : escrow_start + 24]
    for k, grant in enumerate(sealed.grants):
        start = escrow_start + 24 + 24 * k
        assert grant.nonce == random[start : start + 24]

    rng = Recorded()
    grant = regrant(ESCROW, EVENT, CASE_KEY, KEYS["om"].recipient, ["categorie"], rng=rng)
    (random,) = rng.calls
    assert len(random) == 56
    assert grant.ephemeral_public == nacl.bindings.crypto_scalarmult_base(random[:32])
    assert grant.nonce == random[32:]


def test_grants_carry_nothing_secret() -> None:
    rng = Recorded()
    sealed = seal_event(
        EVENT, PLAINTEXTS, {f: recipients(o) for f, o in GRANTED.items()}, CASE_KEY, rng=rng
    )
    (random,) = rng.calls
    data_keys = [random[32 + 56 * i : 64 + 56 * i] for i in range(len(PLAINTEXTS))]
    secrets = [*data_keys, random[:32], CASE_KEY, *(k.private_key for k in KEYS.values())]
    escrow = escrow_of(sealed)
    records: list[Grant | Escrow] = [*sealed.grants, escrow]
    for record in records:
        wire = json.dumps(record.to_json())
        values = [v for v in dataclasses.astuple(record) if isinstance(v, bytes)]
        assert values
        for secret in secrets:
            assert all(secret not in value for value in values)
            assert b64encode(secret) not in wire
    # The data keys really are the ones sealed: the escrow opens with them.
    assert open_escrow(sealed.fields, escrow, EVENT, CASE_KEY) == PLAINTEXTS


field_names = st.lists(
    st.text(alphabet="abcdefghij_", min_size=1, max_size=6), min_size=1, max_size=5, unique=True
)


@st.composite
def events(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    fields = draw(field_names)
    plaintexts = {f: draw(st.binary(max_size=64)) for f in fields}
    granted = {
        f: draw(st.lists(st.sampled_from(ORGS), unique=True, max_size=4))
        for f in draw(st.lists(st.sampled_from(fields), unique=True))
    }
    return plaintexts, granted


@settings(max_examples=40, deadline=None)
@given(events())
def test_recipients_open_exactly_the_fields_granted_to_them(
    event: tuple[dict[str, bytes], dict[str, list[str]]],
) -> None:
    plaintexts, granted = event
    sealed = seal(plaintexts, granted)
    assert escrow_of(sealed).fields == tuple(plaintexts)
    readers = {org for orgs in granted.values() for org in orgs}
    assert sorted(g.org_id for g in sealed.grants) == sorted(readers)
    for org in ORGS:
        key = KEYS[org]
        expected = tuple(f for f in plaintexts if org in granted.get(f, ()))
        held = [g for g in sealed.grants if g.org_id == org]
        assert len(held) == (1 if expected else 0)
        for grant in held:
            assert grant.fields == expected
            assert open_grant(sealed.fields, grant, EVENT, key) == {
                f: plaintexts[f] for f in expected
            }
        for field in plaintexts:
            ctx = EVENT.field(field)
            if field in expected:
                assert open_field(sealed.fields[field], held[0], ctx, key) == plaintexts[field]
                continue
            # Not granted: its own grant does not open the field, nor does it with the
            # field's name added to or swapped into its list ...
            for grant in held:
                with fails_opaquely():
                    open_field(sealed.fields[field], grant, ctx, key)
                for fields in ((*grant.fields, field), (field, *grant.fields[1:])):
                    stretched = dataclasses.replace(grant, fields=fields)
                    with fails_opaquely():
                        open_field(sealed.fields[field], stretched, ctx, key)
                    with fails_opaquely():
                        open_grant(sealed.fields, stretched, EVENT, key)
            # ... and neither does another organisation's grant that holds it.
            for grant in (g for g in sealed.grants if field in g.fields):
                stolen = dataclasses.replace(grant, org_id=org, key_id=key.key_id)
                with fails_opaquely():
                    open_field(sealed.fields[field], stolen, ctx, key)
                with fails_opaquely():
                    open_grant(sealed.fields, stolen, EVENT, key)


# --- tampering: flipped bytes -------------------------------------------------------------------


@given(positions, masks)
def test_flipped_byte_in_ciphertext(position: int, mask: int) -> None:
    ciphertext = flip(SEALED_FIELD.ciphertext, position, mask)
    refused_sealed_field(dataclasses.replace(SEALED_FIELD, ciphertext=ciphertext))


@given(positions, masks)
def test_flipped_byte_in_nonce(position: int, mask: int) -> None:
    nonce = flip(SEALED_FIELD.nonce, position, mask)
    refused_sealed_field(dataclasses.replace(SEALED_FIELD, nonce=nonce))


@given(positions, masks)
def test_flipped_byte_in_commitment(position: int, mask: int) -> None:
    value = flip(SEALED_FIELD.commitment, position, mask)
    refused_sealed_field(dataclasses.replace(SEALED_FIELD, commitment=value))


@given(positions, masks)
def test_flipped_byte_in_wrapped_keys(position: int, mask: int) -> None:
    wrapped = flip(GGZ_GRANT.wrapped_keys, position, mask)
    refused_grant(dataclasses.replace(GGZ_GRANT, wrapped_keys=wrapped))


@given(positions, masks)
def test_flipped_byte_in_grant_nonce(position: int, mask: int) -> None:
    refused_grant(dataclasses.replace(GGZ_GRANT, nonce=flip(GGZ_GRANT.nonce, position, mask)))


@given(positions, masks)
def test_flipped_byte_in_ephemeral_public_key(position: int, mask: int) -> None:
    epk = flip(GGZ_GRANT.ephemeral_public, position, mask)
    refused_grant(dataclasses.replace(GGZ_GRANT, ephemeral_public=epk))


@given(positions, masks)
def test_flipped_byte_in_escrow(position: int, mask: int) -> None:
    refused_escrow(
        dataclasses.replace(ESCROW, wrapped_keys=flip(ESCROW.wrapped_keys, position, mask))
    )


@given(positions, masks)
def test_flipped_byte_in_escrow_nonce(position: int, mask: int) -> None:
    refused_escrow(dataclasses.replace(ESCROW, nonce=flip(ESCROW.nonce, position, mask)))


@pytest.mark.parametrize("cut", [1, 16, 32, 100])
def test_truncated_ciphertext_wrapped_keys_and_escrow(cut: int) -> None:
    short_field = dataclasses.replace(SEALED_FIELD, ciphertext=SEALED_FIELD.ciphertext[:-cut])
    refused_sealed_field(short_field)
    refused_grant(dataclasses.replace(GGZ_GRANT, wrapped_keys=GGZ_GRANT.wrapped_keys[:-cut]))
    refused_escrow(dataclasses.replace(ESCROW, wrapped_keys=ESCROW.wrapped_keys[:-cut]))


def test_wrong_lengths_fail_opaquely() -> None:
    for tampered in (
        dataclasses.replace(SEALED_FIELD, nonce=SEALED_FIELD.nonce[:-1]),
        dataclasses.replace(SEALED_FIELD, nonce=SEALED_FIELD.nonce + b"\0"),
        dataclasses.replace(SEALED_FIELD, commitment=SEALED_FIELD.commitment + b"\0"),
        dataclasses.replace(SEALED_FIELD, commitment=SEALED_FIELD.commitment[:16]),
        dataclasses.replace(SEALED_FIELD, ciphertext=SEALED_FIELD.ciphertext + b"\0"),
    ):
        refused_sealed_field(tampered)
    for grant in (
        dataclasses.replace(GGZ_GRANT, nonce=b""),
        dataclasses.replace(GGZ_GRANT, nonce=GGZ_GRANT.nonce + b"\0"),
        dataclasses.replace(GGZ_GRANT, ephemeral_public=GGZ_GRANT.ephemeral_public[:31]),
        dataclasses.replace(GGZ_GRANT, ephemeral_public=GGZ_GRANT.ephemeral_public + b"\0"),
        dataclasses.replace(GGZ_GRANT, wrapped_keys=GGZ_GRANT.wrapped_keys + b"\0"),
        dataclasses.replace(GGZ_GRANT, wrapped_keys=b""),
    ):
        refused_grant(grant)
    for escrow in (
        dataclasses.replace(ESCROW, nonce=ESCROW.nonce[:-1]),
        dataclasses.replace(ESCROW, nonce=ESCROW.nonce + b"\0"),
        dataclasses.replace(ESCROW, wrapped_keys=ESCROW.wrapped_keys + b"\0"),
        dataclasses.replace(ESCROW, wrapped_keys=b""),
    ):
        refused_escrow(escrow)


# --- tampering: the field lists of grants and escrows ------------------------------------------

ALTERED_FIELDS = {
    "removed_last": ("toelichting",),
    "removed_first": ("categorie",),
    "added": ("toelichting", "categorie", "leeg"),
    "added_unknown": ("toelichting", "categorie", "extra"),
    "reordered": ("categorie", "toelichting"),
    "renamed": ("toelichting", "leeg"),
    "renamed_case": ("Toelichting", "categorie"),
    "duplicated": ("toelichting", "toelichting"),
    "empty": (),
}


@pytest.mark.parametrize("fields", ALTERED_FIELDS.values(), ids=ALTERED_FIELDS.keys())
def test_grant_with_altered_field_list_fails(fields: tuple[str, ...]) -> None:
    refused_grant(dataclasses.replace(GGZ_GRANT, fields=fields))


ALTERED_ESCROW_FIELDS = {
    "removed": ("toelichting", "categorie"),
    "added": (*PLAINTEXTS, "extra"),
    "reordered": ("categorie", "toelichting", "leeg"),
    "renamed": ("toelichting", "categorie", "leeg2"),
    "duplicated": ("toelichting", "categorie", "categorie"),
    "empty": (),
}


@pytest.mark.parametrize("fields", ALTERED_ESCROW_FIELDS.values(), ids=ALTERED_ESCROW_FIELDS.keys())
def test_escrow_with_altered_field_list_fails(fields: tuple[str, ...]) -> None:
    assert fields != ESCROW.fields
    refused_escrow(dataclasses.replace(ESCROW, fields=fields))


def test_a_grant_of_some_fields_never_reveals_another() -> None:
    assert set(open_grant(SEALED.fields, GGZ_GRANT, EVENT, KEYS["ggz"])) == {
        "toelichting",
        "categorie",
    }
    with fails_opaquely():
        open_field(SEALED.fields["leeg"], GGZ_GRANT, EVENT.field("leeg"), KEYS["ggz"])
    with fails_opaquely():
        open_field(
            SEALED.fields["categorie"], POLITIE_GRANT, EVENT.field("categorie"), KEYS["politie"]
        )
    # Presenting another field's record under a granted name does not help either.
    leeg_as_categorie = {**SEALED.fields, "categorie": SEALED.fields["leeg"]}
    with fails_opaquely():
        open_grant(leeg_as_categorie, GGZ_GRANT, EVENT, KEYS["ggz"])
    relabelled = dataclasses.replace(SEALED.fields["leeg"], field="categorie")
    with fails_opaquely():
        open_field(relabelled, GGZ_GRANT, EVENT.field("categorie"), KEYS["ggz"])


def test_grant_fields_swapped_with_another_organisations_grant() -> None:
    # politie claims ggz's longer field list, and ggz politie's shorter one.
    refused_grant(dataclasses.replace(POLITIE_GRANT, fields=GGZ_GRANT.fields), KEYS["politie"])
    refused_grant(dataclasses.replace(GGZ_GRANT, fields=POLITIE_GRANT.fields))
    # Nor does taking over the other grant's whole body (fields and wrapped keys) help.
    body = dataclasses.replace(
        POLITIE_GRANT, fields=GGZ_GRANT.fields, wrapped_keys=GGZ_GRANT.wrapped_keys
    )
    refused_grant(body, KEYS["politie"])


def test_open_grant_needs_every_granted_field_under_its_own_name() -> None:
    key = KEYS["ggz"]
    missing = {"toelichting": SEALED.fields["toelichting"]}
    with fails_opaquely():
        open_grant(missing, GGZ_GRANT, EVENT, key)
    with fails_opaquely():
        open_grant({}, GGZ_GRANT, EVENT, key)
    swapped = {"toelichting": SEALED.fields["categorie"], "categorie": SEALED.fields["toelichting"]}
    with fails_opaquely():
        open_grant(swapped, GGZ_GRANT, EVENT, key)
    # The record's label moved along with it still does not make it open as the other field.
    relabelled = {
        "toelichting": dataclasses.replace(SEALED.fields["categorie"], field="toelichting"),
        "categorie": dataclasses.replace(SEALED.fields["toelichting"], field="categorie"),
    }
    with fails_opaquely():
        open_grant(relabelled, GGZ_GRANT, EVENT, key)
    # Extra records it holds no grant for are ignored, not opened.
    assert open_grant(SEALED.fields, POLITIE_GRANT, EVENT, KEYS["politie"]) == {
        "toelichting": PLAINTEXTS["toelichting"]
    }


# --- tampering: moved ciphertexts and grants ------------------------------------------------------


def test_ciphertext_moved_to_another_field() -> None:
    moved = dataclasses.replace(SEALED_FIELD, field="categorie")
    ctx = EVENT.field("categorie")
    with fails_opaquely():
        open_field(moved, GGZ_GRANT, ctx, KEYS["ggz"])
    with fails_opaquely():
        open_grant({**SEALED.fields, "categorie": moved}, GGZ_GRANT, EVENT, KEYS["ggz"])
    with fails_opaquely():
        open_field_from_escrow(moved, ESCROW, ctx, CASE_KEY)
    # ... also when a grant of that one field is relabelled to match.
    relabelled = dataclasses.replace(POLITIE_GRANT, fields=("categorie",))
    with fails_opaquely():
        open_field(moved, relabelled, ctx, KEYS["politie"])


@pytest.mark.parametrize("attribute", ["event_id", "case_id", "region", "event_type"])
def test_ciphertext_moved_to_another_event_case_region_or_type(attribute: str) -> None:
    elsewhere = dataclasses.replace(EVENT, **{attribute: "other"})
    refused_grant(GGZ_GRANT, event=elsewhere)
    refused_grant(POLITIE_GRANT, KEYS["politie"], event=elsewhere)
    refused_escrow(ESCROW, event=elsewhere)


def test_ciphertext_swapped_with_one_from_another_event() -> None:
    other = seal(event=dataclasses.replace(EVENT, event_id="evt-4"))
    foreign_fields = other.fields
    foreign_grant = grant_of(other, "ggz")
    # Other event's ciphertexts with this event's grant, and vice versa.
    refused_grant(GGZ_GRANT, fields=foreign_fields)
    refused_grant(foreign_grant)
    # Both from the other event, opened as this event.
    refused_grant(foreign_grant, fields=foreign_fields)
    # The other event's escrow does not open or regrant this event's fields.
    refused_escrow(escrow_of(other))
    with fails_opaquely():
        open_escrow(foreign_fields, escrow_of(other), EVENT, CASE_KEY)
    # A sealed field of another event, offered in place of one of ours, is refused.
    refused_sealed_field(foreign_fields["toelichting"])


def test_grant_swapped_between_organisations() -> None:
    politie = KEYS["politie"]
    refused_grant(GGZ_GRANT, politie)
    refused_grant(dataclasses.replace(GGZ_GRANT, org_id="politie", key_id=politie.key_id), politie)
    # A grant for the wrong organisation does not open even with the wrapped keys swapped in.
    refused_grant(dataclasses.replace(POLITIE_GRANT, wrapped_keys=GGZ_GRANT.wrapped_keys), politie)
    refused_grant(
        dataclasses.replace(POLITIE_GRANT, nonce=GGZ_GRANT.nonce, fields=GGZ_GRANT.fields),
        politie,
    )


def test_grant_with_wrong_key_id() -> None:
    rotated = DecryptionKey.from_private("ggz", os.urandom(32))
    refused_grant(GGZ_GRANT, rotated)
    refused_grant(dataclasses.replace(GGZ_GRANT, key_id=rotated.key_id), rotated)


def test_wrong_private_key() -> None:
    ggz = KEYS["ggz"]
    refused_grant(GGZ_GRANT, DecryptionKey("ggz", ggz.key_id, ggz.public_key, os.urandom(32)))


def test_wrong_commitment() -> None:
    """A commitment made for another data key is refused even though the AEAD would open."""
    refused_sealed_field(
        dataclasses.replace(SEALED_FIELD, commitment=commitment(os.urandom(32), CTX))
    )


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_ephemeral_key_is_refused(point: bytes) -> None:
    refused_grant(dataclasses.replace(GGZ_GRANT, ephemeral_public=point))


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_recipient_key_is_refused_when_sealing(point: bytes) -> None:
    bad = Recipient("kwaadwillend", key_id(point, "x25519"), point)
    with pytest.raises(InvalidKey):
        seal_event(EVENT, {"a": b"x"}, {"a": [bad]}, CASE_KEY)
    with pytest.raises(InvalidKey):
        seal_event(EVENT, {"a": b"x", "b": b"y"}, {"a": recipients(["ggz"]), "b": [bad]}, CASE_KEY)
    with pytest.raises(InvalidKey):
        regrant(ESCROW, EVENT, CASE_KEY, bad, ["toelichting"])
    with pytest.raises(InvalidKey):
        seal_event(EVENT, {"a": b"x"}, {"a": [bad]}, CASE_KEY, sender=SenderKey.generate())


# --- a sender key kept for the events of one case ----------------------------------------------


def test_a_kept_sender_key_serves_many_events_each_under_its_own_keks() -> None:
    sender = SenderKey.generate()
    first = EVENT
    second = dataclasses.replace(EVENT, event_id="evt-4")
    by_event = {
        event: seal_event(
            event,
            PLAINTEXTS,
            {f: recipients(orgs) for f, orgs in GRANTED.items()},
            CASE_KEY,
            sender=sender,
        )
        for event in (first, second)
    }
    for event, sealed in by_event.items():
        assert {g.ephemeral_public for g in sealed.grants} == {sender.public}
        assert open_grant(sealed.fields, grant_of(sealed, "ggz"), event, KEYS["ggz"]) == {
            "toelichting": PLAINTEXTS["toelichting"],
            "categorie": PLAINTEXTS["categorie"],
        }
    # Same sender, same recipient, same fields: still, one event's grant opens nothing of
    # the other's, because the event is hashed into the KEK and the grant's context.
    other = by_event[second]
    with fails_opaquely():
        open_grant(other.fields, grant_of(by_event[first], "ggz"), second, KEYS["ggz"])
    with fails_opaquely():
        open_grant(by_event[first].fields, grant_of(other, "ggz"), first, KEYS["ggz"])
    # A regrant with the same sender opens too, under a fresh nonce.
    again = regrant(ESCROW, EVENT, CASE_KEY, KEYS["om"].recipient, ["leeg"], sender=sender)
    assert again.ephemeral_public == sender.public
    assert open_grant(SEALED.fields, again, EVENT, KEYS["om"]) == {"leeg": b""}


def test_a_kept_sender_key_draws_no_ephemeral_secret() -> None:
    recorded = Recorded()
    seal_event(
        EVENT,
        PLAINTEXTS,
        {"toelichting": recipients(["ggz"])},
        CASE_KEY,
        sender=SenderKey.generate(),
        rng=recorded,
    )
    (drawn,) = recorded.calls
    assert len(drawn) == 3 * (32 + 24) + 24 + 24  # fields, escrow nonce, one grant nonce


def test_a_sender_key_keeps_its_secret_out_of_its_repr_and_refuses_bad_secrets() -> None:
    secret = os.urandom(32)
    sender = SenderKey(secret)
    assert secret.hex() not in repr(sender) and b64encode(secret) not in repr(sender)
    assert sender.public == nacl.bindings.crypto_scalarmult_base(secret)
    for bad in (b"", os.urandom(31), os.urandom(33)):
        with pytest.raises(InvalidKey):
            SenderKey(bad)


# --- escrow and regrant -----------------------------------------------------------------------


def test_regrant_yields_a_grant_the_new_recipient_opens() -> None:
    grant = regrant(ESCROW, EVENT, CASE_KEY, KEYS["om"].recipient, ["categorie"])
    assert (grant.org_id, grant.key_id) == ("om", KEYS["om"].key_id)
    assert grant.fields == ("categorie",)
    assert open_grant(SEALED.fields, grant, EVENT, KEYS["om"]) == {"categorie": b"middelengebruik"}
    ctx = EVENT.field("categorie")
    assert open_field(SEALED.fields["categorie"], grant, ctx, KEYS["om"]) == b"middelengebruik"
    with fails_opaquely():
        open_field(SEALED_FIELD, grant, CTX, KEYS["om"])
    refused_grant(grant, KEYS["ggz"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(tuple(PLAINTEXTS)), min_size=1, unique=True))
def test_regrant_of_a_subset_opens_exactly_that_subset_in_escrow_order(
    fields: list[str],
) -> None:
    om = KEYS["om"]
    grant = regrant(ESCROW, EVENT, CASE_KEY, om.recipient, fields)
    assert grant.fields == tuple(f for f in ESCROW.fields if f in fields)
    assert open_grant(SEALED.fields, grant, EVENT, om) == {f: PLAINTEXTS[f] for f in fields}
    for name in set(PLAINTEXTS) - set(fields):
        with fails_opaquely():
            open_field(SEALED.fields[name], grant, EVENT.field(name), om)
    # Listing the fields in any other order is a different grant, and does not open.
    if len(fields) > 1:
        refused_grant(dataclasses.replace(grant, fields=grant.fields[::-1]), om)


def test_regrant_after_key_rotation() -> None:
    rotated = DecryptionKey.from_private("ggz", os.urandom(32))
    grant = regrant(ESCROW, EVENT, CASE_KEY, rotated.recipient, GGZ_GRANT.fields)
    assert (grant.org_id, grant.key_id) == ("ggz", rotated.key_id)
    assert grant.fields == GGZ_GRANT.fields
    assert open_grant(SEALED.fields, grant, EVENT, rotated) == {
        "toelichting": PLAINTEXTS["toelichting"],
        "categorie": PLAINTEXTS["categorie"],
    }
    refused_grant(grant, KEYS["ggz"])
    # The old key's grant is not readable with the new key either.
    refused_grant(GGZ_GRANT, rotated)


def test_regrant_with_destroyed_case_key() -> None:
    with pytest.raises(CaseKeyDestroyed):
        regrant(ESCROW, EVENT, None, KEYS["om"].recipient, ["toelichting"])
    with pytest.raises(CaseKeyDestroyed):
        open_field_from_escrow(SEALED_FIELD, ESCROW, CTX, None)
    with pytest.raises(CaseKeyDestroyed):
        open_escrow(SEALED.fields, ESCROW, EVENT, None)
    with pytest.raises(CaseKeyDestroyed):
        seal_event(EVENT, {"a": b"x"}, {}, None)


def test_regrant_with_wrong_case_key() -> None:
    with fails_opaquely():
        regrant(ESCROW, EVENT, new_case_key(), KEYS["om"].recipient, ["toelichting"])
    with fails_opaquely():
        open_field_from_escrow(SEALED_FIELD, ESCROW, CTX, new_case_key())
    with fails_opaquely():
        open_escrow(SEALED.fields, ESCROW, EVENT, new_case_key())


@pytest.mark.parametrize(
    "fields",
    [["extra"], ["toelichting", "extra"], [], ["toelichting", "toelichting"]],
    ids=["unknown", "one_unknown", "none", "twice"],
)
def test_regrant_cannot_include_a_field_the_escrow_does_not_hold(fields: list[str]) -> None:
    with pytest.raises(ValueError, match="escrow holds"):
        regrant(ESCROW, EVENT, CASE_KEY, KEYS["om"].recipient, fields)
    # Claiming the escrow holds it does not work either: its field list is bound in.
    claimed = dataclasses.replace(ESCROW, fields=(*ESCROW.fields, "extra"))
    with fails_opaquely():
        regrant(claimed, EVENT, CASE_KEY, KEYS["om"].recipient, ["extra"])


def test_case_key_of_wrong_length_is_a_programming_error() -> None:
    with pytest.raises(InvalidKey):
        seal_event(EVENT, {"a": b"x"}, {}, b"short")
    with pytest.raises(InvalidKey):
        regrant(ESCROW, EVENT, b"short", KEYS["om"].recipient, ["toelichting"])


# --- case keys ----------------------------------------------------------------------------------


def test_case_key_wrap_round_trip_and_binding() -> None:
    master = MasterKey.generate()
    wrapped = wrap_case_key(master, "regio-west", "case-17", CASE_KEY)
    assert len(wrapped) == 72
    assert unwrap_case_key(master, "regio-west", "case-17", wrapped) == CASE_KEY
    for region, case in (("regio-west", "case-18"), ("regio-oost", "case-17")):
        with fails_opaquely():
            unwrap_case_key(master, region, case, wrapped)
    other = MasterKey.generate()
    with fails_opaquely():
        unwrap_case_key(other, "regio-west", "case-17", wrapped)
    with fails_opaquely():
        unwrap_case_key(master, "regio-west", "case-17", wrapped[:-1])
    with fails_opaquely():
        unwrap_case_key(master, "regio-west", "case-17", wrapped + b"\0")


def test_case_key_wrap_draws_its_nonce_from_the_injected_randomness() -> None:
    master = MasterKey(bytes(range(32)))
    rng = Recorded()
    wrapped = wrap_case_key(master, "r", "c", CASE_KEY, rng=rng)
    (random,) = rng.calls
    assert wrapped[:24] == random
    assert wrap_case_key(master, "r", "c", CASE_KEY, rng=lambda n: random) == wrapped
    with pytest.raises(InvalidKey):
        wrap_case_key(master, "r", "c", b"short")


@given(positions, masks)
def test_flipped_byte_in_wrapped_case_key(position: int, mask: int) -> None:
    master = MasterKey(bytes(range(32)))
    wrapped = flip(wrap_case_key(master, "r", "c", CASE_KEY), position, mask)
    with fails_opaquely():
        unwrap_case_key(master, "r", "c", wrapped)


def test_destroying_the_case_key_makes_the_case_unopenable() -> None:
    master = MasterKey.generate()
    wrapped = wrap_case_key(master, "regio-west", "case-17", CASE_KEY)
    case_key = unwrap_case_key(master, "regio-west", "case-17", wrapped)
    assert open_escrow(SEALED.fields, ESCROW, EVENT, case_key) == PLAINTEXTS

    with pytest.raises(CaseKeyDestroyed):
        unwrap_case_key(master, "regio-west", "case-17", None)


# --- input validation -----------------------------------------------------------------------------


def test_recipients_for_unknown_fields_or_twice_are_refused() -> None:
    with pytest.raises(ValueError, match="not in the event"):
        seal_event(EVENT, {"a": b"x"}, {"b": recipients(["ggz"])}, CASE_KEY)
    with pytest.raises(ValueError, match="duplicate"):
        seal_event(EVENT, {"a": b"x"}, {"a": recipients(["ggz", "ggz"])}, CASE_KEY)
    with pytest.raises(ValueError, match="duplicate"):
        seal_event(
            EVENT,
            {"a": b"x", "b": b"y"},
            {"a": recipients(["ggz"]), "b": recipients(["politie", "ggz", "politie"])},
            CASE_KEY,
        )


def test_same_organisation_may_hold_grants_for_two_keys_during_rotation() -> None:
    old, rotated = KEYS["ggz"], DecryptionKey.from_private("ggz", os.urandom(32))
    sealed = seal_event(
        EVENT,
        {"a": b"x", "b": b"y"},
        {"a": [old.recipient, rotated.recipient], "b": [old.recipient]},
        CASE_KEY,
    )
    assert [(g.org_id, g.key_id, g.fields) for g in sealed.grants] == [
        ("ggz", old.key_id, ("a", "b")),
        ("ggz", rotated.key_id, ("a",)),
    ]
    old_grant, new_grant = sealed.grants
    assert open_grant(sealed.fields, old_grant, EVENT, old) == {"a": b"x", "b": b"y"}
    assert open_grant(sealed.fields, new_grant, EVENT, rotated) == {"a": b"x"}
    with fails_opaquely():
        open_grant(sealed.fields, old_grant, EVENT, rotated)
    with fails_opaquely():
        open_grant(sealed.fields, new_grant, EVENT, old)


def test_injected_randomness_makes_sealing_deterministic() -> None:
    def rng(size: int) -> bytes:
        return bytes(i % 251 for i in range(size))

    args = (EVENT, PLAINTEXTS, {f: recipients(o) for f, o in GRANTED.items()}, CASE_KEY)
    assert seal_event(*args, rng=rng) == seal_event(*args, rng=rng)
    recipient = KEYS["om"].recipient
    assert regrant(ESCROW, EVENT, CASE_KEY, recipient, ["leeg"], rng=rng) == regrant(
        ESCROW, EVENT, CASE_KEY, recipient, ["leeg"], rng=rng
    )
    with pytest.raises(ValueError, match="wrong length"):
        seal_event(*args, rng=lambda size: b"\0")
    with pytest.raises(ValueError, match="wrong length"):
        regrant(ESCROW, EVENT, CASE_KEY, recipient, ["leeg"], rng=lambda size: b"\0")


@settings(max_examples=50, deadline=None)
@given(
    st.tuples(st.text(max_size=3), st.text(max_size=3), st.lists(st.text(max_size=3))),
    st.tuples(st.text(max_size=3), st.text(max_size=3), st.lists(st.text(max_size=3))),
)
def test_grant_and_escrow_contexts_never_collide(
    a: tuple[str, str, list[str]], b: tuple[str, str, list[str]]
) -> None:
    """Distinct (organisation, key, field list) give distinct bytes to bind a grant to."""
    assert (grant_ad(EVENT, *a) == grant_ad(EVENT, *b)) == (a == b)
    assert (escrow_ad(EVENT, a[2]) == escrow_ad(EVENT, b[2])) == (a[2] == b[2])
    assert grant_ad(EVENT, *a) != escrow_ad(EVENT, b[2])


# --- wire format and the partner client ---------------------------------------------------------


def test_json_round_trips() -> None:
    records: list[SealedField | Grant | Escrow] = [SEALED_FIELD, *SEALED.grants, ESCROW]
    for record in records:
        wire = json.loads(json.dumps(record.to_json()))
        assert type(record).from_json(wire) == record
    assert SEALED_FIELD.to_json()["v"] == WIRE_VERSION == 1
    assert GGZ_GRANT.to_json()["v"] == ESCROW.to_json()["v"] == RECORD_VERSION == 2
    assert GGZ_GRANT.to_json()["fields"] == ["toelichting", "categorie"]
    assert ESCROW.to_json()["fields"] == list(PLAINTEXTS)


Damage = Callable[[dict[str, Any]], dict[str, Any]]


def _without(name: str) -> Damage:
    return lambda d: {k: v for k, v in d.items() if k != name}


COMMON_DAMAGE: dict[str, Damage] = {
    "next_version": lambda d: {**d, "v": d["v"] + 1},
    "previous_version": lambda d: {**d, "v": d["v"] - 1},
    "version_bool": lambda d: {**d, "v": True},
    "version_float": lambda d: {**d, "v": float(d["v"])},
    "version_string": lambda d: {**d, "v": str(d["v"])},
    "no_version": _without("v"),
    "no_nonce": _without("nonce"),
    "padded": lambda d: {**d, "nonce": d["nonce"] + "="},
    "other_alphabet": lambda d: {
        **d,
        "nonce": d["nonce"].replace("-", "+").replace("_", "/") + "+",
    },
    "nonce_number": lambda d: {**d, "nonce": 12},
    "nonce_null": lambda d: {**d, "nonce": None},
}

RECORDS: dict[type, SealedField | Grant | Escrow] = {
    SealedField: SEALED_FIELD,
    Grant: GGZ_GRANT,
    Escrow: ESCROW,
}


@pytest.mark.parametrize("kind", [SealedField, Grant, Escrow])
@pytest.mark.parametrize("damage", COMMON_DAMAGE.values(), ids=COMMON_DAMAGE.keys())
def test_malformed_json_fails_opaquely(
    kind: type[SealedField | Grant | Escrow], damage: Damage
) -> None:
    wire = damage(RECORDS[kind].to_json())
    with fails_opaquely():
        kind.from_json(wire)


FIELD_LIST_DAMAGE: dict[str, Damage] = {
    "string": lambda d: {**d, "fields": "toelichting"},
    "empty": lambda d: {**d, "fields": []},
    "duplicates": lambda d: {**d, "fields": ["toelichting", "toelichting"]},
    "duplicate_appended": lambda d: {**d, "fields": [*d["fields"], d["fields"][0]]},
    "number": lambda d: {**d, "fields": [1]},
    "null_name": lambda d: {**d, "fields": ["toelichting", None]},
    "nested": lambda d: {**d, "fields": [["toelichting"]]},
    "object": lambda d: {**d, "fields": dict.fromkeys(d["fields"], 1)},
    "null": lambda d: {**d, "fields": None},
    "missing": _without("fields"),
    "no_wrapped_keys": _without("wrapped_keys"),
    "wrapped_keys_number": lambda d: {**d, "wrapped_keys": 7},
}


@pytest.mark.parametrize("kind", [Grant, Escrow])
@pytest.mark.parametrize("damage", FIELD_LIST_DAMAGE.values(), ids=FIELD_LIST_DAMAGE.keys())
def test_malformed_field_list_fails_opaquely(kind: type[Grant | Escrow], damage: Damage) -> None:
    wire = damage(RECORDS[kind].to_json())
    with fails_opaquely():
        kind.from_json(wire)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: {**d, "field": None},
        lambda d: {**d, "field": 7},
        _without("field"),
        _without("ciphertext"),
        _without("commitment"),
    ],
)
def test_malformed_sealed_field_json_fails_opaquely(damage: Damage) -> None:
    with fails_opaquely():
        SealedField.from_json(damage(SEALED_FIELD.to_json()))


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: {**d, "org_id": None},
        lambda d: {**d, "key_id": 7},
        lambda d: {**d, "ephemeral_public": 7},
        _without("org_id"),
        _without("ephemeral_public"),
    ],
)
def test_malformed_grant_json_fails_opaquely(damage: Damage) -> None:
    with fails_opaquely():
        Grant.from_json(damage(GGZ_GRANT.to_json()))


def test_version_1_grants_and_escrows_are_no_longer_read() -> None:
    """Per-field records from before one grant covered many fields are refused, in their
    old shape and in the new shape with the old version alike."""
    grant = GGZ_GRANT.to_json()
    old_grant = {
        "v": 1,
        "org_id": grant["org_id"],
        "key_id": grant["key_id"],
        "field": "toelichting",
        "ephemeral_public": grant["ephemeral_public"],
        "nonce": grant["nonce"],
        "wrapped_key": grant["wrapped_keys"],
    }
    escrow = ESCROW.to_json()
    old_escrow = {
        "v": 1,
        "field": "toelichting",
        "nonce": escrow["nonce"],
        "wrapped_key": escrow["wrapped_keys"],
    }
    for kind, wire in (
        (Grant, old_grant),
        (Grant, {**grant, "v": 1}),
        (Grant, {**old_grant, "v": 2}),
        (Escrow, old_escrow),
        (Escrow, {**escrow, "v": 1}),
        (Escrow, {**old_escrow, "v": 2}),
    ):
        with fails_opaquely():
            kind.from_json(wire)


ENVELOPE = {
    "region": "regio-west",
    "case_id": "case-17",
    "event_id": "evt-3",
    "event_type": "signalering",
    "author": "politie",
}
SEALED_JSON = {name: f.to_json() for name, f in SEALED.fields.items()}
GRANTS_JSON = [g.to_json() for g in SEALED.grants]


def test_client_opens_from_json() -> None:
    for field in ("toelichting", "categorie"):
        opened = client.open_field(
            ENVELOPE, field, SEALED_JSON[field], GGZ_GRANT.to_json(), KEYS["ggz"]
        )
        assert opened == PLAINTEXTS[field]
    assert client.open_fields(ENVELOPE, SEALED_JSON, GRANTS_JSON, [KEYS["ggz"]]) == {
        "toelichting": PLAINTEXTS["toelichting"],
        "categorie": PLAINTEXTS["categorie"],
    }
    assert client.open_fields(ENVELOPE, SEALED_JSON, GRANTS_JSON, [KEYS["politie"]]) == {
        "toelichting": PLAINTEXTS["toelichting"]
    }
    assert client.open_fields(ENVELOPE, SEALED_JSON, GRANTS_JSON, [KEYS["om"]]) == {}
    # Only the grant's own records are needed.
    only_own = {"toelichting": SEALED_JSON["toelichting"]}
    assert client.open_fields(ENVELOPE, only_own, GRANTS_JSON[1:], [KEYS["politie"]]) == {
        "toelichting": PLAINTEXTS["toelichting"]
    }
    # An already parsed context works as well as the envelope.
    assert client.open_fields(EVENT, SEALED_JSON, GRANTS_JSON, [KEYS["ggz"]]) == {
        "toelichting": PLAINTEXTS["toelichting"],
        "categorie": PLAINTEXTS["categorie"],
    }


def test_client_opens_grants_of_two_keys_during_rotation() -> None:
    old, rotated = KEYS["ggz"], DecryptionKey.from_private("ggz", os.urandom(32))
    extra = regrant(ESCROW, EVENT, CASE_KEY, rotated.recipient, ["leeg"])
    grants = [*GRANTS_JSON, extra.to_json()]
    assert client.open_fields(ENVELOPE, SEALED_JSON, grants, [rotated]) == {"leeg": b""}
    assert client.open_fields(ENVELOPE, SEALED_JSON, grants, [old, rotated]) == PLAINTEXTS


def test_client_refuses_moved_or_damaged_input() -> None:
    moved = {**ENVELOPE, "event_id": "evt-4"}
    with fails_opaquely():
        client.open_fields(moved, SEALED_JSON, GRANTS_JSON, [KEYS["ggz"]])
    with fails_opaquely():
        client.open_field(
            moved, "toelichting", SEALED_JSON["toelichting"], GGZ_GRANT.to_json(), KEYS["ggz"]
        )
    # The server swaps the two fields' records: the partner must not read one as the other.
    swapped = {
        **SEALED_JSON,
        "toelichting": SEALED_JSON["categorie"],
        "categorie": SEALED_JSON["toelichting"],
    }
    with fails_opaquely():
        client.open_fields(ENVELOPE, swapped, GRANTS_JSON, [KEYS["ggz"]])
    with fails_opaquely():
        client.open_field(
            ENVELOPE, "toelichting", SEALED_JSON["categorie"], GGZ_GRANT.to_json(), KEYS["ggz"]
        )
    # A grant whose field record is missing is loud, not skipped.
    for present in ({"categorie": SEALED_JSON["categorie"]}, {}):
        with fails_opaquely():
            client.open_fields(ENVELOPE, present, GRANTS_JSON, [KEYS["politie"]])
    with fails_opaquely():
        client.open_fields(
            ENVELOPE, {"toelichting": SEALED_JSON["toelichting"]}, GRANTS_JSON, [KEYS["ggz"]]
        )
    # A grant whose field list was altered on the way is loud too.
    reordered = {**GGZ_GRANT.to_json(), "fields": ["categorie", "toelichting"]}
    with fails_opaquely():
        client.open_fields(ENVELOPE, SEALED_JSON, [reordered], [KEYS["ggz"]])
    widened = {**POLITIE_GRANT.to_json(), "fields": ["toelichting", "categorie"]}
    with fails_opaquely():
        client.open_fields(ENVELOPE, SEALED_JSON, [widened], [KEYS["politie"]])
    with fails_opaquely():
        client.open_fields(ENVELOPE, SEALED_JSON, [{**widened, "v": 1}], [KEYS["politie"]])
    # A field the grant does not hold is not opened through it.
    with fails_opaquely():
        client.open_field(ENVELOPE, "leeg", SEALED_JSON["leeg"], GGZ_GRANT.to_json(), KEYS["ggz"])
    with fails_opaquely():
        client.event_context({**ENVELOPE, "region": 7})
    with fails_opaquely():
        client.event_context({k: v for k, v in ENVELOPE.items() if k != "event_type"})


def test_client_loads_a_private_key_file() -> None:
    from datetime import UTC, datetime

    from sharing.keys import OrgPrivateKeys

    keys = OrgPrivateKeys.generate("om", datetime(2025, 1, 1, tzinfo=UTC))
    loaded = client.load_decryption_key(json.loads(json.dumps(keys.to_json())))
    assert loaded.key_id == keys.public.enc_key_id
    grant = regrant(ESCROW, EVENT, CASE_KEY, keys.public.recipient, ["toelichting", "leeg"])
    assert client.open_fields(ENVELOPE, SEALED_JSON, [grant.to_json()], [loaded]) == {
        "toelichting": PLAINTEXTS["toelichting"],
        "leeg": b"",
    }


def test_context_helpers() -> None:
    assert EVENT.field("x") == FieldContext("regio-west", "case-17", "evt-3", "signalering", "x")
    assert EVENT.field("x").event == EVENT
    assert EVENT.encoded() == length_prefixed("regio-west", "case-17", "evt-3", "signalering")
    assert content_ad(EVENT.field("x")).endswith(EVENT.encoded() + length_prefixed("x"))
    assert grant_ad(EVENT, "o", "k", ["a", "b"]).endswith(
        EVENT.encoded() + length_prefixed("o", "k", "a", "b")
    )
    assert escrow_ad(EVENT, ["a", "b"]).endswith(EVENT.encoded() + length_prefixed("a", "b"))
    assert client.event_context(ENVELOPE) == EVENT


def test_client_refuses_a_tampered_copy_of_a_grant_it_already_opened() -> None:
    """A second grant for the same fields is opened too, in either order: skipping it once
    the fields are known would hide a tampered copy behind a good one."""
    tampered = {**GGZ_GRANT.to_json(), "nonce": b64encode(flip(GGZ_GRANT.nonce, 0, 1))}
    for grants in ([GGZ_GRANT.to_json(), tampered], [tampered, GGZ_GRANT.to_json()]):
        with fails_opaquely():
            client.open_fields(ENVELOPE, SEALED_JSON, grants, [KEYS["ggz"]])


@pytest.mark.parametrize("data", [[], "grant", None, 7, ["v", 2]])
def test_records_that_are_not_json_objects_fail_opaquely(data: Any) -> None:
    for kind in (SealedField, Grant, Escrow):
        with fails_opaquely():
            kind.from_json(data)
    with fails_opaquely():
        client.open_fields(ENVELOPE, SEALED_JSON, [data], [KEYS["ggz"]])
    with fails_opaquely():
        client.open_fields(
            ENVELOPE, {**SEALED_JSON, "toelichting": data}, GRANTS_JSON, [KEYS["ggz"]]
        )


def test_the_escrow_read_path_needs_every_field_it_holds() -> None:
    partial = {name: f for name, f in SEALED.fields.items() if name != "leeg"}
    with fails_opaquely():
        open_escrow(partial, ESCROW, EVENT, CASE_KEY)
    assert open_escrow(SEALED.fields, ESCROW, EVENT, CASE_KEY) == PLAINTEXTS


def test_regrant_takes_field_names_not_one_string() -> None:
    with pytest.raises(TypeError):
        regrant(ESCROW, EVENT, CASE_KEY, KEYS["om"].recipient, "toelichting")


@settings(max_examples=25)
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=6))
def test_an_opener_opens_what_open_grant_opens_for_every_event_of_a_sender(
    values: list[bytes],
) -> None:
    """One sender key seals several events (as a sealer does per case); the opener makes
    one exchange with it and opens every grant exactly as `open_grant` does."""
    sender = SenderKey.generate()
    opener = Opener(KEYS["politie"])
    for number, value in enumerate(values):
        event = EventContext("regio-west", "case-17", f"evt-{number}", "signalering")
        sealed = seal_event(
            event,
            {"toelichting": value, "categorie": b"x"},
            {"toelichting": recipients(["politie"])},
            CASE_KEY,
            sender=sender,
        )
        grant = grant_of(sealed, "politie")
        assert grant.ephemeral_public == sender.public
        expected = open_grant(sealed.fields, grant, event, KEYS["politie"])
        assert opener.open_grant(sealed.fields, grant, event) == expected == {"toelichting": value}
        # Under another event's context the same grant does not open.
        other = EventContext("regio-west", "case-17", f"evt-{number + 1}", "signalering")
        with fails_opaquely():
            opener.open_grant(sealed.fields, grant, other)
