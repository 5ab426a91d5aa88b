"""A small random sharing world for the security properties: organisations with real keys,
random typed policies and cases, and an oracle that reads the rules directly rather than through
the engine the properties check. Shared by every property that seals and opens events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import strategies as st

from casestore.adapters.keyring import Keyring
from casestore.domain.catalogue import describe, parse_payload
from casestore.services.case_store import Author, Submission
from casestore.services.provenance import Attested, Provenance, sign_submission
from casestore.services.sealing import Sealed, Sealer
from sharing import client
from sharing.directory import directory_document, sign_directory
from sharing.keys import MasterKey, OrgPrivateKeys
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
