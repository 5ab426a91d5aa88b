"""The impact a proposal reports is exactly what applying it to history changes: for
random edits of the region's policy (rules dropped, fields narrowed), the fields and events
each organisation gains and loses, compared grant by grant before and after the re-seal.
Both backends."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from casestore.bootstrap import Services
from casestore.entrypoints import demo
from sharing.errors import PolicyError
from tests.factories import load_signed_demo, officer

Field = tuple[str, str, int, str]  # case, organisation, event, field


def stored_fields(services: Services) -> set[Field]:
    tables = services.store.records.tables
    return {
        (cid, g.org_id, g.version, name)
        for cid in tables.case_ids()
        for g in tables.grants_of_case(cid)
        for name in g.fields
    }


def stored_access(services: Services) -> set[tuple[str, str, int]]:
    tables = services.store.records.tables
    return {
        (cid, a.org_id, a.version) for cid in tables.case_ids() for a in tables.access_of_case(cid)
    }


def per_org(items: set[Any]) -> Counter[str]:
    return Counter(item[1] for item in items)


EDITS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=200), st.sampled_from(["drop", "narrow"])),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edits=EDITS)
def test_impact_equals_what_applying_changes(services: Services, edits: Any) -> None:
    book = services.policy
    if not services.store.records.tables.case_ids():
        load_signed_demo(services)
    original = yaml.safe_load(book.version(1).document)
    document = yaml.safe_load(book.version(1).document)
    for index, kind in edits:
        rules = document["rules"]
        rule = rules[index % len(rules)]
        if kind == "drop" and len(rules) > 1:
            rules.remove(rule)
        elif rule["fields"]:
            rule["fields"] = rule["fields"][: len(rule["fields"]) // 2]
    assume(document != original or book.in_force().version > 1)
    text = yaml.safe_dump(document, allow_unicode=True)
    try:
        book.compile(text)
    except PolicyError:
        assume(False)
    proposal = book.propose(
        officer(services, demo.ZVH),
        base_version=book.in_force().version,
        document=text,
        tests="",
        reason="willekeurige wijziging",
        dpia_reference="DPIA-P",
        vastgesteld_on=date(2026, 1, 1),
    )
    impact = book.analyse(proposal).impact.organisations
    fields_before, access_before = stored_fields(services), stored_access(services)
    _, job = book.approve(proposal.proposal_id, officer(services, demo.GEMEENTE), reason="ja")
    assert job is not None
    book.run_job(job.job_id, "test")
    fields_after, access_after = stored_fields(services), stored_access(services)

    gained, lost = per_org(fields_after - fields_before), per_org(fields_before - fields_after)
    events_gained = per_org(access_after - access_before)
    events_lost = per_org(access_before - access_after)
    for org in set(gained) | set(lost) | set(impact) | set(events_gained) | set(events_lost):
        reported = impact.get(org)
        assert reported is not None, org
        assert reported.fields["gained"] == gained[org], org
        assert reported.fields["lost"] == lost[org], org
        assert reported.events["gained"] == events_gained[org], org
        assert reported.events["lost"] == events_lost[org], org
