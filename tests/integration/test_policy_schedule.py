"""A policy version approved to take effect at a later moment: until that moment every
process seals under the version before it, from that moment on under the new one, and the
store refuses a row sealed under the other, whichever process holds what."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest

from casestore.bootstrap import Services, build
from casestore.entrypoints import demo
from casestore.services.policy_versions import HISTORY_ALL, HISTORY_NEW, StaleBase
from casestore.settings import Settings
from tests.factories import (
    Clock,
    edited,
    load_signed_demo,
    officer,
    propose,
    signalering,
    submit,
    without_police_rule,
)


def sealed_under(services: Services, case_id: UUID, version: int) -> set[str]:
    tables = services.store.records.tables
    rows = [r for r in tables.grants_of_case(str(case_id)) if r.version == version]
    return {r.policy_version for r in rows}


def police_receives(services: Services, case_id: UUID, version: int) -> bool:
    tables = services.store.records.tables
    return version in tables.access_positions(demo.POLITIE, str(case_id))


def test_a_scheduled_version_comes_into_force_at_its_moment_in_every_process(
    services: Services, settings: Settings, clock: Clock
) -> None:
    case_id = [r.case_id for r in load_signed_demo(services) if r.version == 1][1]
    book = services.policy
    other = build(settings, clock=clock)  # a second process on the same store
    try:
        v1 = book.in_force()
        moment = clock.now + timedelta(hours=2)
        proposal = propose(book, services, edited(services, without_police_rule))
        v2, job = book.approve(
            proposal,
            officer(services, demo.GEMEENTE),
            reason="per 1 januari",
            effective_from=moment,
            history=HISTORY_NEW,
        )
        assert job is None and v2.effective_from == moment
        assert book.in_force().version == 1 and services.sealer.policy_version == v1.label
        assert book.scheduled() is not None and book.newest().version == 2

        # Just before the moment: both processes seal under version 1, the police still
        # receives signaleringen.
        clock.now = moment - timedelta(microseconds=1)
        for process in (services, other):
            written = process.store.append(case_id, submit("signalering", signalering(), demo.ZVH))
            assert sealed_under(services, case_id, written.version) == {v1.label}
            assert police_receives(services, case_id, written.version)

        # A process holding version 2 before its moment is refused by the store.
        other.sealer.use_policy(book.compile(v2.document), v2.label)
        other.sealer.source, other.sealer.scheduled = None, None
        with pytest.raises(Exception, match="policy version superseded"):
            other.store.append(case_id, submit("signalering", signalering(), demo.ZVH))
        other.close()
        other = build(settings, clock=clock)

        # At the moment exactly: the process that approved switches by itself, the other
        # (which never heard of the schedule) is refused once and takes version 2 up.
        clock.now = moment
        assert book.in_force().version == 2
        for process in (services, other):
            written = process.store.append(case_id, submit("signalering", signalering(), demo.ZVH))
            assert process.sealer.policy_version == v2.label
            assert sealed_under(services, case_id, written.version) == {v2.label}
            assert not police_receives(services, case_id, written.version)

        # A process still holding version 1 after the moment can never seal under it.
        other.sealer.use_policy(book.compile(v1.document), v1.label)
        other.sealer.source, other.sealer.scheduled = None, None
        with pytest.raises(Exception, match="policy version superseded"):
            other.store.append(case_id, submit("signalering", signalering(), demo.ZVH))
    finally:
        other.close()


def test_history_is_resealed_only_once_the_version_is_in_force(
    services: Services, clock: Clock
) -> None:
    load_signed_demo(services)
    book = services.policy
    moment = clock.now + timedelta(days=1)
    proposal = propose(book, services, edited(services, without_police_rule))
    _, job = book.approve(
        proposal,
        officer(services, demo.GEMEENTE),
        reason="per morgen",
        effective_from=moment,
        history=HISTORY_ALL,
    )
    assert job is not None
    before = book.impact(book.compile(book.newest().document)).organisations
    assert before[demo.POLITIE].fields["lost"] > 0

    # Until the moment the worker leaves the job waiting and the police keeps its grants.
    assert services.housekeeping.resume_policy_jobs() == 1
    assert book.job(job.job_id).status == "pending"
    assert book.impact(book.compile(book.newest().document)).organisations == before

    # No second version is approved while one waits for its moment.
    other = propose(book, services, edited(services, without_police_rule))
    with pytest.raises(StaleBase):
        book.approve(other, officer(services, demo.GEMEENTE), reason="ook")

    clock.now = moment
    services.housekeeping.resume_policy_jobs()
    assert book.job(job.job_id).status == "done"
    assert book.impact(services.sealer.matrix).organisations == {}


def test_a_proposal_builds_on_the_scheduled_version(services: Services, clock: Clock) -> None:
    book = services.policy
    moment = clock.now + timedelta(hours=1)
    first = propose(book, services, edited(services, without_police_rule))
    book.approve(first, officer(services, demo.GEMEENTE), reason="ja", effective_from=moment)
    with pytest.raises(StaleBase, match="not the newest"):
        book.propose(
            officer(services, demo.ZVH),
            base_version=1,
            document=edited(services, without_police_rule),
            reason="r",
            dpia_reference="d",
            vastgesteld_on=date(2026, 1, 1),
        )
    second = book.propose(
        officer(services, demo.ZVH),
        base_version=2,
        document=book.newest().document,
        reason="r",
        dpia_reference="d",
        vastgesteld_on=date(2026, 1, 1),
    )
    clock.now = moment
    version, _ = book.approve(
        second.proposal_id, officer(services, demo.GEMEENTE), reason="ja", history=HISTORY_NEW
    )
    assert version.version == 3 and book.in_force().version == 3
    assert services.sealer.policy_version == version.label
