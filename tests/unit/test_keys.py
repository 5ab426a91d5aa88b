"""Organisation keys, key ids, rotation, and a master key that never shows itself."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pickle
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharing.errors import InvalidKey, KeyNotFound
from sharing.keys import (
    DecryptionKey,
    MasterKey,
    OrgPrivateKeys,
    OrgPublicKeys,
    Recipient,
    SigningKey,
    current_recipient,
    find_verify_key,
    granted_recipients,
    key_id,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def counter_rng() -> Callable[[int], bytes]:
    state = {"n": 0}

    def rng(size: int) -> bytes:
        state["n"] += 1
        return bytes([state["n"]]) * size

    return rng


def spellings(secret: bytes) -> list[str]:
    """Every way a secret could plausibly show up in a log line."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret)[2:-1],
        # A prefix is enough to be a leak.
        secret.hex()[:16],
        base64.b64encode(secret).decode()[:12],
        base64.urlsafe_b64encode(secret).decode()[:12],
    ]


def assert_hidden(text: str, *secrets: bytes) -> None:
    for secret in secrets:
        for spelling in spellings(secret):
            assert spelling not in text


# --- key ids ------------------------------------------------------------------------------------


def test_key_id_is_derived_and_kind_separated() -> None:
    public = os.urandom(32)
    assert key_id(public, "x25519") == key_id(public, "x25519")
    assert len(key_id(public, "x25519")) == 32
    int(key_id(public, "x25519"), 16)
    assert key_id(public, "x25519") != key_id(public, "ed25519")
    assert key_id(public, "x25519") != key_id(os.urandom(32), "x25519")
    with pytest.raises(InvalidKey):
        key_id(b"short", "x25519")


def test_recipient_must_name_its_key_correctly() -> None:
    key = DecryptionKey.from_private("ggz", os.urandom(32))
    assert key.recipient == Recipient("ggz", key.key_id, key.public_key)
    with pytest.raises(InvalidKey):
        Recipient("ggz", key_id(os.urandom(32), "x25519"), key.public_key)
    with pytest.raises(InvalidKey):
        Recipient("ggz", key.key_id, key.public_key[:31])
    with pytest.raises(InvalidKey):
        DecryptionKey("ggz", "0" * 32, key.public_key, key.private_key)
    with pytest.raises(InvalidKey):
        DecryptionKey.from_private("ggz", b"short")


# --- organisation key records -------------------------------------------------------------------


def test_generate_with_injected_randomness_is_deterministic() -> None:
    a = OrgPrivateKeys.generate("ggz", T0, rng=counter_rng())
    b = OrgPrivateKeys.generate("ggz", T0, rng=counter_rng())
    assert a.public == b.public
    assert a.public.valid_from == T0


