"""The condition records of a case, as the case record keeps them, through real sealing:
for random policies, networks and toestemming / conflict van plichten records (scoped to
recipients, event types, named events; expiring, withdrawn), an organisation obtains a key
for exactly the fields the typed rules grant it with the records in force at that moment,
and withdrawing a toestemming takes away exactly the keys that rested on it.

The oracle reads the records as the partner recorded them (who recorded, whom they name,
when they began and ended), not through the case context it checks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from casestore.domain.case import Case
from casestore.domain.catalogue import parse_payload
from casestore.domain.header import EventHeader
from casestore.services.sealing import case_context
from sharing.envelope import new_case_key
from sharing.keys import format_time
from tests.strategies import (
    CATALOGUE,
    NOW,
    ORGS,
    PAYLOADS,
    attest,
    policies,
    readable,
    seal,
    sealer_for,
)

OPENED = NOW - timedelta(days=30)
EVENT_ID = "e"  # the id the sealed event carries (see `seal`)
TIMES = [NOW - timedelta(days=10), NOW - timedelta(seconds=1), NOW, NOW + timedelta(days=1)]


@st.composite
def conditional_policies(draw: st.DrawFn) -> dict[str, Any]:
    """Random policies whose rules mostly rest on a toestemming or conflict van plichten,
    all in force: the flows these records open or close."""
    doc = draw(policies())
    for rule in doc["rules"]:
        rule.pop("valid_until", None)
        rule["condition"] = draw(st.sampled_from(["toestemming", "conflict_van_plichten", None]))
        if rule["condition"] is None:
            del rule["condition"]
    return doc


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Condition events as partners submit them, in order, each with when it was recorded."""
    drawn: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["toestemming", "conflict_van_plichten", "ingetrokken"]))
        recorded = draw(st.sampled_from(TIMES[:3]))
        author = draw(st.sampled_from(ORGS))
        if kind == "ingetrokken":
            withdrawn = {
                r["payload"]["toestemming"] for r in drawn if r["type"] == "toestemming_ingetrokken"
            }
            given = [r for r in drawn if r["type"] == "toestemming" and r["id"] not in withdrawn]
            if not given:
                continue
            target = draw(st.sampled_from(given))
            drawn.append(
                {
                    "type": "toestemming_ingetrokken",
                    "id": f"r{index}",
                    "author": author,
                    "at": max(recorded, target["at"]),
                    "payload": {"toestemming": target["id"], "ingetrokken_op": "2026-05-01"},
                }
            )
            continue
        payload: dict[str, Any] = {
            "ontvangers": draw(st.lists(st.sampled_from(ORGS), min_size=2, unique=True)),
        }
        if draw(st.booleans()):
            payload["gebeurtenistypen"] = draw(
                st.lists(st.sampled_from(sorted(PAYLOADS)), min_size=1, unique=True)
            )
        if draw(st.booleans()):
            payload["geldig_tot"] = format_time(draw(st.sampled_from(TIMES)))
        if kind == "toestemming":
            payload |= {"gegeven_door": "betrokkene", "gegeven_op": "2026-05-01", "motivering": "m"}
        else:
            payload["afweging"] = "a"
            if draw(st.booleans()):
                payload["gebeurtenissen"] = [draw(st.sampled_from([EVENT_ID, "other"]))]
        record = {"type": kind, "id": f"r{index}", "author": author, "at": recorded}
        drawn.append(record | {"payload": payload})
    return sorted(drawn, key=lambda r: r["at"])


def case_with(members: set[str], drawn: list[dict[str, Any]]) -> Case:
    opening = parse_payload(
        "aanmelding",
        {
            "bsn": "111222333",
            "naam": "J",
            "geboortedatum": "1984-06-12",
            "aanmeldreden": "r",
            "risico_indicatie": "h",
            "contactpersoon_aanmelder": "c",
        },
        today=NOW.date(),
    )
    case = Case.open(
        case_id=UUID(int=1),
        person_id=UUID(int=2),
        network=sorted(members),
        header=EventHeader("open", sorted(members)[0], "u", OPENED, OPENED, "d"),
        control=opening.control_values(),
        content={},
    )
    for r in drawn:
        payload = parse_payload(r["type"], r["payload"], today=NOW.date())
        header = EventHeader(r["id"], r["author"], "u", r["at"], r["at"], "d")
        case.record(r["type"], header=header, control=payload.control_values(), content={})
    return case


def in_force(record: dict[str, Any], drawn: list[dict[str, Any]]) -> bool:
    """Recorded, not expired, not withdrawn: at NOW."""
    ends = [
        w["at"]
        for w in drawn
        if w["type"] == "toestemming_ingetrokken" and w["payload"]["toestemming"] == record["id"]
    ]
    if "geldig_tot" in record["payload"]:
        ends.append(datetime.fromisoformat(record["payload"]["geldig_tot"]))
    return record["at"] <= NOW and all(end > NOW for end in ends)


