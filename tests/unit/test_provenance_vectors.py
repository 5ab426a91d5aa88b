"""docs/provenance.md's test vectors are what the code produces, and verify as the spec says.

The first test catches a document that has drifted from the code (regenerate with
``python -m sharing.vectors --update docs/provenance.md``). The others read the document
alone, as a partner implementing the spec would.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sharing import client
from sharing.canonical import canonical_json, length_prefixed
from sharing.disclosures import DECOY_BLOCK, digest, read_disclosure
from sharing.errors import ProvenanceInvalid
from sharing.keys import OrgPrivateKeys
from sharing.primitives import blake2b
from sharing.signing import Signature, verify
from sharing.vectors import extract, generate_provenance

DOC = Path(__file__).resolve().parents[2] / "docs" / "provenance.md"
VECTORS: Any = extract(DOC.read_text(encoding="utf-8"))
DELIVERED = VECTORS["delivered_event"]
DIRECTORY = VECTORS["key_directory"]


def directory() -> Any:
    return client.load_key_directory(
        DIRECTORY["published"], custodian_key_id=DIRECTORY["pinned_custodian_key_id"]
    )


def test_document_matches_the_generator() -> None:
    assert json.loads(json.dumps(generate_provenance())) == VECTORS


def test_blake2b_vectors() -> None:
    for case in VECTORS["blake2b"]:
        out = blake2b(
            case["message"].encode(), case["out"], case["personal"].encode(), case["key"].encode()
        )
        assert out.hex() == case["hex"]


@pytest.mark.parametrize("event_type", ["signalering", "planwijziging"])
def test_disclosure_vectors(event_type: str) -> None:
    vectors = VECTORS["disclosures"][event_type]
    for item in vectors["values"]:
        text = item["disclosure"]
        salt = json.loads(text)[0]
        assert text.encode() == canonical_json([salt, item["sealed_name"], item["value"]])
        assert read_disclosure(item["sealed_name"], text.encode()).salt.hex() == item["salt"]
        assert digest(text.encode()) == item["digest"]
        field, _, owner = item["sealed_name"].partition("/")
        listed = vectors["digests"][field]
        assert item["digest"] in listed if owner else item["digest"] == listed
    for field in vectors["owned_fields"]:
        listed = vectors["digests"][field]
        assert listed == sorted(listed) and len(listed) % DECOY_BLOCK == 0


@pytest.mark.parametrize("name", ["author_document", "stored_event"])
def test_signed_document_vectors(name: str) -> None:
    vector = VECTORS[name]
    document, purpose = vector["document"], vector["purpose"]
    expected = length_prefixed("sharing/1", "signature", purpose, canonical_json(document))
    assert expected.hex() == vector["signing_input"]
    signature = Signature.from_json(vector["wire"])
    verify(document, signature, directory().keys, purpose=purpose, at=directory().issued_at)


def test_key_directory_vector_verifies_only_against_the_pinned_key() -> None:
    assert directory().custodian == "zvh-test"
    other = VECTORS["organisations"]["org-a"]["sign_key_id"]
    with pytest.raises(ProvenanceInvalid, match="pinned"):
        client.load_key_directory(DIRECTORY["published"], custodian_key_id=other)
    changed = copy.deepcopy(DIRECTORY["published"])
    changed["document"]["keys"][0]["retired_at"] = "2026-01-01T00:00:00Z"
    with pytest.raises(ProvenanceInvalid, match="does not verify"):
        client.load_key_directory(changed, custodian_key_id=DIRECTORY["pinned_custodian_key_id"])
    with pytest.raises(ValueError, match="pin"):
        client.load_key_directory(DIRECTORY["published"])


def test_the_delivered_event_opens_and_verifies_as_documented() -> None:
    key = OrgPrivateKeys.from_json(DELIVERED["private_key"]).decryption_key
    event = DELIVERED["event"]
    assert client.open_event(event, [key], directory=directory()) == DELIVERED["opened"]
    opened = client.open_fields(event, event["sealed"], event["grants"], [key])
    altered = dict(opened)
    disclosure = read_disclosure("acties/org-b", opened["acties/org-b"])
    altered["acties/org-b"] = canonical_json(["A" * 22, "acties/org-b", disclosure.value])
    with pytest.raises(ProvenanceInvalid, match="acties/org-b does not match"):
        client.verify_event(event, directory(), altered)
    other_case = event | {"case_id": "case-0002"}
    with pytest.raises(ProvenanceInvalid, match="countersignature"):
        client.verify_event(other_case, directory(), opened)