def test_public_record_json_round_trip() -> None:
    keys = OrgPrivateKeys.generate("politie", T0)
    public = keys.public
    wire = json.loads(json.dumps(public.to_json()))
    assert OrgPublicKeys.from_json(wire) == public
    retired = dataclasses.replace(public, retired_at=T0 + DAY)
    assert OrgPublicKeys.from_json(json.loads(json.dumps(retired.to_json()))) == retired
    assert wire["valid_from"] == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: {**d, "enc_key_id": "0" * 32},
        lambda d: {**d, "sign_key_id": d["enc_key_id"]},
        lambda d: {**d, "enc_public_key": d["enc_public_key"] + "="},
        lambda d: {**d, "sign_public_key": d["sign_public_key"][:-2]},
        lambda d: {k: v for k, v in d.items() if k != "org_id"},
        lambda d: {**d, "valid_from": "2025-01-01T00:00:00"},
        lambda d: {**d, "valid_from": "yesterday"},
        lambda d: {**d, "retired_at": 5},
    ],
)
def test_malformed_public_records_are_refused(
    damage: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    wire = OrgPrivateKeys.generate("ggz", T0).public.to_json()
    with pytest.raises(InvalidKey):
        OrgPublicKeys.from_json(damage(wire))


def test_private_record_json_round_trip_and_integrity() -> None:
    keys = OrgPrivateKeys.generate("ggz", T0)
    wire = json.loads(json.dumps(keys.to_json()))
    loaded = OrgPrivateKeys.from_json(wire)
    assert loaded.public == keys.public
    assert loaded.enc_private_key == keys.enc_private_key
    assert loaded.sign_seed == keys.sign_seed
    other = OrgPrivateKeys.generate("ggz", T0).to_json()
    with pytest.raises(InvalidKey):
        OrgPrivateKeys.from_json({**wire, "enc_private_key": other["enc_private_key"]})
    with pytest.raises(InvalidKey):
        OrgPrivateKeys.from_json({**wire, "sign_seed": wire["sign_seed"][:10]})
    with pytest.raises(InvalidKey):
        OrgPrivateKeys.from_json({**wire, "sign_key_id": 3})


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        OrgPrivateKeys.generate("ggz", datetime(2025, 1, 1))


def test_signing_key_and_decryption_key_come_from_the_private_record() -> None:
    keys = OrgPrivateKeys.generate("ggz", T0)
    assert keys.decryption_key.recipient == keys.public.recipient
    signing = keys.signing_key
    assert isinstance(signing, SigningKey)
    assert signing.public_key == keys.public.sign_public_key
    assert len(signing.sign(b"message")) == 64


# --- rotation -----------------------------------------------------------------------------------


def test_current_recipient_follows_rotation() -> None:
    old = OrgPrivateKeys.generate("ggz", T0).public
    new = OrgPrivateKeys.generate("ggz", T0 + 10 * DAY).public
    old_retired = dataclasses.replace(old, retired_at=T0 + 20 * DAY)
    other = OrgPrivateKeys.generate("politie", T0).public
    records = [old_retired, new, other]

    with pytest.raises(KeyNotFound):
        current_recipient(records, "ggz", T0 - DAY)
    assert current_recipient(records, "ggz", T0 + DAY).key_id == old.enc_key_id
    assert current_recipient(records, "ggz", T0 + 15 * DAY).key_id == new.enc_key_id
    assert current_recipient(records, "ggz", T0 + 30 * DAY).key_id == new.enc_key_id
    assert current_recipient(records, "politie", T0).org_id == "politie"
    with pytest.raises(KeyNotFound):
        current_recipient(records, "om", T0)


def test_during_an_overlap_both_generations_are_granted_and_after_retirement_only_the_new() -> None:
    old = OrgPrivateKeys.generate("ggz", T0, generation=1).public
    new = OrgPrivateKeys.generate("ggz", T0 + 10 * DAY, generation=2).public
    other = OrgPrivateKeys.generate("politie", T0).public

    def granted(records: list[OrgPublicKeys], at: datetime) -> list[str]:
        return [r.key_id for r in granted_recipients(records, "ggz", at)]

    overlap = [old, new, other]
    assert granted(overlap, T0 + DAY) == [old.enc_key_id]
    assert granted(overlap, T0 + 15 * DAY) == [new.enc_key_id, old.enc_key_id]
    retired = [dataclasses.replace(old, retired_at=T0 + 20 * DAY), new, other]
    assert granted(retired, T0 + 15 * DAY) == [new.enc_key_id, old.enc_key_id]
    assert granted(retired, T0 + 20 * DAY) == [new.enc_key_id]
    assert granted(retired, T0 - DAY) == []


def test_numbered_generations_carry_their_number_and_confirmation_in_json() -> None:
    private = OrgPrivateKeys.generate("ggz", T0, generation=3)
    assert OrgPrivateKeys.from_json(private.to_json()).generation == 3
    public = dataclasses.replace(private.public, confirmed_at=T0 + DAY)
    record = public.to_json()
    assert (record["generation"], record["confirmed_at"]) == (3, "2025-01-02T00:00:00Z")
    assert OrgPublicKeys.from_json(record) == public
    unnumbered = OrgPrivateKeys.generate("ggz", T0).public.to_json()
    assert "generation" not in unnumbered and "confirmed_at" not in unnumbered
    for bad in (0, -1, "2", True):
        with pytest.raises(InvalidKey):
            OrgPublicKeys.from_json(record | {"generation": bad})


def test_retired_signing_key_still_vouches_for_what_it_signed_before() -> None:
    public = OrgPrivateKeys.generate("ggz", T0).public
    retired = dataclasses.replace(public, retired_at=T0 + DAY)
    kid = public.sign_key_id
    assert find_verify_key([retired], "ggz", kid, T0) == public.sign_public_key
    with pytest.raises(KeyNotFound):
        find_verify_key([retired], "ggz", kid, T0 + DAY)
    with pytest.raises(KeyNotFound):
        find_verify_key([retired], "politie", kid, T0)
    with pytest.raises(KeyNotFound):
        find_verify_key([retired], "ggz", public.enc_key_id, T0)


# --- nothing secret in reprs --------------------------------------------------------------------


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_private_key_reprs_contain_no_key_bytes(enc: bytes, seed: bytes) -> None:
    keys = OrgPrivateKeys("ggz", T0, enc, seed)
    texts = [
        repr(keys),
        str(keys),
        f"{keys}",
        repr([keys]),
        repr(keys.decryption_key),
        str(keys.decryption_key),
        repr(keys.signing_key),
        repr({"k": keys.signing_key}),
    ]
    for text in texts:
        assert_hidden(text, enc, seed)
    assert "ggz" in repr(keys)
    assert keys.public.enc_key_id in repr(keys)


@given(st.binary(min_size=32, max_size=32))
def test_master_key_repr_contains_no_key_bytes(secret: bytes) -> None:
    master = MasterKey(secret)
    for text in (repr(master), str(master), f"{master!r}", repr([master])):
        assert_hidden(text, secret)
        assert master.fingerprint in text


# --- the master key -----------------------------------------------------------------------------


def test_master_key_from_base64_env_and_file(tmp_path: Path) -> None:
    master = MasterKey.generate()
    text = master.to_base64()
    assert len(text) == 44
    assert MasterKey.from_base64(text).reveal() == master.reveal()
    assert MasterKey.from_env("KEY", {"KEY": f"  {text}\n"}).reveal() == master.reveal()
    path = tmp_path / "master.key"
    master.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.from_file(path).reveal() == master.reveal()
    with pytest.raises(FileExistsError):
        MasterKey.generate().save(path)


def test_master_key_generate_uses_injected_randomness() -> None:
    assert MasterKey.generate(rng=lambda n: b"\x07" * n).reveal() == b"\x07" * 32
    with pytest.raises(ValueError, match="wrong length"):
        MasterKey.generate(rng=lambda n: b"\x07")


def test_master_key_missing_or_malformed(tmp_path: Path) -> None:
    with pytest.raises(KeyNotFound):
        MasterKey.from_env("KEY", {})
    with pytest.raises(KeyNotFound):
        MasterKey.from_file(tmp_path / "absent")
    with pytest.raises(InvalidKey):
        MasterKey.from_base64("not base64!")
    with pytest.raises(InvalidKey):
        MasterKey.from_base64(base64.b64encode(bytes(31)).decode())
    with pytest.raises(InvalidKey):
        MasterKey(bytes(33))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff" * 32)
    with pytest.raises(InvalidKey):
        MasterKey.from_file(binary)


def test_master_key_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(MasterKey.generate())


def test_master_key_derivations_are_independent() -> None:
    master = MasterKey(bytes(range(32)))
    pseudonym = master.derive("pseudonym")
    assert len(pseudonym) == 32
    assert pseudonym == MasterKey(bytes(range(32))).derive("pseudonym")
    assert pseudonym != master.derive("pseudonym2")
    assert pseudonym != master.reveal()
    assert len(master.derive("x", 64)) == 64
    assert master.fingerprint != MasterKey.generate().fingerprint
