"""An organisation's feed: what it receives across cases, in global order, resumable.

Runs on SQLite and PostgreSQL. The feed must agree with reading each case: the same
events, the same grants, in position order, and paging by position must neither skip
nor repeat.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from casestore.bootstrap import Services
from casestore.services.case_store import CaseStore
from casestore.services.disclosure import Disclosure
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    POLITIE,
    ZVH,
    include,
    netwerk,
    open_case,
    signalering,
    submit,
)


@pytest.fixture
def store(services: Services) -> CaseStore:
    return services.store


def populate(store: CaseStore) -> list[UUID]:
    cases = []
    for n in range(3):
        opened = open_case(store)
        include(store, opened.case_id)
        if n != 1:
            store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
        # By the casusregisseur: a GGZ signal would reach the ZVH only through a door.
        store.append(opened.case_id, submit("signalering", signalering(), GEMEENTE))
        cases.append(opened.case_id)
    return cases


@pytest.mark.parametrize("org", [ZVH, GGZ, GEMEENTE, FORENSISCH, POLITIE])
def test_the_feed_holds_exactly_what_the_cases_give_the_organisation(
    store: CaseStore, org: str, disclosure: Disclosure
) -> None:
    cases = populate(store)
    expected = []
    for case_id in cases:
        try:
            expected += [e.to_json() for e in disclosure.read_case(org, case_id)]
        except Exception:  # noqa: S112 - a case the organisation does not see
            continue
    feed = [e.to_json() for e in disclosure.feed(org, 0, 1_000)]

    assert feed == sorted(expected, key=lambda e: e["position"])
    assert [e["position"] for e in feed] == sorted({e["position"] for e in feed})


def test_the_police_see_only_cases_whose_network_they_joined(
    store: CaseStore, disclosure: Disclosure
) -> None:
    cases = populate(store)
    seen = {e.case_id for e in disclosure.feed(POLITIE, 0, 1_000)}
    assert seen == {cases[0], cases[2]}


def test_paging_by_position_reaches_every_event_once(
    store: CaseStore, disclosure: Disclosure
) -> None:
    populate(store)
    whole = [e.event_id for e in disclosure.feed(ZVH, 0, 1_000)]
    paged, after = [], 0
    while page := disclosure.feed(ZVH, after, 2):
        assert len(page) <= 2
        paged += [e.event_id for e in page]
        after = page[-1].position
    assert paged == whole
    assert len(whole) == len(set(whole)) > 10


def test_a_feed_after_the_last_position_is_empty(store: CaseStore, disclosure: Disclosure) -> None:
    populate(store)
    assert disclosure.feed(GGZ, store.max_position(), 100) == []
    assert disclosure.feed("onbekende-organisatie", 0, 100) == []
