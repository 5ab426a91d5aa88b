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
from sharing.policy import (
    CaseContext,
    ConflictVanPlichten,
    KaderInForce,
    Toestemming,
    catalogue_from_description,
    compile_policy,
    parse_policy,
)
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


CASE_ROLES = ["regie", "zorg"]
NOT_YET = "2027-01-01T00:00:00+00:00"


def parties(draw: st.DrawFn, held: list[str], *, required: bool) -> dict[str, Any] | None:
    chosen = {
        "roles": draw(st.lists(st.sampled_from(held), max_size=2, unique=True)),
        "organisations": draw(st.lists(st.sampled_from(ORGS), max_size=2, unique=True)),
        "case_roles": draw(st.lists(st.sampled_from(CASE_ROLES), max_size=2, unique=True)),
    }
    if required:  # every rule names at least one organisation outright, so none is refused
        chosen["organisations"] = sorted({*chosen["organisations"], draw(st.sampled_from(ORGS))})
    elif not any(chosen.values()):
        return None
    return chosen


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    roles = {
        org: draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True))
        for org in ORGS
    }
    roles["zvh"] = ["zvh"]
    held = sorted({role for org_roles in roles.values() for role in org_roles})
    rules = []
    for index in range(draw(st.integers(1, 6))):
        event_type = draw(st.sampled_from(sorted(PAYLOADS)))
        content = sorted(CATALOGUE[event_type].content_fields)
        own_only = event_type == "planwijziging" and draw(st.booleans())
        fields = ["acties"] if own_only else draw(st.lists(st.sampled_from(content), unique=True))
        rule: dict[str, Any] = {
            "id": f"r{index}",
            "description": "generated",
            "event_types": [event_type],
            "recipients": parties(draw, held, required=True),
            "fields": fields,
            "own_only": own_only,
            "providing": ["gg", "gezond", "straf"],
            "receiving": ["gg", "gezond", "straf"],
            "purpose": "p",
            "retention": {"years": 1, "from": "case_end"},
        }
        if (authors := parties(draw, held, required=False)) is not None:
            rule["authors"] = authors
        condition = draw(st.sampled_from([None, "toestemming", "conflict_van_plichten", "kader"]))
        if condition == "kader":
            rule["condition"] = {"kader": ["zorgmachtiging"]}
        elif condition is not None:
            rule["condition"] = condition
        if draw(st.booleans()):
            rule["valid_until"] = draw(st.sampled_from(["2026-01-01", "2027-01-01"]))
        rules.append(rule)
    return {
        "region": {"id": "rr", "name": "R"},
        "version": 1,
        "custodian": "zvh",
        "organisations": [{"id": o, "name": o, "roles": roles[o]} for o in ORGS],
        # Free text in the real catalogue is special data: every rule cites art. 9 and 10.
        "grounds": [
            {"id": "gg", "kind": "avg-6", "basis": "e", "title": "g", "reference": "AVG 6"},
            {"id": "gezond", "kind": "avg-9", "exception": "a", "title": "h", "reference": "9"},
            {
                "id": "straf",
                "kind": "avg-10",
                "uavg": "art. 32 lid 1",
                "title": "s",
                "reference": "10",
            },
        ],
        "case_roles": [
            {
                "id": role,
                "description": role,
                "held_by": draw(st.lists(st.sampled_from(held), min_size=1, unique=True)),
            }
            for role in CASE_ROLES
        ],
        "kaders": [{"id": "zorgmachtiging", "title": "z", "reference": "Wvggz"}],
        "rules": rules,
    }


@st.composite
def cases(draw: st.DrawFn) -> CaseContext:
    """A case: members, case roles (some held by organisations that may not hold them), and
    conditions, some expired."""
    members = draw(st.sets(st.sampled_from(ORGS), min_size=1))
    roles = {role: draw(st.sets(st.sampled_from(ORGS))) for role in CASE_ROLES}
    conditions: list[Any] = []
    for index in range(draw(st.integers(0, 4))):
        until = draw(st.sampled_from([None, NOW, datetime.fromisoformat(NOT_YET)]))
        kind = draw(st.sampled_from(["toestemming", "conflict", "kader"]))
        recipients = frozenset(draw(st.sets(st.sampled_from(ORGS))))
        record_id = f"c{index}"
        if kind == "toestemming":
            conditions.append(Toestemming(recipients=recipients, id=record_id, valid_until=until))
        elif kind == "conflict":
            author = draw(st.sampled_from(ORGS))
            conditions.append(
                ConflictVanPlichten(
                    author=author, recipients=recipients, id=record_id, valid_until=until
                )
            )
        else:
            conditions.append(KaderInForce(kader="zorgmachtiging", id=record_id, valid_until=until))
    return CaseContext.of(members, roles, conditions)


