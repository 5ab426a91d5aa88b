"""The case store against real storage: every test runs on SQLite and on PostgreSQL.

These tests speak only through `CaseStore` (and `build()`), so they specify what the
application layer promises whichever backend sits below it: ordering, optimistic
concurrency, idempotent retries, the person index, as-of reads, the global feed and
snapshots. The clock is the fixed `clock` fixture; nothing sleeps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import pytest

from casestore.adapters.keyring import demo_signers
from casestore.bootstrap import Services, build
from casestore.domain import errors
from casestore.domain.case import Case
from casestore.domain.status import Status
from casestore.entrypoints import demo
from casestore.services.case_store import CaseStore, Recorded
from casestore.services.disclosure import Disclosure
from casestore.settings import Settings
from tests.factories import (
    ELSEWHERE,
    FORENSISCH,
    GEMEENTE,
    GGZ,
    POLITIE,
    TRIAGE,
    UITSTROOM,
    ZVH,
    Clock,
    aanmelding,
    all_events,
    fresh_bsn,
    include,
    netwerk,
    open_case,
    replayed,
    signalering,
    submit,
)


@pytest.fixture
def store(services: Services) -> CaseStore:
    return services.store


# ---- open, append, read back --------------------------------------------------------


def test_an_opened_case_reads_back_with_its_history_in_order(store: CaseStore) -> None:
    bsn = fresh_bsn()
    opened = store.open_case(submit("aanmelding", aanmelding(bsn), GGZ))
    second = store.append(opened.case_id, submit("signalering", signalering()))
    third = store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))

    assert (opened.version, second.version, third.version) == (1, 2, 3)
    assert opened.position < second.position < third.position
    assert not any(r.replayed for r in (opened, second, third))

    case = store.case(opened.case_id)
    assert case.version == 3
    assert case.status is Status.aangemeld
    assert case.network == sorted([GGZ, ZVH, POLITIE])

    history = store.history(opened.case_id)
    assert [e.event_type for e in history] == ["aanmelding", "signalering", "netwerkwijziging"]
    assert [e.originator_version for e in history] == [1, 2, 3]
    assert [e.event_id for e in history] == [opened.event_id, second.event_id, third.event_id]
    assert history[1].author_org == GGZ
    assert history[2].control == {
        "organisatie": POLITIE,
        "wijziging": "toegetreden",
        "rol_in_casus": "wijkagent",
    }


def test_content_comes_back_as_submitted_and_is_stored_only_sealed(
    store: CaseStore, disclosure: Disclosure
) -> None:
    bsn = fresh_bsn()
    # The gemeente refers and signals: what a GGZ provider writes reaches the ZVH only
    # through a door through its beroepsgeheim (toestemming, conflict van plichten).
    opened = store.open_case(submit("aanmelding", aanmelding(bsn), GEMEENTE))
    submitted = signalering("Buren melden dreigende uitspraken in het trappenhuis.")
    store.append(opened.case_id, submit("signalering", submitted, GEMEENTE))

    stored = json.dumps([e.content for e in store.history(opened.case_id)], default=str)
    for plaintext in (bsn, "J. de Wit", submitted["toelichting"], submitted["medicatie"]):
        assert plaintext not in stored

    # The custodian is hosted by the service, so it can open what the policy grants it.
    read = disclosure.read_case(ZVH, opened.case_id, decrypt=True)
    assert [e.event_type for e in read] == ["aanmelding", "signalering"]
    opened_signalering = read[1].payload
    assert opened_signalering is not None
    assert "toelichting" in opened_signalering
    assert opened_signalering == {k: submitted[k] for k in opened_signalering}
    assert read[0].payload is not None
    assert read[0].payload["bsn"] == bsn


def test_the_process_runs_through_inclusion_to_uitstroom(store: CaseStore) -> None:
    opened = open_case(store)
    include(store, opened.case_id)
    store.append(
        opened.case_id, submit("opschaling", {"niveau": 3, "reden": "Opname."}, FORENSISCH)
    )
    store.append(opened.case_id, submit("uitstroom", UITSTROOM, ZVH))

    case = store.case(opened.case_id)
    assert case.status is Status.uitgestroomd
    assert case.level == 3
    assert case.regie == {
        "levensloopaanbieder": FORENSISCH,
        "casusregisseur": GEMEENTE,
        "procesregisseur": ZVH,
    }
    with pytest.raises(errors.CaseClosed):
        store.append(opened.case_id, submit("signalering", signalering()))


def test_an_unknown_case_is_not_found(store: CaseStore) -> None:
    unknown = UUID("00000000-0000-4000-8000-000000000001")
    with pytest.raises(errors.CaseNotFound):
        store.case(unknown)
    with pytest.raises(errors.CaseNotFound):
        store.history(unknown)
    with pytest.raises(errors.CaseNotFound):
        store.append(unknown, submit("signalering", signalering()))


def test_a_rejected_event_writes_nothing(store: CaseStore) -> None:
    opened = open_case(store)
    before = (store.max_position(), all_events(store))

    with pytest.raises(errors.InclusionRequired):
        store.append(opened.case_id, submit("uitstroom", UITSTROOM, ZVH))
    with pytest.raises(errors.CaseNotFound):  # it never saw the case: nothing to say
        store.append(opened.case_id, submit("signalering", signalering(), POLITIE))
    with pytest.raises(errors.PayloadInvalid):
        store.append(opened.case_id, submit("signalering", {"ernst": 9}))

    assert (store.max_position(), all_events(store)) == before


def test_an_organisation_writes_only_the_event_types_the_policy_lets_it(
    store: CaseStore,
) -> None:
    opened = open_case(store)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    before = (store.max_position(), all_events(store))

    with pytest.raises(errors.AuthorNotPermitted, match=r"politie-amsterdam.*triagebesluit"):
        store.append(opened.case_id, submit("triagebesluit", TRIAGE, POLITIE))
    with pytest.raises(errors.AuthorNotPermitted):
        store.append(opened.case_id, submit("triagebesluit", TRIAGE, GGZ))
    with pytest.raises(errors.CaseNotFound):  # an outsider learns nothing, not even "403"
        store.append(opened.case_id, submit("triagebesluit", TRIAGE, "om-amsterdam"))

    assert (store.max_position(), all_events(store)) == before
    store.append(opened.case_id, submit("signalering", signalering(), POLITIE))


def test_a_former_member_is_refused_by_name_not_hidden(store: CaseStore) -> None:
    opened = open_case(store)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE, "uitgetreden"), ZVH))
    with pytest.raises(errors.AuthorNotInNetwork):
        store.append(opened.case_id, submit("signalering", signalering(), POLITIE))


# ---- optimistic concurrency ---------------------------------------------------------


def test_a_stale_expected_version_raises_version_conflict_and_writes_nothing(
    store: CaseStore,
) -> None:
    opened = open_case(store)
    store.append(opened.case_id, submit("signalering", signalering()), expected_version=1)
    before = (store.case(opened.case_id).version, store.max_position(), all_events(store))

    with pytest.raises(errors.VersionConflict) as raised:
        store.append(opened.case_id, submit("signalering", signalering()), expected_version=1)

    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert (store.case(opened.case_id).version, store.max_position(), all_events(store)) == before


def test_the_current_expected_version_is_accepted(store: CaseStore) -> None:
    opened = open_case(store)
    recorded = store.append(
        opened.case_id, submit("signalering", signalering()), expected_version=1
    )
    assert recorded.version == 2


# ---- idempotent retries ---------------------------------------------------------------


def test_a_retried_append_returns_the_first_recording_and_adds_nothing(
    store: CaseStore, clock: Clock
) -> None:
    opened = open_case(store)
    first = store.append(opened.case_id, submit("signalering", signalering(), key="sig-1"))
    position = store.max_position()

    clock.advance(minutes=3)  # the client retries a little later
    again = store.append(opened.case_id, submit("signalering", signalering(), key="sig-1"))

    assert again.replayed and not first.replayed
    assert (again.case_id, again.event_id, again.version, again.position) == (
        first.case_id,
        first.event_id,
        first.version,
        first.position,
    )
    assert store.max_position() == position
    assert len(store.history(opened.case_id)) == 2


def test_a_retry_is_recognised_even_with_a_stale_expected_version(store: CaseStore) -> None:
    opened = open_case(store)
    first = store.append(
        opened.case_id, submit("signalering", signalering(), key="sig-1"), expected_version=1
    )
    again = store.append(
        opened.case_id, submit("signalering", signalering(), key="sig-1"), expected_version=1
    )
    assert again.replayed
    assert again.version == first.version == 2


def test_an_idempotency_key_reused_for_other_content_is_refused(store: CaseStore) -> None:
    opened = open_case(store)
    store.append(opened.case_id, submit("signalering", signalering("eerste"), key="sig-1"))
    position = store.max_position()

    with pytest.raises(errors.IdempotencyConflict):
        store.append(opened.case_id, submit("signalering", signalering("andere"), key="sig-1"))

    assert store.max_position() == position
    assert store.case(opened.case_id).version == 2


def test_a_retried_opening_returns_the_same_case(store: CaseStore, clock: Clock) -> None:
    bsn = fresh_bsn()
    first = open_case(store, bsn, key="aanmelding-1")
    position = store.max_position()

    clock.advance(minutes=1)
    again = open_case(store, bsn, key="aanmelding-1")

    assert again.replayed
    assert (again.case_id, again.event_id, again.version, again.position) == (
        first.case_id,
        first.event_id,
        1,
        first.position,
    )
    assert store.max_position() == position


def test_an_opening_key_reused_for_another_referral_is_refused(store: CaseStore) -> None:
    open_case(store, fresh_bsn(), key="aanmelding-1")
    position = store.max_position()

    with pytest.raises(errors.IdempotencyConflict):
        open_case(store, fresh_bsn(), key="aanmelding-1")

    assert store.max_position() == position


def test_two_organisations_never_collide_on_the_same_key(store: CaseStore) -> None:
    opened = open_case(store)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))

    ours = store.append(opened.case_id, submit("signalering", signalering("ggz"), GGZ, "k-1"))
    theirs = store.append(
        opened.case_id, submit("signalering", signalering("politie"), POLITIE, "k-1")
    )

    assert not ours.replayed and not theirs.replayed
    assert ours.event_id != theirs.event_id
    assert (ours.version, theirs.version) == (3, 4)


def test_two_organisations_may_open_cases_under_the_same_key(store: CaseStore) -> None:
    ggz = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ, "intake-7"))
    gemeente = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE, "intake-7"))

    assert not gemeente.replayed
    assert ggz.case_id != gemeente.case_id
    assert store.case(gemeente.case_id).network == sorted([GEMEENTE, ZVH])


def test_the_same_key_on_two_cases_records_two_events(store: CaseStore) -> None:
    one, other = open_case(store), open_case(store)
    first = store.append(one.case_id, submit("signalering", signalering(), key="k"))
    second = store.append(other.case_id, submit("signalering", signalering(), key="k"))
    assert not second.replayed
    assert first.event_id != second.event_id


# ---- one open case per person ---------------------------------------------------------


@pytest.mark.parametrize("member", [GGZ, ZVH])
def test_a_member_s_second_referral_while_the_case_is_open_names_that_case(
    store: CaseStore, member: str
) -> None:
    bsn = fresh_bsn()
    first = open_case(store, bsn)  # by the GGZ; the ZVH is in every network
    position = store.max_position()

    with pytest.raises(errors.PersonHasOpenCase) as raised:
        store.open_case(submit("aanmelding", aanmelding(bsn, "Jan de Wit"), member))

    assert raised.value.case_id == str(first.case_id)
    assert store.max_position() == position


def test_without_a_bsn_a_member_s_second_referral_is_found_by_name_and_birth_date(
    store: CaseStore,
) -> None:
    naam = f"Jan de Wit-{fresh_bsn()}".replace("0", "x")  # a name no other test refers
    first_referral = {k: v for k, v in aanmelding(fresh_bsn(), naam).items() if k != "bsn"}
    first = store.open_case(submit("aanmelding", first_referral, GGZ))
    respelled = {**first_referral, "naam": naam.upper().replace("-", " ")}

    with pytest.raises(errors.PersonHasOpenCase) as raised:
        store.open_case(submit("aanmelding", respelled, ZVH))
    assert raised.value.case_id == str(first.case_id)

    # Another birth date is another person.
    other = store.open_case(submit("aanmelding", {**respelled, "geboortedatum": "1984-05-18"}, ZVH))
    assert other.case_id != first.case_id
    assert store.case(other.case_id).person_id != store.case(first.case_id).person_id


def test_an_outsider_s_referral_while_the_case_is_open_opens_a_case_linked_to_it(
    store: CaseStore,
) -> None:
    bsn = fresh_bsn()
    first = open_case(store, bsn)

    referral = store.open_case(submit("aanmelding", aanmelding(bsn), GEMEENTE))

    assert referral.case_id != first.case_id and referral.version == 1
    case = store.case(referral.case_id)
    assert case.network == sorted({GEMEENTE, ZVH})
    assert case.person_id == store.case(first.case_id).person_id
    person = store.person_of(case)
    assert person.open_case == str(first.case_id)
    assert person.beside_of(str(referral.case_id)) == str(first.case_id)


def test_after_uitstroom_a_new_referral_opens_a_new_case(store: CaseStore) -> None:
    bsn = fresh_bsn()
    first = open_case(store, bsn)
    include(store, first.case_id)
    store.append(first.case_id, submit("uitstroom", UITSTROOM, ZVH))

    second = store.open_case(submit("aanmelding", aanmelding(bsn), GEMEENTE))

    assert second.case_id != first.case_id
    assert store.case(second.case_id).person_id == store.case(first.case_id).person_id
    assert store.case(first.case_id).status is Status.uitgestroomd
    with pytest.raises(errors.PersonHasOpenCase) as raised:
        store.open_case(submit("aanmelding", aanmelding(bsn), GEMEENTE))
    assert raised.value.case_id == str(second.case_id)


def test_a_case_closed_at_triage_frees_the_person_too(store: CaseStore) -> None:
    bsn = fresh_bsn()
    first = open_case(store, bsn)
    store.append(first.case_id, submit("triagebesluit", ELSEWHERE, ZVH))
    assert store.case(first.case_id).status is Status.afgesloten

    assert open_case(store, bsn).case_id != first.case_id


def test_different_people_each_get_a_case(store: CaseStore) -> None:
    ids = {open_case(store).case_id for _ in range(3)}
    assert len(ids) == 3


# ---- concurrent writers ---------------------------------------------------------------

THREADS = 2
PER_THREAD = 25


@pytest.fixture(params=["one-store", "store-per-writer"])
def writer_stores(
    request: pytest.FixtureRequest, services: Services, clock: Clock
) -> Iterator[list[CaseStore]]:
    """Writers sharing one CaseStore (threads of one API process), or each with their own
    (several API processes against one database)."""
    if request.param == "one-store":
        yield [services.store] * THREADS
        return
    others = [build(services.settings, clock=clock) for _ in range(THREADS - 1)]
    try:
        yield [services.store, *(o.store for o in others)]
    finally:
        for other in others:
            other.close()


Result = TypeVar("Result")


def run_together(workers: Sequence[Callable[[], Result]]) -> list[Result | Exception]:
    """Start the workers at the same moment and return their results (or exceptions)."""
    barrier = threading.Barrier(len(workers))

    def start(work: Callable[[], Result]) -> Result | Exception:
        barrier.wait(timeout=30)
        try:
            return work()
        except Exception as exc:  # handed back to the test to inspect
            return exc

    with ThreadPoolExecutor(len(workers)) as pool:
        return list(pool.map(start, workers))


def test_concurrent_appends_to_one_case_lose_nothing_and_duplicate_nothing(
    store: CaseStore, writer_stores: list[CaseStore]
) -> None:
    opened = open_case(store)
    conflicts = [0] * THREADS

    def writer(index: int) -> Callable[[], list[Recorded]]:
        own = writer_stores[index]

        def work() -> list[Recorded]:
            done = []
            for number in range(PER_THREAD):
                key = f"w{index}-{number}"
                while True:
                    version = own.case(opened.case_id).version
                    try:
                        done.append(
                            own.append(
                                opened.case_id,
                                submit("signalering", signalering(key), key=key),
                                expected_version=version,
                            )
                        )
                        break
                    except errors.VersionConflict:
                        conflicts[index] += 1
            return done

        return work

    results = run_together([writer(i) for i in range(THREADS)])
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures
    batches = [r for r in results if not isinstance(r, Exception)]
    recorded = [r for batch in batches for r in batch]

    total = THREADS * PER_THREAD
    assert not any(r.replayed for r in recorded)
    assert sorted(r.version for r in recorded) == list(range(2, total + 2))  # one winner each
    assert len({r.position for r in recorded}) == total
    history = store.history(opened.case_id)
    assert [e.originator_version for e in history] == list(range(1, total + 2))
    assert {e.event_id for e in history[1:]} == {r.event_id for r in recorded}
    for index, batch in enumerate(batches):  # each writer's events keep that writer's order
        assert [r.version for r in batch] == sorted(r.version for r in batch), index
    # Every key is stored exactly once: a retry of each finds its first recording.
    position = store.max_position()
    for index, batch in enumerate(batches):
        for number, first in enumerate(batch):
            key = f"w{index}-{number}"
            again = store.append(opened.case_id, submit("signalering", signalering(key), key=key))
            assert again.replayed
            assert (again.event_id, again.version) == (first.event_id, first.version)
    assert store.max_position() == position
    feed = [item for item in all_events(store) if item.case_id == opened.case_id]
    assert [item.version for item in feed] == list(range(1, total + 2))


def test_concurrent_referrals_of_one_person_by_one_partner_open_exactly_one_case(
    store: CaseStore, writer_stores: list[CaseStore]
) -> None:
    for _ in range(5):  # a few rounds, so the race is actually run
        bsn = fresh_bsn()
        referrals = [
            partial(own.open_case, submit("aanmelding", aanmelding(bsn), GGZ))
            for own in writer_stores
        ]

        results = run_together(referrals)

        opened = [r for r in results if isinstance(r, Recorded)]
        refused = [r for r in results if isinstance(r, errors.PersonHasOpenCase)]
        assert len(opened) == 1, results
        assert len(refused) == 1, results
        assert refused[0].case_id == str(opened[0].case_id)
        assert store.case(opened[0].case_id).version == 1


def test_concurrent_referrals_by_two_partners_open_one_case_and_one_beside_it(
    store: CaseStore, writer_stores: list[CaseStore]
) -> None:
    for _ in range(5):
        bsn = fresh_bsn()
        referrals = [
            partial(own.open_case, submit("aanmelding", aanmelding(bsn), organisation))
            for own, organisation in zip(writer_stores, [GGZ, GEMEENTE], strict=True)
        ]

        results = run_together(referrals)

        recorded = [r for r in results if isinstance(r, Recorded)]
        assert len(recorded) == len(results), results
        cases = {str(r.case_id) for r in recorded}
        person = store.person_of(store.case(recorded[0].case_id))
        assert set(person.cases) == cases
        (beside,) = cases - {person.open_case}
        assert person.beside == {beside: person.open_case}


def test_concurrent_retries_of_one_referral_open_one_case(
    store: CaseStore, writer_stores: list[CaseStore]
) -> None:
    for round_ in range(5):
        submission = submit("aanmelding", aanmelding(fresh_bsn()), GGZ, f"intake-{round_}")
        results = run_together([partial(own.open_case, submission) for own in writer_stores])

        recorded = [r for r in results if isinstance(r, Recorded)]
        assert len(recorded) == len(results), results
        assert len({(r.case_id, r.event_id, r.version, r.position) for r in recorded}) == 1
        assert sorted(r.replayed for r in recorded) == [False, True]


# ---- as-of reads ----------------------------------------------------------------------


def test_a_case_reads_as_it_was_recorded_at_a_moment(store: CaseStore, clock: Clock) -> None:
    before_opening = clock.now - timedelta(seconds=1)
    opened_at = clock.now
    opened = open_case(store)
    clock.advance(hours=1)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    joined_at = clock.now
    clock.advance(hours=1)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE, "uitgetreden"), ZVH))
    left_at = clock.advance(hours=1)
    store.append(opened.case_id, submit("triagebesluit", TRIAGE, ZVH))

    with pytest.raises(errors.CaseNotFound):
        store.case(opened.case_id, as_of=before_opening)

    at_opening = store.case(opened.case_id, as_of=opened_at)
    assert (at_opening.version, at_opening.network) == (1, [GGZ, ZVH])
    halfway = store.case(opened.case_id, as_of=joined_at + timedelta(minutes=30))
    assert (halfway.version, halfway.network) == (2, sorted([GGZ, ZVH, POLITIE]))
    at_leaving = store.case(opened.case_id, as_of=left_at - timedelta(hours=1))
    assert (at_leaving.version, at_leaving.network) == (3, [GGZ, ZVH])
    assert at_leaving.status is Status.aangemeld
    now = store.case(opened.case_id, as_of=clock.advance(days=30))
    assert (now.version, now.status) == (4, Status.getrieerd)


def test_a_case_reads_at_a_version(store: CaseStore) -> None:
    opened = open_case(store)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    store.append(opened.case_id, submit("triagebesluit", TRIAGE, ZVH))

    first = store.case(opened.case_id, version=1)
    second = store.case(opened.case_id, version=2)
    assert (first.version, first.network, first.status) == (1, [GGZ, ZVH], Status.aangemeld)
    assert second.network == sorted([GGZ, ZVH, POLITIE])
    assert store.case(opened.case_id, version=3).status is Status.getrieerd
    assert store.case(opened.case_id).version == 3


# ---- the global feed ------------------------------------------------------------------


def _populate(store: CaseStore) -> dict[UUID, int]:
    """Three cases with interleaved events, one closed (so person-index events exist)."""
    cases = [open_case(store).case_id for _ in range(3)]
    for round_ in range(4):
        for case_id in cases:
            store.append(case_id, submit("signalering", signalering(f"ronde {round_}")))
    include(store, cases[0])
    store.append(cases[0], submit("uitstroom", UITSTROOM, ZVH))
    return {case_id: store.case(case_id).version for case_id in cases}


def test_the_feed_lists_every_case_event_once_in_increasing_position(store: CaseStore) -> None:
    versions = _populate(store)
    total = sum(versions.values())

    feed = store.events_after(0, limit=1000)

    positions = [item.position for item in feed]
    assert positions == sorted(set(positions))
    assert len(feed) == total
    assert all(isinstance(item.event, Case.Event) for item in feed)
    assert {item.case_id for item in feed} == set(versions)
    for case_id, version in versions.items():
        assert [i.version for i in feed if i.case_id == case_id] == list(range(1, version + 1))
    # The person index lives in the same table, yet never reaches the feed.
    assert store.max_position() > total
    assert feed[0].event_type == "aanmelding"
    assert feed[-1].event_type == "uitstroom"


def test_the_feed_pages_reach_every_event_exactly_once(store: CaseStore) -> None:
    _populate(store)
    everything = store.events_after(0, limit=1000)

    paged = []
    position = 0
    while page := store.events_after(position, limit=4):
        assert len(page) <= 4
        assert page[0].position > position
        paged.extend(page)
        position = page[-1].position

    assert [i.position for i in paged] == [i.position for i in everything]
    assert [i.event.event_id for i in paged] == [i.event.event_id for i in everything]
    assert [i.position for i in store.iter_events(page=3)] == [i.position for i in everything]
    assert [i.position for i in store.iter_events()] == [i.position for i in everything]
    middle = everything[len(everything) // 2].position
    assert [i.position for i in store.iter_events(middle)] == [
        i.position for i in everything if i.position > middle
    ]
    assert store.events_after(store.max_position()) == []


def test_an_empty_store_has_an_empty_feed(store: CaseStore) -> None:
    assert store.events_after(0) == []
    assert list(store.iter_events()) == []
    assert store.max_position() == 0


def test_the_feed_position_matches_the_recorded_position(store: CaseStore) -> None:
    opened = open_case(store)
    appended = store.append(opened.case_id, submit("signalering", signalering()))
    feed = {item.event.event_id: item.position for item in store.iter_events()}
    assert feed == {opened.event_id: opened.position, appended.event_id: appended.position}


# ---- snapshots ------------------------------------------------------------------------

SNAPSHOT_INTERVAL = 10


@pytest.fixture
def snapshotting(settings: Settings, clock: Clock) -> Iterator[CaseStore]:
    built = build(settings.model_copy(update={"snapshot_interval": SNAPSHOT_INTERVAL}), clock=clock)
    try:
        yield built.store
    finally:
        built.close()


def _long_case(store: CaseStore, clock: Clock, events: int) -> UUID:
    """A case whose state keeps changing: network churn and level up/down between
    signaleringen, so a stale or misapplied snapshot would show."""
    case_id = open_case(store).case_id
    include(store, case_id)
    while (version := store.case(case_id).version) < events:
        clock.advance(minutes=5)
        step = version % 4
        if step == 0:
            joined = POLITIE in store.case(case_id).network
            change = netwerk(POLITIE, "uitgetreden" if joined else "toegetreden")
            store.append(case_id, submit("netwerkwijziging", change, ZVH))
        elif step == 1:
            level = store.case(case_id).level
            kind, niveau = ("afschaling", 1) if level == 2 else ("opschaling", 2)
            store.append(case_id, submit(kind, {"niveau": niveau, "reden": "x"}, FORENSISCH))
        else:
            store.append(case_id, submit("signalering", signalering(f"#{version}")))
    return case_id


def state(case: Case) -> dict[str, tuple[type, Any]]:
    """Every attribute with its type: a snapshot that turns an enum into a str differs."""
    return {name: (type(value), value) for name, value in vars(case).items()}


def _replayed_from_events(store: CaseStore, case_id: UUID, version: int) -> Case:
    """The case folded from its events alone, never touching a snapshot."""
    events = []
    for event in store.events.get(case_id, lte=version):
        assert isinstance(event, Case.Event)
        events.append(event)
    return replayed(events)


def test_a_snapshotted_case_loads_to_the_state_its_events_give(
    snapshotting: CaseStore, clock: Clock
) -> None:
    store = snapshotting
    case_id = _long_case(store, clock, events=305)

    assert store.snapshots is not None
    snapshots = [s.originator_version for s in store.snapshots.get(case_id)]
    assert snapshots == list(range(SNAPSHOT_INTERVAL, 301, SNAPSHOT_INTERVAL))

    final = store.case(case_id)
    assert final.version == 305
    assert state(final) == state(_replayed_from_events(store, case_id, 305))
    for version in (1, 2, 9, 10, 11, 150, 151, 299, 300, 301):
        assert state(store.case(case_id, version=version)) == state(
            _replayed_from_events(store, case_id, version)
        ), version


def test_a_store_without_snapshots_reads_the_same_case(
    snapshotting: CaseStore, settings: Settings, clock: Clock
) -> None:
    case_id = _long_case(snapshotting, clock, events=125)
    plain = build(settings.model_copy(update={"snapshot_interval": 10_000}), clock=clock)
    try:
        assert state(plain.store.case(case_id)) == state(snapshotting.case(case_id))
        assert len(plain.store.history(case_id)) == 125
    finally:
        plain.close()


# ---- the demo -------------------------------------------------------------------------


def test_the_demo_loads_and_a_second_load_replays_everything(
    store: CaseStore, clock: Clock
) -> None:
    # The demo's events happen up to 301 days after DEMO_START; the store refuses events
    # from the future, so the clock must stand after the last of them.
    clock.now = demo.DEMO_START + timedelta(days=400)

    first = list(demo.load(store))
    position = store.max_position()
    feed = all_events(store)

    assert not any(r.replayed for r in first)
    assert len(first) == sum(1 + len(steps) for *_, steps in demo.SCENARIOS)
    assert len(feed) == len(first)

    clock.advance(days=1)
    second = list(demo.load(store))

    assert all(r.replayed for r in second)
    assert [(r.case_id, r.event_id, r.version, r.position) for r in second] == [
        (r.case_id, r.event_id, r.version, r.position) for r in first
    ]
    assert store.max_position() == position
    assert all_events(store) == feed

    statuses = [store.case(case_id).status for case_id in demo.case_ids(first)]
    assert statuses == [
        Status.uitgestroomd,
        Status.geincludeerd,
        Status.afgesloten,
        Status.afgesloten,
        Status.geincludeerd,  # taken back in during nazorg
    ]


def test_a_restarted_store_replays_the_demo_too(settings: Settings, clock: Clock) -> None:
    """The CLI path: each `casestore demo` is a new process over the same database."""
    clock.now = demo.DEMO_START + timedelta(days=400)
    for attempt in range(2):
        services = build(settings, clock=clock)
        try:
            signers = demo_signers(services.settings.key_directory)  # as `casestore demo` does
            recorded = list(demo.load(services.store, signers))
            assert [r.replayed for r in recorded] == [attempt == 1] * len(recorded)
        finally:
            services.close()


def test_an_occurred_at_without_a_time_zone_is_refused_by_name(services: Services) -> None:
    store = services.store
    naive = replace(
        submit("aanmelding", aanmelding(fresh_bsn()), ZVH),
        occurred_at=store.clock().replace(tzinfo=None),
    )
    with pytest.raises(errors.PayloadInvalid) as refused:
        store.open_case(naive)
    assert [p.field for p in refused.value.problems] == ["occurred_at"]
    assert store.max_position() == 0
