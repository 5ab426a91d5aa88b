"""The security properties, end to end through real sealing and signing: for random
policies, networks and events, an organisation obtains a key (and so a plaintext) for
exactly the fields the policy grants it — never more, never less — and verifies who wrote
and who stored exactly what it opened, learning nothing of the rest. The oracle below reads
the rules directly, not through the engine it checks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from casestore.adapters.keyring import Keyring
from casestore.domain.catalogue import describe, parse_payload
from casestore.services.case_store import Author, Submission
from casestore.services.disclosure import SharedEvent
from casestore.services.provenance import Attested, Provenance, sign_submission
from casestore.services.sealing import Sealed, Sealer
from sharing import client
from sharing.directory import directory_document, sign_directory
from sharing.disclosures import DECOY_BLOCK, read_disclosure
from sharing.envelope import (
    Escrow,
    EventContext,
    Grant,
    SealedField,
    new_case_key,
    open_escrow,
    open_field,
    open_grant,
)
from sharing.errors import DecryptionFailed, ProvenanceInvalid
from sharing.keys import MasterKey, OrgPrivateKeys, format_time
from sharing.owned import PART
from sharing.policy import catalogue_from_description, compile_policy, parse_policy
from sharing.provenance import stored_document

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RECORDED = datetime(2026, 6, 1, 12, 0, 1, 250000, tzinfo=UTC)
ORGS = ["zvh", "gem", "zorg-a", "zorg-b", "pol", "woon"]
ROLES = ["zvh", "gemeente", "ggz", "politie", "woningcorporatie"]
DESCRIPTION = describe()
CATALOGUE = catalogue_from_description(DESCRIPTION)
KEYS = {org: OrgPrivateKeys.generate(org, NOW) for org in ORGS}
KEYRING = Keyring({o: [k.public] for o, k in KEYS.items()}, {"zvh": KEYS["zvh"]})
DIRECTORY = client.load_key_directory(
    sign_directory(
        directory_document("rr", "zvh", NOW, KEYRING.records()), KEYS["zvh"].signing_key
    ),
    custodian_key_id=KEYS["zvh"].public.sign_key_id,
)
PAYLOADS: dict[str, dict[str, Any]] = {
    "signalering": {
        "categorie": "dreiging",
        "ernst": 2,
        "gevraagde_actie": "a",
        "toelichting": "t",
        "diagnose": "d",
        "medicatie": "m",
    },
    "planwijziging": {
        "planversie": 1,
        "doelen": [{"levensdomein": "wonen", "doel": "x"}],
        "acties": [
            {"organisatie": "woon", "actie": "w"},
            {"organisatie": "zorg-a", "actie": "z"},
            {"organisatie": "woon", "actie": "w2"},
        ],
        "casusregisseur_contact": "c",
    },
    "opschaling": {"niveau": 3, "reden": "r"},
}


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    roles = {
        org: draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True))
        for org in ORGS
    }
    roles["zvh"] = ["zvh"]
    rules = []
    for index in range(draw(st.integers(1, 6))):
        event_type = draw(st.sampled_from(sorted(PAYLOADS)))
        content = sorted(CATALOGUE[event_type].content_fields)
        own_only = event_type == "planwijziging" and draw(st.booleans())
        fields = ["acties"] if own_only else draw(st.lists(st.sampled_from(content), unique=True))
        recipients = {
            "roles": draw(st.lists(st.sampled_from(ROLES), max_size=2, unique=True)),
            "organisations": draw(st.lists(st.sampled_from(ORGS), max_size=2, unique=True)),
        }
        # Every rule names at least one organisation outright, so none is refused as empty.
        recipients["organisations"] = sorted(
            {*recipients["organisations"], draw(st.sampled_from(ORGS))}
        )
        rule: dict[str, Any] = {
            "id": f"r{index}",
            "description": "generated",
            "event_types": [event_type],
            "recipients": recipients,
            "fields": fields,
            "own_only": own_only,
            "grounds": ["gg", "gezond"],
            "purpose": "p",
            "retention": {"years": 1, "after": "uitstroom"},
        }
        if draw(st.booleans()):
            rule["valid_until"] = draw(st.sampled_from(["2026-01-01", "2027-01-01"]))
        rules.append(rule)
    return {
        "region": {"id": "rr", "name": "R"},
        "version": 1,
        "custodian": "zvh",
        "organisations": [{"id": o, "name": o, "roles": roles[o]} for o in ORGS],
        "grounds": [
            {"id": "gg", "title": "g", "reference": "AVG 6"},
            {"id": "gezond", "title": "h", "reference": "AVG 9", "special_category": True},
        ],
        "special_category_fields": {"signalering": ["diagnose", "medicatie"]},
        "rules": rules,
    }


def oracle(
    doc: dict[str, Any], org: str, event_type: str, network: set[str], author: str
) -> tuple[bool, dict[str, str]]:
    """Straight from the rules: does `org` receive the event, and which fields at which scope."""
    if org == author:
        return True, dict.fromkeys(CATALOGUE[event_type].content_fields, "all")
    if org not in network:
        return False, {}
    roles = next(o["roles"] for o in doc["organisations"] if o["id"] == org)
    receives = False
    fields: dict[str, str] = {}
    for rule in doc["rules"]:
        in_force = rule.get("valid_until") is None or rule["valid_until"] >= NOW.date().isoformat()
        named = org in rule["recipients"]["organisations"] or set(roles) & set(
            rule["recipients"]["roles"]
        )
        if in_force and named and event_type in rule["event_types"]:
            receives = True
            for field in rule["fields"]:
                scope = "own" if rule["own_only"] else "all"
                if fields.get(field) != "all":
                    fields[field] = scope
    return receives, fields


def readable(name: str, granted: dict[str, str], org: str) -> bool:
    """Whether a sealed field (or one owner's part of an owned field) is the oracle's to read."""
    field, _, owner = name.partition(PART)
    return granted.get(field) == "all" or (granted.get(field) == "own" and owner == org)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """A planwijziging whose actions belong to owners drawn at random."""
    owners = draw(st.lists(st.sampled_from(ORGS), min_size=1, max_size=8))
    return PAYLOADS["planwijziging"] | {
        "acties": [{"organisatie": o, "actie": f"actie {i}"} for i, o in enumerate(owners)]
    }


def seal_as_service(
    doc: dict[str, Any], event_type: str, payload: dict[str, Any], network: set[str], author: str
) -> tuple[Sealer, Attested, Sealed, bytes]:
    """The author signs as a partner (the custodian is signed for); the service checks the
    signed submission, seals its disclosures and keeps the case key it returns."""
    matrix = compile_policy(parse_policy(yaml.safe_dump(doc), CATALOGUE), CATALOGUE)
    sealer = Sealer(
        region="rr",
        custodian="zvh",
        matrix=matrix,
        policy_version="1",
        keyring=KEYRING,
        master=MasterKey.generate(),
    )
    submission = Submission(event_type, payload, Author(author, "u"), NOW, "s-1")
    if author != "zvh":
        signed = sign_submission("rr", "c", submission, KEYS[author].signing_key, now=NOW)
        submission = replace(submission, **signed)
    provenance = Provenance(region="rr", custodian="zvh", keyring=KEYRING)
    parsed = parse_payload(event_type, payload, today=NOW.date())
    attested = provenance.attest(submission, parsed, author=author, case_id="c", now=RECORDED)
    case_key = new_case_key()
    sealed = sealer.seal(
        case_id="c",
        version=2,
        event_id="e",
        event_type=event_type,
        author=author,
        network=network | {author},
        plaintexts=attested.plaintexts,
        case_key=case_key,
        now=NOW,
    )
    return sealer, attested, sealed, case_key


@settings(max_examples=60, deadline=None)
@given(
    doc=policies(),
    event_type=st.sampled_from(sorted(PAYLOADS)),
    network=st.sets(st.sampled_from(ORGS), min_size=1),
    author=st.sampled_from(ORGS),
)
def test_an_organisation_opens_exactly_the_fields_the_policy_grants(
    doc: dict[str, Any], event_type: str, network: set[str], author: str
) -> None:
    payload = PAYLOADS[event_type]
    _, _, sealed, case_key = seal_as_service(doc, event_type, payload, network, author)
    content = parse_payload(event_type, payload, today=NOW.date()).content_values()
    context = EventContext("rr", "c", "e", event_type)
    fields = {name: SealedField.from_json(record) for name, record in sealed.content.items()}
    order = list(sealed.content)
    all_grants = [json.loads(row.grant) for row in sealed.rows.grants]

    # One escrow for the event, holding every sealed field: the service can always regrant.
    assert sealed.escrow is not None
    escrow = Escrow.from_json(json.loads(sealed.escrow))
    assert escrow.fields == tuple(order)
    plaintexts = open_escrow(fields, escrow, context, case_key)
    assert set(plaintexts) == set(order)

    for org in ORGS:
        receives, granted = oracle(doc, org, event_type, network | {author}, author)
        expected = [name for name in order if readable(name, granted, org)]
        rows = [row for row in sealed.rows.grants if row.org_id == org]
        grants = [Grant.from_json(json.loads(row.grant)) for row in rows]
        # One grant per organisation key (each has one here), never one per field.
        assert len(grants) == (1 if expected else 0), (org, granted)
        assert all(g.org_id == org and g.key_id == KEYS[org].public.enc_key_id for g in grants)
        assert [f for g in grants for f in g.fields] == expected, (org, granted)
        assert (org in {a.org_id for a in sealed.rows.access}) == receives
        key = KEYS[org].decryption_key

        # Opened from the wire, as a partner does, among every organisation's grants.
        opened = client.open_fields(context, sealed.content, all_grants, [key])
        assert opened == {name: plaintexts[name] for name in expected}
        for name, value in opened.items():
            field, _, owner = name.partition(PART)
            expected_value = content[field]
            if owner:
                expected_value = [
                    [i, e] for i, e in enumerate(content[field]) if e["organisatie"] == owner
                ]
            assert read_disclosure(name, value).value == expected_value

        for name in set(order) - set(expected):
            for grant in grants:  # no grant it holds opens a field it was not granted,
                with pytest.raises(DecryptionFailed):
                    open_field(fields[name], grant, context.field(name), key)
                # ... even with the field's name added to or swapped into its list,
                for stretched in (
                    replace(grant, fields=(*grant.fields, name)),
                    replace(grant, fields=(name, *grant.fields[1:])),
                ):
                    with pytest.raises(DecryptionFailed):
                        open_grant(fields, stretched, context, key)
                    with pytest.raises(DecryptionFailed):
                        open_field(fields[name], stretched, context.field(name), key)
            # ... nor does another organisation's grant that holds it.
            for data in all_grants:
                other = Grant.from_json(data)
                if name in other.fields and other.org_id != org:
                    stolen = replace(other, org_id=org, key_id=key.key_id)
                    with pytest.raises(DecryptionFailed):
                        open_grant(fields, stolen, context, key)


def delivered(attested: Attested, sealed: Sealed, org: str, event_type: str) -> dict[str, Any]:
    """The event as `org` receives it, countersigned as the store countersigns it."""
    control = attested.document["control"]
    stored = stored_document(
        region="rr",
        case_id="c",
        version=2,
        event_id="e",
        event_type=event_type,
        author_user="u",
        recorded_at=format_time(RECORDED),
        control=control,
        author_document=attested.document,
        author_signature=attested.signature,
    )
    grants = [json.loads(row.grant) for row in sealed.rows.grants if row.org_id == org]
    granted = sorted({name for grant in grants for name in grant["fields"]})
    readable = {name.partition(PART)[0] for name in granted}
    return SharedEvent(
        region="rr",
        case_id=UUID(int=0),
        version=2,
        event_id="e",
        event_type=event_type,
        author_org=attested.document["author"],
        author_user="u",
        occurred_at=attested.occurred_at,
        recorded_at=RECORDED,
        control=control,
        sealed={name: sealed.content[name] for name in granted},
        grants=grants,
        withheld=[f for f in CATALOGUE[event_type].content_fields if f not in readable],
        submission_id=attested.submission_id,
        author_document=attested.document,
        signature=attested.signature,
        countersignature=Provenance(region="rr", custodian="zvh", keyring=KEYRING).countersign(
            stored
        ),
        position=7,
    ).to_json() | {"case_id": "c"}


def tampered(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every readable part of a delivered event changed, one at a time."""
    document = event["author_document"]
    changes: list[tuple[str, dict[str, Any]]] = [
        (name, event | {name: value})
        for name, value in {
            "region": "rr2",
            "case_id": "c2",
            "version": 3,
            "event_id": "e2",
            "author_org": "gem" if event["author_org"] != "gem" else "pol",
            "author_user": "v",
            "occurred_at": "2026-05-01T00:00:00Z",
            "recorded_at": "2026-06-01T12:00:02.250000Z",
            "submission_id": "s-2",
        }.items()
    ]
    for name in event["control"]:
        changes.append((f"control.{name}", event | {"control": {**event["control"], name: "x"}}))
    changes.append(("control added", event | {"control": {**event["control"], "extra": 1}}))
    for member in ("region", "case_id", "submission_id", "occurred_at", "author"):
        changes.append(
            (f"author_document.{member}", event | {"author_document": document | {member: "x"}})
        )
    for field, listed in document["digests"].items():
        if isinstance(listed, list):
            altered = [*listed[:-1], listed[0]]  # one decoy replaced
            dropped = listed[1:]
        else:
            altered = listed[::-1]
            dropped = None
        digests = document["digests"]
        changes.append(
            (
                f"digest {field}",
                event | {"author_document": document | {"digests": digests | {field: altered}}},
            )
        )
        changes.append(
            (
                f"digest {field} dropped",
                event
                | {
                    "author_document": document
                    | {"digests": {k: v for k, v in digests.items() if k != field}}
                },
            )
        )
        if dropped is not None:
            changes.append(
                (
                    f"decoy list {field}",
                    event | {"author_document": document | {"digests": digests | {field: dropped}}},
                )
            )
    for name in ("signature", "countersignature"):
        signature = event[name]
        flipped = signature | {"signature": signature["signature"][::-1]}
        changes.append((name, event | {name: flipped}))
        changes.append((f"{name} missing", event | {name: None}))
    if event["withheld"]:
        changes.append(("withheld", event | {"withheld": event["withheld"][1:]}))
    return changes


def altered_plaintexts(opened: dict[str, bytes]) -> list[tuple[str, dict[str, bytes]]]:
    """What a service that re-sealed a recipient's fields could hand it instead."""
    changes = []
    for name, plaintext in opened.items():
        disclosure = read_disclosure(name, plaintext)
        for what, altered in {
            "value": replace(disclosure, value=["anders"]),
            "salt": replace(disclosure, salt=bytes(16)),
        }.items():
            changes.append((f"{name} {what}", opened | {name: altered.encode()}))
        for other, other_plaintext in opened.items():
            if other != name:
                moved = replace(read_disclosure(other, other_plaintext), name=name)
                changes.append((f"{other} as {name}", opened | {name: moved.encode()}))
    return changes


@settings(max_examples=40, deadline=None)
@given(
    doc=policies(),
    event_type=st.sampled_from(sorted(PAYLOADS)),
    plan=plans(),
    network=st.sets(st.sampled_from(ORGS), min_size=1),
    author=st.sampled_from(ORGS),
)
def test_every_recipient_verifies_exactly_what_it_opened_and_nothing_else_leaks(
    doc: dict[str, Any],
    event_type: str,
    plan: dict[str, Any],
    network: set[str],
    author: str,
) -> None:
    payload = plan if event_type == "planwijziging" else PAYLOADS[event_type]
    _, attested, sealed, _ = seal_as_service(doc, event_type, payload, network, author)
    content = parse_payload(event_type, payload, today=NOW.date()).content_values()
    owners = {a["organisatie"] for a in content.get("acties", [])}
    for listed in attested.document["digests"].values():
        if isinstance(listed, list):  # decoys hide how many owners there are
            assert len(listed) % DECOY_BLOCK == 0 and len(listed) >= DECOY_BLOCK
            assert listed == sorted(listed)
    for org in ORGS:
        receives, granted = oracle(doc, org, event_type, network | {author}, author)
        if not receives:
            continue
        event = json.loads(json.dumps(delivered(attested, sealed, org, event_type)))
        key = KEYS[org].decryption_key
        opened = client.open_fields(event, event["sealed"], event["grants"], [key])
        values = client.verify_event(event, DIRECTORY, opened)
        assert set(values) == set(opened)
        verified = client.open_event(event, [key], directory=DIRECTORY)
        assert verified == client.open_event(event, [key], verify=False)
        for name, value in values.items():
            field, _, owner = name.partition(PART)
            assert value == (
                [[i, e] for i, e in enumerate(content[field]) if e["organisatie"] == owner]
                if owner
                else content[field]
            )
        # What it does not own, it cannot name: no other owner's part, by name or owner.
        text = json.dumps(event)
        for other in owners - {org, author, "zvh"}:
            if not readable(f"acties{PART}{other}", granted, org):
                assert f"{PART}{other}" not in text and f'"{other}"' not in text, (org, other)
        for what, changed in tampered(event):
            with pytest.raises(ProvenanceInvalid):
                client.verify_event(changed, DIRECTORY, opened)
            assert what
        for what, changed_plaintexts in altered_plaintexts(opened):
            with pytest.raises(ProvenanceInvalid):
                client.verify_event(event, DIRECTORY, changed_plaintexts)
            assert what