def door_open(
    kind: str, org: str, author: str, event_type: str, drawn: list[dict[str, Any]], skip: str
) -> bool:
    """A record of `kind` in force lets `author`'s event of `event_type` reach `org`: the
    recorder's own events only, within its recipients, types (and itself) and events."""
    for record in drawn:
        if record["type"] != kind or record["id"] == skip or not in_force(record, drawn):
            continue
        p = record["payload"]
        types = p.get("gebeurtenistypen")
        if (
            record["author"] == author
            and org in p["ontvangers"]
            and (types is None or event_type in types or event_type == kind)
            and EVENT_ID in p.get("gebeurtenissen", [EVENT_ID])
        ):
            return True
    return False


def expected(
    doc: dict[str, Any],
    members: set[str],
    org: str,
    event_type: str,
    author: str,
    drawn: list[dict[str, Any]],
    skip: str = "",
) -> dict[str, str]:
    """Straight from the rules (no case roles are held here): the fields `org` reads."""
    if org == author:
        return dict.fromkeys(CATALOGUE[event_type].content_fields, "all")
    if org not in members:
        return {}
    roles = {o["id"]: set(o["roles"]) for o in doc["organisations"]}

    def named(who: str, parties: dict[str, Any]) -> bool:
        return who in parties["organisations"] or bool(roles[who] & set(parties["roles"]))

    fields: dict[str, str] = {}
    for rule in doc["rules"]:
        if event_type not in rule["event_types"]:
            continue
        if rule.get("valid_until") is not None and rule["valid_until"] < NOW.date().isoformat():
            continue
        if "authors" in rule and not named(author, rule["authors"]):
            continue
        if not named(org, rule["recipients"]):
            continue
        condition = rule.get("condition")
        if isinstance(condition, dict):
            continue  # no kader is recorded in these cases
        if condition is not None and not door_open(condition, org, author, event_type, drawn, skip):
            continue
        for field in rule["fields"]:
            if fields.get(field) != "all":
                fields[field] = "own" if rule["own_only"] else "all"
    return fields


def keys_held(doc: dict[str, Any], case: Case, event_type: str, author: str) -> dict[str, set[str]]:
    sealer = sealer_for(doc)
    context = case_context(case, {}, event_id=EVENT_ID)
    sealed = seal(sealer, attest(event_type, PAYLOADS[event_type], author), context, new_case_key())
    held: dict[str, set[str]] = {}
    for row in sealed.rows.grants:
        held.setdefault(row.org_id, set()).update(json.loads(row.grant)["fields"])
    return held


@settings(max_examples=60, deadline=None)
@given(
    doc=conditional_policies(),
    members=st.sets(st.sampled_from(ORGS), min_size=2),
    drawn=records(),
    event_type=st.sampled_from(sorted(PAYLOADS)),
    data=st.data(),
)
def test_an_organisation_holds_keys_for_exactly_what_the_records_in_force_open(
    doc: dict[str, Any],
    members: set[str],
    drawn: list[dict[str, Any]],
    event_type: str,
    data: st.DataObject,
) -> None:
    members |= {r["author"] for r in drawn}
    author = data.draw(st.sampled_from(sorted(members)))
    case = case_with(members, drawn)
    held = keys_held(doc, case, event_type, author)
    sealed = held[author]  # the author holds every field it wrote
    for org in ORGS:
        granted = expected(doc, members, org, event_type, author, drawn)
        assert held.get(org, set()) == {n for n in sealed if readable(n, granted, org)}, org


@settings(max_examples=60, deadline=None)
@given(
    doc=conditional_policies(),
    members=st.sets(st.sampled_from(ORGS), min_size=2),
    drawn=records(),
    event_type=st.sampled_from(sorted(PAYLOADS)),
    data=st.data(),
)
def test_withdrawing_a_toestemming_takes_away_exactly_the_keys_that_rested_on_it(
    doc: dict[str, Any],
    members: set[str],
    drawn: list[dict[str, Any]],
    event_type: str,
    data: st.DataObject,
) -> None:
    live = [r for r in drawn if r["type"] == "toestemming" and in_force(r, drawn)]
    if not live:
        return
    target = data.draw(st.sampled_from(live))
    members |= {r["author"] for r in drawn}
    author = data.draw(st.sampled_from(sorted(members)))
    before = keys_held(doc, case_with(members, drawn), event_type, author)
    withdrawal = {
        "type": "toestemming_ingetrokken",
        "id": "withdrawal",
        "author": data.draw(st.sampled_from(sorted(members))),
        "at": NOW - timedelta(microseconds=1),
        "payload": {"toestemming": target["id"], "ingetrokken_op": "2026-05-31"},
    }
    after = keys_held(doc, case_with(members, [*drawn, withdrawal]), event_type, author)
    for org in ORGS:
        granted = expected(doc, members, org, event_type, author, drawn, skip=target["id"])
        gone = {name for name in before.get(org, set()) if not readable(name, granted, org)}
        assert after.get(org, set()) == before.get(org, set()) - gone, org
