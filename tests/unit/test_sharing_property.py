"""The security properties, end to end through real sealing and signing: for random
policies, cases (case roles, conditions in and out of force) and events, an organisation
obtains a key (and so a plaintext) for exactly the fields the typed rules and conditions
grant it at that moment — never more, never less —, withdrawing a condition takes away
exactly what rested on it, and each recipient verifies who wrote and who stored exactly
what it opened, learning nothing of the rest. The oracle below reads the rules directly,
not through the engine it checks."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casestore.domain.catalogue import parse_payload
from casestore.services.disclosure import SharedEvent
from casestore.services.provenance import Attested, Provenance
from casestore.services.sealing import Sealed
from sharing import client
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
from sharing.keys import format_time
from sharing.owned import PART
from sharing.policy import (
    CaseContext,
)
from sharing.provenance import stored_document
from tests.strategies import (
    CATALOGUE,
    DIRECTORY,
    KEYRING,
    KEYS,
    NOW,
    ORGS,
    PAYLOADS,
    RECORDED,
    attest,
    cases,
    oracle,
    plans,
    policies,
    readable,
    seal,
    sealer_for,
)


@settings(max_examples=60, deadline=None)
@given(
    doc=policies(),
    event_type=st.sampled_from(sorted(PAYLOADS)),
    case=cases(),
    author=st.sampled_from(ORGS),
)
def test_an_organisation_opens_exactly_the_fields_the_policy_grants(
    doc: dict[str, Any], event_type: str, case: CaseContext, author: str
) -> None:
    case = CaseContext(case.members | {author}, case.roles, case.conditions)
    payload = PAYLOADS[event_type]
    content = parse_payload(event_type, payload, today=NOW.date()).content_values()
    case_key = new_case_key()
    sealed = seal(sealer_for(doc), attest(event_type, payload, author), case, case_key)
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
        receives, granted = oracle(doc, org, event_type, case, author)
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
    case=cases(),
    author=st.sampled_from(ORGS),
)
def test_every_recipient_verifies_exactly_what_it_opened_and_nothing_else_leaks(
    doc: dict[str, Any],
    event_type: str,
    plan: dict[str, Any],
    case: CaseContext,
    author: str,
) -> None:
    case = CaseContext(case.members | {author}, case.roles, case.conditions)
    payload = plan if event_type == "planwijziging" else PAYLOADS[event_type]
    attested = attest(event_type, payload, author)
    sealed = seal(sealer_for(doc), attested, case, new_case_key())
    content = parse_payload(event_type, payload, today=NOW.date()).content_values()
    owners = {a["organisatie"] for a in content.get("acties", [])}
    for listed in attested.document["digests"].values():
        if isinstance(listed, list):  # decoys hide how many owners there are
            assert len(listed) % DECOY_BLOCK == 0 and len(listed) >= DECOY_BLOCK
            assert listed == sorted(listed)
    for org in ORGS:
        receives, granted = oracle(doc, org, event_type, case, author)
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


@settings(max_examples=60, deadline=None)
@given(
    doc=policies(),
    event_type=st.sampled_from(sorted(PAYLOADS)),
    case=cases(),
    author=st.sampled_from(ORGS),
    data=st.data(),
)
def test_withdrawing_a_condition_takes_away_exactly_the_keys_that_rested_on_it(
    doc: dict[str, Any], event_type: str, case: CaseContext, author: str, data: st.DataObject
) -> None:
    if not case.conditions:
        return
    withdrawn = data.draw(st.sampled_from(case.conditions))
    sealer = sealer_for(doc)
    case = CaseContext(case.members | {author}, case.roles, case.conditions)
    attested = attest(event_type, PAYLOADS[event_type], author)

    def keys(context: CaseContext) -> dict[str, set[str]]:
        sealed = seal(sealer, attested, context, new_case_key())
        held: dict[str, set[str]] = {}
        for row in sealed.rows.grants:
            held.setdefault(row.org_id, set()).update(json.loads(row.grant)["fields"])
        return held

    before, after = keys(case), keys(case.without(withdrawn))
    for org in ORGS:
        _, granted = oracle(doc, org, event_type, case, author, excluded=withdrawn.id)
        expected = {name for name in before.get(org, set()) if readable(name, granted, org)}
        assert after.get(org, set()) == expected, org
        # What rested on the withdrawn record alone is what went; nothing came instead.
        assert after.get(org, set()) <= before.get(org, set())
