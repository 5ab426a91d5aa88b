"""Sealing and opening fields: who can open what, and that every tampering fails the same way."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharing import client
from sharing.envelope import (
    Escrow,
    EventContext,
    FieldContext,
    Grant,
    SealedEvent,
    SealedField,
    load_case_key,
    new_case_key,
    open_field,
    open_field_from_escrow,
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
) -> SealedEvent:
    return seal_event(
        event, plaintexts, {f: recipients(orgs) for f, orgs in granted.items()}, CASE_KEY
    )


def grant_for(sealed: SealedEvent, field: str, org: str) -> Grant:
    (grant,) = [g for g in sealed.grants if g.field == field and g.org_id == org]
    return grant


def flip(data: bytes, position: int, mask: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


SEALED = seal()
CTX = EVENT.field("toelichting")
SEALED_FIELD = SEALED.fields["toelichting"]
GGZ_GRANT = grant_for(SEALED, "toelichting", "ggz")

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


# --- round trips -------------------------------------------------------------------------------


def test_each_recipient_opens_its_granted_fields() -> None:
    for field, orgs in GRANTED.items():
        for org in orgs:
            grant = grant_for(SEALED, field, org)
            opened = open_field(SEALED.fields[field], grant, EVENT.field(field), KEYS[org])
            assert opened == PLAINTEXTS[field]


def test_every_field_is_sealed_and_escrowed_even_without_recipients() -> None:
    assert set(SEALED.fields) == set(SEALED.escrows) == set(PLAINTEXTS)
    assert {(g.field, g.org_id) for g in SEALED.grants} == {
        (f, org) for f, orgs in GRANTED.items() for org in orgs
    }
    for field in PLAINTEXTS:
        ctx = EVENT.field(field)
        opened = open_field_from_escrow(SEALED.fields[field], SEALED.escrows[field], ctx, CASE_KEY)
        assert opened == PLAINTEXTS[field]


def test_one_ephemeral_key_per_event_and_fresh_randomness_per_seal() -> None:
    assert len({g.ephemeral_public for g in SEALED.grants}) == 1
    again = seal()
    assert again.fields["toelichting"].ciphertext != SEALED_FIELD.ciphertext
    assert again.grants[0].ephemeral_public != SEALED.grants[0].ephemeral_public


def test_grants_carry_nothing_secret() -> None:
    data_key = _escrowed_key()
    for grant in SEALED.grants:
        for value in dataclasses.astuple(grant):
            if isinstance(value, bytes):
                assert data_key not in value
                assert KEYS[grant.org_id].private_key not in value


def _escrowed_key() -> bytes:
    from sharing.envelope import _decrypt, escrow_ad

    escrow = SEALED.escrows["toelichting"]
    return bytes(_decrypt(escrow.wrapped_key, escrow_ad(CTX), escrow.nonce, CASE_KEY))


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
    for org in ORGS:
        held = [g for g in sealed.grants if g.org_id == org]
        for field, plaintext in plaintexts.items():
            ctx = EVENT.field(field)
            if org in granted.get(field, ()):
                grant = grant_for(sealed, field, org)
                assert open_field(sealed.fields[field], grant, ctx, KEYS[org]) == plaintext
                continue
            # Not granted: none of its own grants, relabelled or not, opens the field ...
            for grant in held:
                relabelled = dataclasses.replace(grant, field=field)
                with fails_opaquely():
                    open_field(sealed.fields[field], relabelled, ctx, KEYS[org])
            # ... and neither does another organisation's grant for it.
            for grant in (g for g in sealed.grants if g.field == field):
                stolen = dataclasses.replace(grant, org_id=org, key_id=KEYS[org].key_id)
                with fails_opaquely():
                    open_field(sealed.fields[field], stolen, ctx, KEYS[org])


# --- tampering: flipped bytes -------------------------------------------------------------------


def _open(sealed: SealedField = SEALED_FIELD, grant: Grant = GGZ_GRANT) -> bytes:
    return open_field(sealed, grant, CTX, KEYS["ggz"])


@given(positions, masks)
def test_flipped_byte_in_ciphertext(position: int, mask: int) -> None:
    tampered = dataclasses.replace(
        SEALED_FIELD, ciphertext=flip(SEALED_FIELD.ciphertext, position, mask)
    )
    with fails_opaquely():
        _open(tampered)


@given(positions, masks)
def test_flipped_byte_in_nonce(position: int, mask: int) -> None:
    tampered = dataclasses.replace(SEALED_FIELD, nonce=flip(SEALED_FIELD.nonce, position, mask))
    with fails_opaquely():
        _open(tampered)


@given(positions, masks)
def test_flipped_byte_in_commitment(position: int, mask: int) -> None:
    tampered = dataclasses.replace(
        SEALED_FIELD, commitment=flip(SEALED_FIELD.commitment, position, mask)
    )
    with fails_opaquely():
        _open(tampered)


@given(positions, masks)
def test_flipped_byte_in_wrapped_key(position: int, mask: int) -> None:
    tampered = dataclasses.replace(
        GGZ_GRANT, wrapped_key=flip(GGZ_GRANT.wrapped_key, position, mask)
    )
    with fails_opaquely():
        _open(grant=tampered)


@given(positions, masks)
def test_flipped_byte_in_grant_nonce(position: int, mask: int) -> None:
    tampered = dataclasses.replace(GGZ_GRANT, nonce=flip(GGZ_GRANT.nonce, position, mask))
    with fails_opaquely():
        _open(grant=tampered)


@given(positions, masks)
def test_flipped_byte_in_ephemeral_public_key(position: int, mask: int) -> None:
    tampered = dataclasses.replace(
        GGZ_GRANT, ephemeral_public=flip(GGZ_GRANT.ephemeral_public, position, mask)
    )
    with fails_opaquely():
        _open(grant=tampered)


@given(positions, masks)
def test_flipped_byte_in_escrow(position: int, mask: int) -> None:
    escrow = SEALED.escrows["toelichting"]
    tampered = dataclasses.replace(escrow, wrapped_key=flip(escrow.wrapped_key, position, mask))
    with fails_opaquely():
        open_field_from_escrow(SEALED_FIELD, tampered, CTX, CASE_KEY)


@pytest.mark.parametrize("cut", [1, 16, 100])
def test_truncated_ciphertext_and_wrapped_key(cut: int) -> None:
    short = dataclasses.replace(SEALED_FIELD, ciphertext=SEALED_FIELD.ciphertext[:-cut])
    with fails_opaquely():
        _open(short)
    short_grant = dataclasses.replace(GGZ_GRANT, wrapped_key=GGZ_GRANT.wrapped_key[:-cut])
    with fails_opaquely():
        _open(grant=short_grant)


def test_wrong_lengths_fail_opaquely() -> None:
    for tampered in (
        dataclasses.replace(SEALED_FIELD, nonce=SEALED_FIELD.nonce[:-1]),
        dataclasses.replace(SEALED_FIELD, commitment=SEALED_FIELD.commitment + b"\0"),
    ):
        with fails_opaquely():
            _open(tampered)
    for grant in (
        dataclasses.replace(GGZ_GRANT, nonce=b""),
        dataclasses.replace(GGZ_GRANT, ephemeral_public=GGZ_GRANT.ephemeral_public[:31]),
    ):
        with fails_opaquely():
            _open(grant=grant)


# --- tampering: moved ciphertexts and grants ------------------------------------------------------


def test_ciphertext_moved_to_another_field() -> None:
    moved = dataclasses.replace(SEALED_FIELD, field="categorie")
    grant = grant_for(SEALED, "categorie", "ggz")
    ctx = EVENT.field("categorie")
    with fails_opaquely():
        open_field(moved, grant, ctx, KEYS["ggz"])
    # ... also when the grant is relabelled along with it.
    relabelled = dataclasses.replace(GGZ_GRANT, field="categorie")
    with fails_opaquely():
        open_field(moved, relabelled, ctx, KEYS["ggz"])


@pytest.mark.parametrize("attribute", ["event_id", "case_id", "region", "event_type"])
def test_ciphertext_moved_to_another_event_case_region_or_type(attribute: str) -> None:
    elsewhere = dataclasses.replace(CTX, **{attribute: "other"})
    with fails_opaquely():
        open_field(SEALED_FIELD, GGZ_GRANT, elsewhere, KEYS["ggz"])
    escrow = SEALED.escrows["toelichting"]
    with fails_opaquely():
        open_field_from_escrow(SEALED_FIELD, escrow, elsewhere, CASE_KEY)


def test_ciphertext_swapped_with_one_from_another_event() -> None:
    other = seal(event=dataclasses.replace(EVENT, event_id="evt-4"))
    foreign_field = other.fields["toelichting"]
    foreign_grant = grant_for(other, "toelichting", "ggz")
    # Other event's ciphertext with this event's grant, and vice versa.
    with fails_opaquely():
        _open(foreign_field)
    with fails_opaquely():
        _open(grant=foreign_grant)
    # Both from the other event, opened as this event.
    with fails_opaquely():
        _open(foreign_field, foreign_grant)


def test_grant_swapped_between_organisations() -> None:
    police_grant = grant_for(SEALED, "toelichting", "politie")
    with fails_opaquely():
        open_field(SEALED_FIELD, GGZ_GRANT, CTX, KEYS["politie"])
    relabelled = dataclasses.replace(GGZ_GRANT, org_id="politie", key_id=KEYS["politie"].key_id)
    with fails_opaquely():
        open_field(SEALED_FIELD, relabelled, CTX, KEYS["politie"])
    # A grant for the wrong organisation does not open even with the wrapped keys swapped in.
    swapped = dataclasses.replace(police_grant, wrapped_key=GGZ_GRANT.wrapped_key)
    with fails_opaquely():
        open_field(SEALED_FIELD, swapped, CTX, KEYS["politie"])


def test_grant_with_wrong_key_id() -> None:
    rotated = DecryptionKey.from_private("ggz", os.urandom(32))
    with fails_opaquely():
        open_field(SEALED_FIELD, GGZ_GRANT, CTX, rotated)
    claimed = dataclasses.replace(GGZ_GRANT, key_id=rotated.key_id)
    with fails_opaquely():
        open_field(SEALED_FIELD, claimed, CTX, rotated)


def test_wrong_private_key() -> None:
    ggz = KEYS["ggz"]
    impostor = DecryptionKey("ggz", ggz.key_id, ggz.public_key, os.urandom(32))
    with fails_opaquely():
        open_field(SEALED_FIELD, GGZ_GRANT, CTX, impostor)


def test_wrong_commitment() -> None:
    """A commitment made for another data key is refused even though the AEAD would open."""
    from sharing.envelope import commitment

    other = dataclasses.replace(SEALED_FIELD, commitment=commitment(os.urandom(32), CTX))
    with fails_opaquely():
        _open(other)
    with fails_opaquely():
        open_field_from_escrow(other, SEALED.escrows["toelichting"], CTX, CASE_KEY)


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_ephemeral_key_is_refused(point: bytes) -> None:
    tampered = dataclasses.replace(GGZ_GRANT, ephemeral_public=point)
    with fails_opaquely():
        _open(grant=tampered)


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_low_order_recipient_key_is_refused_when_sealing(point: bytes) -> None:
    bad = Recipient("kwaadwillend", key_id(point, "x25519"), point)
    with pytest.raises(InvalidKey):
        seal_event(EVENT, {"a": b"x"}, {"a": [bad]}, CASE_KEY)
    with pytest.raises(InvalidKey):
        regrant(SEALED.escrows["toelichting"], CTX, CASE_KEY, bad)


# --- escrow and regrant -----------------------------------------------------------------------


def test_regrant_yields_a_grant_the_new_recipient_opens() -> None:
    escrow = SEALED.escrows["categorie"]
    ctx = EVENT.field("categorie")
    grant = regrant(escrow, ctx, CASE_KEY, KEYS["om"].recipient)
    assert grant.org_id == "om" and grant.field == "categorie"
    assert open_field(SEALED.fields["categorie"], grant, ctx, KEYS["om"]) == b"middelengebruik"
    with fails_opaquely():
        open_field(SEALED.fields["categorie"], grant, ctx, KEYS["ggz"])


def test_regrant_after_key_rotation() -> None:
    rotated = DecryptionKey.from_private("ggz", os.urandom(32))
    grant = regrant(SEALED.escrows["toelichting"], CTX, CASE_KEY, rotated.recipient)
    assert grant.key_id == rotated.key_id
    assert open_field(SEALED_FIELD, grant, CTX, rotated) == PLAINTEXTS["toelichting"]
    with fails_opaquely():
        open_field(SEALED_FIELD, grant, CTX, KEYS["ggz"])


def test_regrant_with_destroyed_case_key() -> None:
    with pytest.raises(CaseKeyDestroyed):
        regrant(SEALED.escrows["toelichting"], CTX, None, KEYS["om"].recipient)
    with pytest.raises(CaseKeyDestroyed):
        open_field_from_escrow(SEALED_FIELD, SEALED.escrows["toelichting"], CTX, None)
    with pytest.raises(CaseKeyDestroyed):
        seal_event(EVENT, {"a": b"x"}, {}, None)


def test_regrant_with_wrong_case_key() -> None:
    escrow = SEALED.escrows["toelichting"]
    with fails_opaquely():
        regrant(escrow, CTX, new_case_key(), KEYS["om"].recipient)
    with fails_opaquely():
        open_field_from_escrow(SEALED_FIELD, escrow, CTX, new_case_key())


def test_escrow_of_one_field_does_not_regrant_another() -> None:
    escrow = dataclasses.replace(SEALED.escrows["categorie"], field="toelichting")
    with fails_opaquely():
        regrant(escrow, CTX, CASE_KEY, KEYS["om"].recipient)


def test_case_key_of_wrong_length_is_a_programming_error() -> None:
    with pytest.raises(InvalidKey):
        seal_event(EVENT, {"a": b"x"}, {}, b"short")


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


@given(positions, masks)
def test_flipped_byte_in_wrapped_case_key(position: int, mask: int) -> None:
    master = MasterKey(bytes(range(32)))
    wrapped = flip(wrap_case_key(master, "r", "c", CASE_KEY), position, mask)
    with fails_opaquely():
        unwrap_case_key(master, "r", "c", wrapped)


class DictCaseKeyStore:
    def __init__(self) -> None:
        self.wrapped: dict[tuple[str, str], bytes] = {}

    def wrapped_case_key(self, region: str, case_id: str) -> bytes | None:
        return self.wrapped.get((region, case_id))


def test_destroying_the_case_key_makes_the_case_unopenable() -> None:
    master = MasterKey.generate()
    store = DictCaseKeyStore()
    store.wrapped[("regio-west", "case-17")] = wrap_case_key(
        master, "regio-west", "case-17", CASE_KEY
    )
    case_key = load_case_key(store, master, "regio-west", "case-17")
    escrow = SEALED.escrows["toelichting"]
    assert open_field_from_escrow(SEALED_FIELD, escrow, CTX, case_key) == PLAINTEXTS["toelichting"]

    del store.wrapped[("regio-west", "case-17")]
    with pytest.raises(CaseKeyDestroyed):
        load_case_key(store, master, "regio-west", "case-17")
    with pytest.raises(CaseKeyDestroyed):
        unwrap_case_key(master, "regio-west", "case-17", None)


# --- input validation -----------------------------------------------------------------------------


def test_recipients_for_unknown_fields_or_twice_are_refused() -> None:
    with pytest.raises(ValueError, match="not in the event"):
        seal_event(EVENT, {"a": b"x"}, {"b": recipients(["ggz"])}, CASE_KEY)
    with pytest.raises(ValueError, match="duplicate"):
        seal_event(EVENT, {"a": b"x"}, {"a": recipients(["ggz", "ggz"])}, CASE_KEY)


def test_same_organisation_may_hold_grants_for_two_keys_during_rotation() -> None:
    rotated = DecryptionKey.from_private("ggz", os.urandom(32))
    sealed = seal_event(
        EVENT, {"a": b"x"}, {"a": [KEYS["ggz"].recipient, rotated.recipient]}, CASE_KEY
    )
    ctx = EVENT.field("a")
    for key in (KEYS["ggz"], rotated):
        (grant,) = [g for g in sealed.grants if g.key_id == key.key_id]
        assert open_field(sealed.fields["a"], grant, ctx, key) == b"x"


def test_injected_randomness_makes_sealing_deterministic() -> None:
    def rng(size: int) -> bytes:
        return bytes(i % 251 for i in range(size))

    args = (EVENT, PLAINTEXTS, {f: recipients(o) for f, o in GRANTED.items()}, CASE_KEY)
    assert seal_event(*args, rng=rng) == seal_event(*args, rng=rng)
    with pytest.raises(ValueError, match="wrong length"):
        seal_event(*args, rng=lambda size: b"\0")


# --- wire format and the partner client ---------------------------------------------------------


def test_json_round_trips() -> None:
    for record in (SEALED_FIELD, GGZ_GRANT, SEALED.escrows["toelichting"]):
        wire = json.loads(json.dumps(record.to_json()))
        assert type(record).from_json(wire) == record


@pytest.mark.parametrize("kind", [SealedField, Grant, Escrow])
@pytest.mark.parametrize(
    "damage",
    [
        lambda d: {**d, "v": 2},
        lambda d: {**d, "v": True},
        lambda d: {k: v for k, v in d.items() if k != "nonce"},
        lambda d: {**d, "nonce": d["nonce"] + "="},
        lambda d: {**d, "nonce": d["nonce"].replace("-", "+").replace("_", "/") + "+"},
        lambda d: {**d, "nonce": 12},
        lambda d: {**d, "field": None},
    ],
)
def test_malformed_json_fails_opaquely(
    kind: type[SealedField | Grant | Escrow],
    damage: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    record: dict[type, SealedField | Grant | Escrow] = {
        SealedField: SEALED_FIELD,
        Grant: GGZ_GRANT,
        Escrow: SEALED.escrows["toelichting"],
    }
    wire = damage(record[kind].to_json())
    with fails_opaquely():
        kind.from_json(wire)


def test_client_opens_from_json() -> None:
    envelope = {
        "region": "regio-west",
        "case_id": "case-17",
        "event_id": "evt-3",
        "event_type": "signalering",
        "author": "politie",
    }
    sealed_json = {name: f.to_json() for name, f in SEALED.fields.items()}
    grants_json = [g.to_json() for g in SEALED.grants]
    opened = client.open_field(
        envelope, "toelichting", sealed_json["toelichting"], GGZ_GRANT.to_json(), KEYS["ggz"]
    )
    assert opened == PLAINTEXTS["toelichting"]
    assert client.open_fields(envelope, sealed_json, grants_json, [KEYS["ggz"]]) == {
        "toelichting": PLAINTEXTS["toelichting"],
        "categorie": PLAINTEXTS["categorie"],
    }
    assert client.open_fields(envelope, sealed_json, grants_json, [KEYS["politie"]]) == {
        "toelichting": PLAINTEXTS["toelichting"]
    }
    assert client.open_fields(envelope, sealed_json, grants_json, [KEYS["om"]]) == {}


def test_client_refuses_moved_or_damaged_input() -> None:
    envelope = {
        "region": "regio-west",
        "case_id": "case-17",
        "event_id": "evt-3",
        "event_type": "signalering",
    }
    sealed_json = {name: f.to_json() for name, f in SEALED.fields.items()}
    grants_json = [g.to_json() for g in SEALED.grants]
    moved = {**envelope, "event_id": "evt-4"}
    with fails_opaquely():
        client.open_fields(moved, sealed_json, grants_json, [KEYS["ggz"]])
    # The server swaps the two fields' records: the partner must not read one as the other.
    swapped = {"toelichting": sealed_json["categorie"], "categorie": sealed_json["toelichting"]}
    with fails_opaquely():
        client.open_fields(envelope, swapped, grants_json, [KEYS["ggz"]])
    # A grant whose field record is missing is loud, not skipped.
    with fails_opaquely():
        client.open_fields(
            envelope, {"categorie": sealed_json["categorie"]}, grants_json, [KEYS["politie"]]
        )
    with fails_opaquely():
        client.event_context({**envelope, "region": 7})


def test_client_loads_a_private_key_file() -> None:
    from datetime import UTC, datetime

    from sharing.keys import OrgPrivateKeys

    keys = OrgPrivateKeys.generate("om", datetime(2025, 1, 1, tzinfo=UTC))
    loaded = client.load_decryption_key(json.loads(json.dumps(keys.to_json())))
    assert loaded.key_id == keys.public.enc_key_id
    grant = regrant(SEALED.escrows["toelichting"], CTX, CASE_KEY, keys.public.recipient)
    assert open_field(SEALED_FIELD, grant, CTX, loaded) == PLAINTEXTS["toelichting"]


def test_field_context_helpers() -> None:
    assert EVENT.field("x") == FieldContext("regio-west", "case-17", "evt-3", "signalering", "x")
    assert EVENT.field("x").event == EVENT