def holds(doc: dict[str, Any], org: str | None, case_roles: list[str], case: CaseContext) -> bool:
    if org is None or org not in case.members:
        return False
    roles = next(o["roles"] for o in doc["organisations"] if o["id"] == org)
    held_by = {r["id"]: r["held_by"] for r in doc["case_roles"]}
    return any(org in case.roles.get(r, ()) and set(roles) & set(held_by[r]) for r in case_roles)


def named(doc: dict[str, Any], org: str | None, who: dict[str, Any], case: CaseContext) -> bool:
    if org is None:
        return False
    roles = next(o["roles"] for o in doc["organisations"] if o["id"] == org)
    return (
        org in who["organisations"]
        or bool(set(roles) & set(who["roles"]))
        or holds(doc, org, who["case_roles"], case)
    )


def condition_holds(
    rule: dict[str, Any], org: str, author: str, case: CaseContext, excluded: str | None
) -> bool:
    condition = rule.get("condition")
    if condition is None:
        return True
    for record in case.conditions:
        live = record.valid_until is None or record.valid_until > NOW
        if not live or record.id == excluded:
            continue
        if condition == "toestemming" and isinstance(record, Toestemming):
            if org in record.recipients:
                return True
        elif condition == "conflict_van_plichten" and isinstance(record, ConflictVanPlichten):
            if record.author == author and org in record.recipients:
                return True
        elif isinstance(condition, dict) and isinstance(record, KaderInForce):
            return True
    return False


def oracle(
    doc: dict[str, Any],
    org: str,
    event_type: str,
    case: CaseContext,
    author: str,
    excluded: str | None = None,
) -> tuple[bool, dict[str, str]]:
    """Straight from the rules: does `org` receive the event, and which fields at which scope
    (`excluded`: as if that condition record were withdrawn)."""
    if org == author:
        return True, dict.fromkeys(CATALOGUE[event_type].content_fields, "all")
    if org not in case.members:
        return False, {}
    receives = False
    fields: dict[str, str] = {}
    for rule in doc["rules"]:
        in_force = rule.get("valid_until") is None or rule["valid_until"] >= NOW.date().isoformat()
        by_author = "authors" not in rule or named(doc, author, rule["authors"], case)
        if not (in_force and by_author and event_type in rule["event_types"]):
            continue
        if not named(doc, org, rule["recipients"], case):
            continue
        if not condition_holds(rule, org, author, case, excluded):
            continue
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


def sealer_for(doc: dict[str, Any]) -> Sealer:
    matrix = compile_policy(parse_policy(yaml.safe_dump(doc), CATALOGUE), CATALOGUE)
    return Sealer(
        region="rr",
        custodian="zvh",
        matrix=matrix,
        policy_version="1",
        keyring=KEYRING,
        master=MasterKey.generate(),
    )


def attest(event_type: str, payload: dict[str, Any], author: str) -> Attested:
    """The author signs as a partner (the custodian is signed for); the service checks the
    signed submission and derives its disclosures."""
    submission = Submission(event_type, payload, Author(author, "u"), NOW, "s-1")
    if author != "zvh":
        signed = sign_submission("rr", "c", submission, KEYS[author].signing_key, now=NOW)
        submission = replace(submission, **signed)
    provenance = Provenance(region="rr", custodian="zvh", keyring=KEYRING)
    parsed = parse_payload(event_type, payload, today=NOW.date())
    return provenance.attest(submission, parsed, author=author, case_id="c", now=RECORDED)


def seal(sealer: Sealer, attested: Attested, case: CaseContext, case_key: bytes) -> Sealed:
    return sealer.seal(
        case_id="c",
        version=2,
        event_id="e",
        event_type=attested.document["event_type"],
        author=attested.document["author"],
        network=case,
        plaintexts=attested.plaintexts,
        case_key=case_key,
        now=NOW,
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
