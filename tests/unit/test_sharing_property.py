"""The security property, end to end through real sealing: for random policies, networks
and events, an organisation obtains a key (and so a plaintext) for exactly the fields the
policy grants it — never more, never less. The oracle below reads the rules directly, not
through the engine it checks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from casestore.adapters.keyring import Keyring
from casestore.domain.catalogue import describe, parse_payload
from casestore.services.sealing import Sealer
from sharing import client
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
from sharing.errors import DecryptionFailed
from sharing.keys import MasterKey, OrgPrivateKeys
from sharing.owned import PART
from sharing.policy import catalogue_from_description, compile_policy, parse_policy

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ORGS = ["zvh", "gem", "zorg-a", "zorg-b", "pol", "woon"]
ROLES = ["zvh", "gemeente", "ggz", "politie", "woningcorporatie"]
DESCRIPTION = describe()
CATALOGUE = catalogue_from_description(DESCRIPTION)
KEYS = {org: OrgPrivateKeys.generate(org, NOW) for org in ORGS}
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
    matrix = compile_policy(parse_policy(yaml.safe_dump(doc), CATALOGUE), CATALOGUE)
    sealer = Sealer(
        region="rr",
        custodian="zvh",
        matrix=matrix,
        policy_version="1",
        keyring=Keyring({o: [k.public] for o, k in KEYS.items()}, {"zvh": KEYS["zvh"]}),
        master=MasterKey.generate(),
        owned_fields={t: d["owned_fields"] for t, d in DESCRIPTION.items()},
    )
    content = parse_payload(event_type, PAYLOADS[event_type], today=NOW.date()).content_values()
    case_key = new_case_key()
    sealed = sealer.seal(
        case_id="c",
        version=2,
        event_id="e",
        event_type=event_type,
        author=author,
        network=network | {author},
        content=content,
        case_key=case_key,
        now=NOW,
    )
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
            assert json.loads(value) == expected_value

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
