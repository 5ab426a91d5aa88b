"""The security property, end to end through real sealing: for random policies, networks
and events, an organisation obtains a key (and so a plaintext) for exactly the fields the
policy grants it — never more, never less. The oracle below reads the rules directly, not
through the engine it checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from casestore.domain.catalogue import describe, parse_payload
from casestore.keyring import Keyring
from casestore.sealing import PART, Sharing
from sharing.envelope import EventContext, Grant, SealedField, new_case_key, open_field
from sharing.errors import DecryptionFailed
from sharing.keys import MasterKey, OrgPrivateKeys
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
    receives, fields = False, {}
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
    sharing = Sharing(
        region="rr",
        custodian="zvh",
        matrix=matrix,
        policy_version="1",
        keyring=Keyring({o: [k.public] for o, k in KEYS.items()}, {"zvh": KEYS["zvh"]}),
        master=MasterKey.generate(),
        owned_fields={t: d["owned_fields"] for t, d in DESCRIPTION.items()},
    )
    content = parse_payload(event_type, PAYLOADS[event_type], today=NOW.date()).content_values()
    sealed = sharing.seal(
        case_id="c",
        version=2,
        event_id="e",
        event_type=event_type,
        author=author,
        network=network | {author},
        content=content,
        case_key=new_case_key(),
        now=NOW,
    )
    context = EventContext("rr", "c", "e", event_type)
    for org in ORGS:
        receives, fields = oracle(doc, org, event_type, network | {author}, author)
        grants = [
            Grant.from_json(json.loads(r.grant)) for r in sealed.rows.grants if r.org_id == org
        ]
        expected = set()
        for name in sealed.content:
            field, _, owner = name.partition(PART)
            if fields.get(field) == "all" or (fields.get(field) == "own" and owner == org):
                expected.add(name)
        assert {g.field for g in grants} == expected, (org, fields)
        assert (org in {a.org_id for a in sealed.rows.access}) == receives
        key = KEYS[org].decryption_key
        for grant in grants:
            value = open_field(
                SealedField.from_json(sealed.content[grant.field]),
                grant,
                context.field(grant.field),
                key,
            )
            field, _, owner = grant.field.partition(PART)
            expected_value = content[field]
            if owner:
                expected_value = [
                    [i, e] for i, e in enumerate(content[field]) if e["organisatie"] == owner
                ]
            assert json.loads(value) == expected_value
        for name in set(sealed.content) - expected:
            for grant in grants:  # no grant it holds opens a field it was not granted
                moved = Grant(
                    grant.org_id,
                    grant.key_id,
                    name,
                    grant.ephemeral_public,
                    grant.nonce,
                    grant.wrapped_key,
                )
                try:
                    open_field(
                        SealedField.from_json(sealed.content[name]), moved, context.field(name), key
                    )
                except DecryptionFailed:
                    continue
                raise AssertionError(f"{org} opened {name} without a grant")
