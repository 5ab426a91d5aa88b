"""docs/envelope.md's test vectors are what the code produces, and open as the spec says.

The first test catches a document that has drifted from the code (regenerate with
``python -m sharing.vectors --update docs/envelope.md``). The others read the document alone,
as a partner implementing the spec would, and check each documented step.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.bindings
import pytest

from sharing import client
from sharing.canonical import canonical_json, length_prefixed
from sharing.envelope import (
    Escrow,
    EventContext,
    Grant,
    SealedField,
    case_key_ad,
    commitment,
    content_ad,
    derive_kek,
    escrow_ad,
    grant_ad,
    open_escrow,
    open_field,
    open_field_from_escrow,
    open_grant,
    unwrap_case_key,
)
from sharing.keys import DecryptionKey, MasterKey, OrgPrivateKeys, key_id
from sharing.signing import Signature, signing_input, verify
from sharing.vectors import extract, generate

DOC = Path(__file__).resolve().parents[2] / "docs" / "envelope.md"
VECTORS: Any = extract(DOC.read_text(encoding="utf-8"))
EVENT = VECTORS["event"]
CONTEXT = EventContext(EVENT["region"], EVENT["case_id"], EVENT["event_id"], EVENT["event_type"])


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def decryption_key(org: str) -> DecryptionKey:
    return DecryptionKey.from_private(org, h(VECTORS["organisations"][org]["enc_private_key"]))


def test_document_matches_the_generator() -> None:
    assert json.loads(json.dumps(generate())) == VECTORS


def test_length_prefixed_vectors() -> None:
    for vector in VECTORS["length_prefixed"]:
        assert length_prefixed(*vector["parts"]).hex() == vector["hex"]


def test_canonical_json_vectors() -> None:
    for vector in VECTORS["canonical_json"]:
        assert canonical_json(json.loads(vector["input"])) == vector["canonical"].encode()


@pytest.mark.parametrize("org", ["org-a", "org-b"])
def test_organisation_key_vectors(org: str) -> None:
    vector = VECTORS["organisations"][org]
    enc_public = nacl.bindings.crypto_scalarmult_base(h(vector["enc_private_key"]))
    assert enc_public.hex() == vector["enc_public_key"]
    assert key_id(enc_public, "x25519") == vector["enc_key_id"]
    sign_public, _ = nacl.bindings.crypto_sign_seed_keypair(h(vector["sign_seed"]))
    assert sign_public.hex() == vector["sign_public_key"]
    assert key_id(sign_public, "ed25519") == vector["sign_key_id"]


def test_case_key_vector() -> None:
    vector = VECTORS["case_key"]
    ad = case_key_ad(vector["region"], vector["case_id"])
    assert ad.hex() == vector["ad"]
    wrapped = h(vector["wrapped"])
    assert wrapped[:24].hex() == vector["nonce"]
    expected = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        h(vector["case_key"]), ad, h(vector["nonce"]), h(vector["master_key"])
    )
    assert wrapped[24:] == expected
    master = MasterKey(h(vector["master_key"]))
    unwrapped = unwrap_case_key(master, vector["region"], vector["case_id"], wrapped)
    assert unwrapped.hex() == vector["case_key"]


def test_event_ephemeral_key() -> None:
    epk = nacl.bindings.crypto_scalarmult_base(h(EVENT["ephemeral_secret"]))
    assert epk.hex() == EVENT["ephemeral_public"]


@pytest.mark.parametrize("index", [0, 1])
def test_field_vector_step_by_step(index: int) -> None:
    vector = EVENT["fields"][index]
    ctx = CONTEXT.field(vector["field"])
    data_key = h(vector["data_key"])
    assert content_ad(ctx).hex() == vector["ad"]
    assert commitment(data_key, ctx).hex() == vector["commitment"]
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        vector["plaintext"].encode(), h(vector["ad"]), h(vector["nonce"]), data_key
    )
    assert ciphertext.hex() == vector["ciphertext"]


def data_keys(names: list[str]) -> bytes:
    by_name = {field["field"]: h(field["data_key"]) for field in EVENT["fields"]}
    return b"".join(by_name[name] for name in names)


def test_escrow_vector_step_by_step() -> None:
    escrow = EVENT["escrow"]
    assert escrow["fields"] == [field["field"] for field in EVENT["fields"]]
    assert escrow_ad(CONTEXT, escrow["fields"]).hex() == escrow["ad"]
    escrowed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        h(escrow["wrapped_keys"]), h(escrow["ad"]), h(escrow["nonce"]), h(EVENT["case_key"])
    )
    assert escrowed == data_keys(escrow["fields"])


@pytest.mark.parametrize("index", [0, 1])
def test_grant_vector_step_by_step(index: int) -> None:
    grant = EVENT["grants"][index]
    epk = h(EVENT["ephemeral_public"])
    key = decryption_key(grant["org_id"])
    shared = nacl.bindings.crypto_scalarmult(key.private_key, epk)
    assert shared.hex() == grant["shared_secret"]
    assert derive_kek(shared, epk, key.recipient, CONTEXT).hex() == grant["kek"]
    gad = grant_ad(CONTEXT, grant["org_id"], grant["key_id"], grant["fields"])
    assert gad.hex() == grant["ad"]
    unwrapped = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        h(grant["wrapped_keys"]), gad, h(grant["nonce"]), h(grant["kek"])
    )
    assert unwrapped == data_keys(grant["fields"]) + gad


def test_event_vector_opens_from_the_wire_records() -> None:
    plaintexts = {field["field"]: field["plaintext"].encode() for field in EVENT["fields"]}
    wire = {field["field"]: field["wire"] for field in EVENT["fields"]}
    sealed = {name: SealedField.from_json(record) for name, record in wire.items()}
    envelope = {name: EVENT[name] for name in ("region", "case_id", "event_id", "event_type")}
    for grant_vector in EVENT["grants"]:
        key = decryption_key(grant_vector["org_id"])
        grant = Grant.from_json(grant_vector["wire"])
        expected = {name: plaintexts[name] for name in grant_vector["fields"]}
        assert open_grant(sealed, grant, CONTEXT, key) == expected
        assert client.open_fields(envelope, wire, [grant_vector["wire"]], [key]) == expected
        for name in grant.fields:
            assert open_field(sealed[name], grant, CONTEXT.field(name), key) == plaintexts[name]
            one = client.open_field(envelope, name, wire[name], grant_vector["wire"], key)
            assert one == plaintexts[name]
    escrow = Escrow.from_json(EVENT["escrow"]["wire"])
    case_key = h(EVENT["case_key"])
    assert open_escrow(sealed, escrow, CONTEXT, case_key) == plaintexts
    for name, value in plaintexts.items():
        assert open_field_from_escrow(sealed[name], escrow, CONTEXT.field(name), case_key) == value


def test_grants_follow_the_documented_recipients() -> None:
    granted = {grant["org_id"]: grant["fields"] for grant in EVENT["grants"]}
    assert granted == {"org-a": ["toelichting", "ernst"], "org-b": ["toelichting"]}


def test_signature_vector() -> None:
    vector = VECTORS["signature"]
    message = signing_input(vector["document"], vector["purpose"])
    assert message.hex() == vector["signing_input"]
    org = VECTORS["organisations"][vector["org_id"]]
    nacl.bindings.crypto_sign_open(h(vector["signature"]) + message, h(org["sign_public_key"]))
    keys = OrgPrivateKeys(
        vector["org_id"],
        datetime(2025, 1, 1, tzinfo=UTC),
        h(org["enc_private_key"]),
        h(org["sign_seed"]),
    )
    signature = Signature.from_json(vector["wire"])
    assert signature.signature.hex() == vector["signature"]
    verify(
        vector["document"],
        signature,
        [keys.public],
        purpose=vector["purpose"],
        at=datetime(2025, 6, 1, tzinfo=UTC),
    )
