"""Test vectors for docs/envelope.md and docs/provenance.md, printed with
``python -m sharing.vectors [envelope|provenance]``.

Every "random" input is derived from a label, so the vectors are reproducible, and each one is
written out explicitly, so another implementation needs only the document, not this code.
``python -m sharing.vectors --update docs/envelope.md docs/provenance.md`` rewrites the
vector blocks in place; tests/unit/test_envelope_vectors.py and
tests/unit/test_provenance_vectors.py fail when a document and the code disagree, and
clients/js checks the same blocks with libsodium.js.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.bindings

from sharing.canonical import canonical_json, length_prefixed
from sharing.directory import directory_document, sign_directory
from sharing.disclosures import Disclosure, digest, digests_of
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
from sharing.keys import MasterKey, OrgPrivateKeys, parse_time
from sharing.owned import parts, reassemble
from sharing.primitives import blake2b
from sharing.provenance import AUTHOR_DOCUMENT, STORED_EVENT, author_document, stored_document
from sharing.signing import sign, signing_input

__all__ = [
    "BEGIN",
    "END",
    "GENERATORS",
    "extract",
    "generate",
    "generate_provenance",
    "main",
    "render",
    "update",
]

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


# --- provenance (docs/provenance.md) --------------------------------------------------------

_AUTHOR, _RECIPIENT, _CUSTODIAN = "org-a", "org-b", "zvh-test"
_PLAN_EVENT = EventContext("regio-test", "case-0001", "evt-0006", "planwijziging")
_SIGNALERING: dict[str, Any] = {
    "categorie": "terugval",
    "ernst": 3,
    "gevraagde_actie": "Extra huisbezoek binnen 48 uur.",
    "toelichting": 'Zorgen over terugval; "huisbezoek" gepland.\nBuren ongerust.',
    "diagnose": None,
    "medicatie": None,
}
_PLAN: dict[str, Any] = {
    "doelen": [{"levensdomein": "wonen", "doel": "Huur op tijd betaald, één jaar lang."}],
    "acties": [
        {"organisatie": "org-a", "actie": "Budgetcoach twee keer per maand.", "termijn": None},
        {"organisatie": "org-b", "actie": "Huisbezoek elk kwartaal.", "termijn": "2026-06-30"},
        {"organisatie": "org-a", "actie": "Depot elke vier weken.", "termijn": None},
    ],
    "casusregisseur_contact": "S. Bakker, 020-5550199",
    "toelichting": None,
}
_OWNED = {"acties": "organisatie"}
_PLAN_GRANTS = {
    "org-a": ["doelen", "acties/org-a", "acties/org-b", "casusregisseur_contact", "toelichting"],
    "org-b": ["acties/org-b", "casusregisseur_contact"],
}
_BLAKE2B_CASES = [
    ("", 32, "", "sharing/1/sd"),
    ("abc", 16, "", "sharing/1/kid"),
    ("casestore " * 30, 32, "key:" + "k" * 28, "sharing/1/kek"),
    ("x" * 128, 64, "", "sharing/1/commit"),
]


def generate_provenance() -> dict[str, object]:
    orgs = {
        org: OrgPrivateKeys(org, _VALID_FROM, _bytes(f"{org}/enc", 32), _bytes(f"{org}/sign", 32))
        for org in (_AUTHOR, _RECIPIENT, _CUSTODIAN)
    }
    signalering = _disclosures("signalering", _SIGNALERING, {})
    plan_values = {"doelen": _PLAN["doelen"], **parts("acties", _PLAN["acties"], "organisatie")}
    plan_values |= {k: _PLAN[k] for k in ("casusregisseur_contact", "toelichting")}
    plan = _disclosures("planwijziging", plan_values, _OWNED)
    document = author_document(
        region=_PLAN_EVENT.region,
        case_id=_PLAN_EVENT.case_id,
        author=_AUTHOR,
        event_type=_PLAN_EVENT.event_type,
        submission_id="sub-0006",
        occurred_at="2026-03-02T08:15:00Z",
        control={"planversie": 2},
        digests=plan["digests"],
    )
    author_signature = sign(document, orgs[_AUTHOR].signing_key, purpose=AUTHOR_DOCUMENT)
    stored = stored_document(
        region=_PLAN_EVENT.region,
        case_id=_PLAN_EVENT.case_id,
        version=6,
        event_id=_PLAN_EVENT.event_id,
        event_type=_PLAN_EVENT.event_type,
        author_user="client:c0ffee",
        recorded_at="2026-03-02T09:00:00.250000Z",
        control={"planversie": 2},
        author_document=document,
        author_signature=author_signature.to_json(),
    )
    countersignature = sign(stored, orgs[_CUSTODIAN].signing_key, purpose=STORED_EVENT)
    directory = sign_directory(
        directory_document(
            _PLAN_EVENT.region,
            _CUSTODIAN,
            parse_time("2026-03-02T09:00:00Z"),
            [keys.public for keys in orgs.values()],
        ),
        orgs[_CUSTODIAN].signing_key,
    )
    return {
        "format": "casestore provenance, documents v2",
        "organisations": {org: _org_vector(keys) for org, keys in orgs.items()},
        "blake2b": [
            {
                "message": message,
                "out": out,
                "key": key,
                "personal": personal,
                "hex": blake2b(message.encode(), out, personal.encode(), key.encode()).hex(),
            }
            for message, out, key, personal in _BLAKE2B_CASES
        ],
        "disclosures": {"signalering": signalering, "planwijziging": plan},
        "author_document": _signed(document, AUTHOR_DOCUMENT, author_signature.to_json()),
        "stored_event": _signed(stored, STORED_EVENT, countersignature.to_json()),
        "key_directory": {
            "published": directory,
            "pinned_custodian_key_id": orgs[_CUSTODIAN].public.sign_key_id,
        },
        "delivered_event": _delivered(orgs, plan, stored, countersignature.to_json()),
    }


def _disclosures(event_type: str, values: dict[str, Any], owned: dict[str, str]) -> dict[str, Any]:
    disclosures = {
        name: Disclosure(_bytes(f"{event_type}/{name}/salt", 16), name, value)
        for name, value in values.items()
    }
    encoded = {name: d.encode() for name, d in disclosures.items()}
    decoys = [_bytes(f"{event_type}/decoy/{i}", 32) for i in range(32)]
    tape = _Tape(*decoys[: 16 * len(owned) - sum("/" in name for name in values)])
    digests = digests_of(encoded, owned, tape)
    tape.done()
    return {
        "values": [
            {
                "sealed_name": name,
                "salt": d.salt.hex(),
                "value": d.value,
                "disclosure": encoded[name].decode("utf-8"),
                "digest": digest(encoded[name]),
            }
            for name, d in disclosures.items()
        ],
        "owned_fields": owned,
        "digests": digests,
    }


def _signed(document: dict[str, object], purpose: str, signature: object) -> dict[str, object]:
    return {
        "purpose": purpose,
        "document": document,
        "signing_input": signing_input(document, purpose).hex(),
        "wire": signature,
    }


def _delivered(
    orgs: dict[str, OrgPrivateKeys],
    plan: dict[str, Any],
    stored: dict[str, Any],
    countersignature: object,
) -> dict[str, object]:
    plaintexts = {
        item["sealed_name"]: item["disclosure"].encode("utf-8") for item in plan["values"]
    }
    recipients = {org: keys.decryption_key.recipient for org, keys in orgs.items()}
    granted = {
        name: [recipients[org] for org, names in _PLAN_GRANTS.items() if name in names]
        for name in plaintexts
    }
    chunks = [_bytes("plan/ephemeral", 32)]
    for name in plaintexts:
        chunks += [_bytes(f"plan/{name}/data-key", 32), _bytes(f"plan/{name}/nonce", 24)]
    chunks.append(_bytes("plan/escrow/nonce", 24))
    chunks += [_bytes(f"plan/grant-nonce/{org}", 24) for org in _PLAN_GRANTS]
    tape = _Tape(*chunks)
    sealed = seal_event(_PLAN_EVENT, plaintexts, granted, _bytes("case-key", 32), rng=tape)
    tape.done()
    names = _PLAN_GRANTS[_RECIPIENT]
    event = {
        "region": _PLAN_EVENT.region,
        "case_id": _PLAN_EVENT.case_id,
        "event_id": _PLAN_EVENT.event_id,
        "event_type": _PLAN_EVENT.event_type,
        "version": stored["version"],
        "position": 42,
        "author_org": _AUTHOR,
        "author_user": stored["author_user"],
        "occurred_at": "2026-03-02T08:15:00Z",
        "recorded_at": stored["recorded_at"],
        "control": stored["control"],
        "sealed": {name: sealed.fields[name].to_json() for name in sorted(names)},
        "grants": [g.to_json() for g in sealed.grants if g.org_id == _RECIPIENT],
        "withheld": ["doelen", "toelichting"],
        "submission_id": "sub-0006",
        "author_document": stored["author_document"],
        "signature": stored["author_signature"],
        "countersignature": countersignature,
        "payload": None,
    }
    values = {
        item["sealed_name"]: item["value"]
        for item in plan["values"]
        if item["sealed_name"] in names
    }
    return {
        "recipient": _RECIPIENT,
        "private_key": orgs[_RECIPIENT].to_json(),
        "event": event,
        "opened": reassemble(values),
    }


GENERATORS = {"envelope": generate, "provenance": generate_provenance}


def render(which: str = "envelope") -> str:
    return json.dumps(GENERATORS[which](), indent=2, ensure_ascii=True)


def extract(markdown: str) -> object:
    """The vectors embedded in a document, between the markers, in a ```json fence."""
    match = re.search(
        re.escape(BEGIN) + r"\s*```json\n(.*?)\n```\s*" + re.escape(END), markdown, re.S
    )
    if match is None:
        raise ValueError("no vector block in the document")
    return json.loads(match.group(1))


def update(path: Path) -> None:
    """Rewrite the vector block of docs/envelope.md or docs/provenance.md (by file name)."""
    text = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n```json\n{render(path.stem)}\n```\n{END}"
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + block + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sharing.vectors", description=__doc__)
    parser.add_argument("which", nargs="?", default="envelope", choices=sorted(GENERATORS))
    parser.add_argument(
        "--update", type=Path, nargs="+", metavar="MARKDOWN", help="rewrite their blocks"
    )
    args = parser.parse_args(argv)
    if args.update is None:
        sys.stdout.write(render(args.which) + "\n")
    else:
        for path in args.update:
            update(path)


if __name__ == "__main__":
    main()
