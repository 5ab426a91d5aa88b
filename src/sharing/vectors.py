"""Test vectors for docs/envelope.md, regenerated with ``python -m sharing.vectors``.

Every "random" input is derived from a label, so the vectors are reproducible, and each one is
written out explicitly, so another implementation needs only the document, not this code.
``python -m sharing.vectors --update docs/envelope.md`` rewrites the vector block in place;
tests/unit/test_envelope_vectors.py fails when the document and the code disagree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import nacl.bindings

from sharing.canonical import canonical_json, length_prefixed
from sharing.envelope import (
    EventContext,
    case_key_ad,
    commitment,
    content_ad,
    derive_kek,
    escrow_ad,
    grant_ad,
    seal_event,
    wrap_case_key,
)
from sharing.keys import MasterKey, OrgPrivateKeys
from sharing.signing import sign, signing_input

__all__ = ["BEGIN", "END", "extract", "generate", "main", "render", "update"]

BEGIN = "<!-- vectors:begin -->"
END = "<!-- vectors:end -->"

_VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)
_EVENT = EventContext("regio-test", "case-0001", "evt-0001", "signalering")
_FIELDS = {
    "toelichting": "Zorgen over terugval; huisbezoek gepland.",
    "ernst": "hoog",
}
_GRANTED = {"toelichting": ["org-a", "org-b"], "ernst": ["org-a"]}
_CANONICAL_INPUTS = [
    '{"b": [1.0, true, null, -0.0], "a": "\\u00e9\\n\\"", "A": {"z": 1, "y": []}}',
    '{"\\u00e9": 1, "e": 2, "\\ud83d\\ude00": 3, "\\uffff": 4}',
]


def _bytes(label: str, size: int) -> bytes:
    """Deterministic stand-in for randomness, named so the document can say what it is."""
    return bytes(
        nacl.bindings.crypto_generichash_blake2b_salt_personal(
            label.encode(), digest_size=size, person=b"sharing/vectors"
        )
    )


class _Tape:
    """A randomness source that plays back given bytes and checks all were used."""

    def __init__(self, *chunks: bytes) -> None:
        self._data = b"".join(chunks)

    def __call__(self, size: int) -> bytes:
        if size > len(self._data):
            raise ValueError("tape too short")
        out, self._data = self._data[:size], self._data[size:]
        return out

    def done(self) -> None:
        if self._data:
            raise ValueError("tape not fully used")


def generate() -> dict[str, object]:
    orgs = {
        org: OrgPrivateKeys(org, _VALID_FROM, _bytes(f"{org}/enc", 32), _bytes(f"{org}/sign", 32))
        for org in ("org-a", "org-b")
    }
    return {
        "format": "sharing/1",
        "length_prefixed": [
            {"parts": parts, "hex": length_prefixed(*parts).hex()}
            for parts in (["ab", "c"], ["a", "bc"], ["", "é"])
        ],
        "canonical_json": [
            {"input": text, "canonical": canonical_json(json.loads(text)).decode("utf-8")}
            for text in _CANONICAL_INPUTS
        ],
        "organisations": {org: _org_vector(keys) for org, keys in orgs.items()},
        "case_key": _case_key_vector(),
        "event": _event_vector(orgs),
        "signature": _signature_vector(orgs["org-a"]),
    }


def _org_vector(keys: OrgPrivateKeys) -> dict[str, str]:
    public = keys.public
    return {
        "enc_private_key": keys.enc_private_key.hex(),
        "enc_public_key": public.enc_public_key.hex(),
        "enc_key_id": public.enc_key_id,
        "sign_seed": keys.sign_seed.hex(),
        "sign_public_key": public.sign_public_key.hex(),
        "sign_key_id": public.sign_key_id,
    }


def _case_key_vector() -> dict[str, str]:
    master = MasterKey(_bytes("master", 32))
    case_key, nonce = _bytes("case-key", 32), _bytes("case-key/nonce", 24)
    region, case_id = _EVENT.region, _EVENT.case_id
    wrapped = wrap_case_key(master, region, case_id, case_key, rng=_Tape(nonce))
    return {
        "master_key": master.reveal().hex(),
        "region": region,
        "case_id": case_id,
        "case_key": case_key.hex(),
        "nonce": nonce.hex(),
        "ad": case_key_ad(region, case_id).hex(),
        "wrapped": wrapped.hex(),
    }


def _event_vector(orgs: dict[str, OrgPrivateKeys]) -> dict[str, object]:
    case_key = _bytes("case-key", 32)
    ephemeral_secret = _bytes("event/ephemeral", 32)
    chunks = [ephemeral_secret]
    for name in _FIELDS:
        chunks += [_bytes(f"{name}/data-key", 32), _bytes(f"{name}/nonce", 24)]
    chunks.append(_bytes("escrow/nonce", 24))
    grantees = list(dict.fromkeys(org for orgs_ in _GRANTED.values() for org in orgs_))
    chunks += [_bytes(f"grant-nonce/{org}", 24) for org in grantees]
    tape = _Tape(*chunks)
    recipients = {org: keys.decryption_key.recipient for org, keys in orgs.items()}
    sealed = seal_event(
        _EVENT,
        {name: text.encode() for name, text in _FIELDS.items()},
        {name: [recipients[org] for org in orgs_] for name, orgs_ in _GRANTED.items()},
        case_key,
        rng=tape,
    )
    tape.done()
    ephemeral_public = nacl.bindings.crypto_scalarmult_base(ephemeral_secret)

    fields = []
    for name, text in _FIELDS.items():
        ctx = _EVENT.field(name)
        data_key = _bytes(f"{name}/data-key", 32)
        item = sealed.fields[name]
        fields.append(
            {
                "field": name,
                "plaintext": text,
                "data_key": data_key.hex(),
                "nonce": item.nonce.hex(),
                "ad": content_ad(ctx).hex(),
                "commitment": commitment(data_key, ctx).hex(),
                "ciphertext": item.ciphertext.hex(),
                "wire": item.to_json(),
            }
        )
    escrow = sealed.escrow
    assert escrow is not None  # noqa: S101 - the event has fields
    grants = []
    for grant in sealed.grants:
        recipient = recipients[grant.org_id]
        shared = nacl.bindings.crypto_scalarmult(ephemeral_secret, recipient.public_key)
        grants.append(
            {
                "org_id": grant.org_id,
                "key_id": grant.key_id,
                "fields": list(grant.fields),
                "nonce": grant.nonce.hex(),
                "shared_secret": shared.hex(),
                "kek": derive_kek(shared, ephemeral_public, recipient, _EVENT).hex(),
                "ad": grant_ad(_EVENT, grant.org_id, grant.key_id, grant.fields).hex(),
                "wrapped_keys": grant.wrapped_keys.hex(),
                "wire": grant.to_json(),
            }
        )
    return {
        "region": _EVENT.region,
        "case_id": _EVENT.case_id,
        "event_id": _EVENT.event_id,
        "event_type": _EVENT.event_type,
        "case_key": case_key.hex(),
        "ephemeral_secret": ephemeral_secret.hex(),
        "ephemeral_public": ephemeral_public.hex(),
        "fields": fields,
        "escrow": {
            "fields": list(escrow.fields),
            "nonce": escrow.nonce.hex(),
            "ad": escrow_ad(_EVENT, escrow.fields).hex(),
            "wrapped_keys": escrow.wrapped_keys.hex(),
            "wire": escrow.to_json(),
        },
        "grants": grants,
    }


def _signature_vector(keys: OrgPrivateKeys) -> dict[str, object]:
    document = {
        "event_id": _EVENT.event_id,
        "event_type": _EVENT.event_type,
        "author": keys.org_id,
        "level": 3,
        "occurred_at": "2025-01-02T09:30:00Z",
    }
    purpose = "event"
    signature = sign(document, keys.signing_key, purpose=purpose)
    return {
        "org_id": keys.org_id,
        "purpose": purpose,
        "document": document,
        "signing_input": signing_input(document, purpose).hex(),
        "signature": signature.signature.hex(),
        "wire": signature.to_json(),
    }


def render() -> str:
    return json.dumps(generate(), indent=2, ensure_ascii=True)


def extract(markdown: str) -> object:
    """The vectors embedded in a document, between the markers, in a ```json fence."""
    match = re.search(
        re.escape(BEGIN) + r"\s*```json\n(.*?)\n```\s*" + re.escape(END), markdown, re.S
    )
    if match is None:
        raise ValueError("no vector block in the document")
    return json.loads(match.group(1))


def update(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n```json\n{render()}\n```\n{END}"
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + block + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sharing.vectors", description=__doc__)
    parser.add_argument("--update", type=Path, metavar="MARKDOWN", help="rewrite the block")
    args = parser.parse_args(argv)
    if args.update is None:
        sys.stdout.write(render() + "\n")
    else:
        update(args.update)


if __name__ == "__main__":
    main()
