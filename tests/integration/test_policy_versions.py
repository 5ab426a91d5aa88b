"""The policy in force in the store: versions, proposals, four eyes, re-sealing history."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from casestore.bootstrap import Services, build
from casestore.entrypoints import demo
from casestore.services.policy_versions import (
    AlreadyDecided,
    FourEyes,
    ProposalError,
    StaleBase,
)
from casestore.settings import Settings
from tests.factories import (
    POLICE_RULE,
    Clock,
    activate_policy,
    edited,
    load_signed_demo,
    officer,
    propose,
    signalering,
    submit,
    without_police_rule,
)


def grant_cells(services: Services) -> Counter[tuple[str, str]]:
    """How many (event, field) grants each organisation holds, per field."""
    tables = services.store.records.tables
    cells: Counter[tuple[str, str]] = Counter()
    for cid in tables.case_ids():
        for grant in tables.grants_of_case(cid):
            for name in grant.fields:
                cells[(grant.org_id, name)] += 1
    return cells


def test_the_region_file_seeds_version_1_and_is_exported_as_written(
    services: Services, settings: Settings
) -> None:
    version = services.policy.in_force()
    assert version.version == 1 and version.tests is not None
    assert version.document == settings.policy_path.read_text(encoding="utf-8")
    assert services.sealer.policy_version == version.label
    assert version.label.startswith("1@")


def test_a_process_holding_a_superseded_version_cannot_seal_under_it(
    services: Services, settings: Settings, clock: Clock
) -> None:
    """Two processes on one store: the second still holds version 1 when the first
    activates version 2; its next write is sealed under version 2, never under 1."""
    case_id = [r.case_id for r in load_signed_demo(services) if r.version == 1][1]
    other = build(settings, clock=clock)
    try:
        old_label = other.sealer.policy_version
        activate_policy(services, edited(services, without_police_rule), history="new")
        assert other.sealer.policy_version == old_label  # it has not looked yet
        recorded = other.store.append(case_id, submit("signalering", signalering(), demo.ZVH))
        assert other.sealer.policy_version == services.sealer.policy_version != old_label
        rows = services.store.records.tables.grants_of_case(str(case_id))
        latest = [r for r in rows if r.version == recorded.version]
        assert latest and {r.policy_version for r in latest} == {services.sealer.policy_version}
        assert demo.POLITIE not in {r.org_id for r in latest}

        # A process that cannot take the new version up is refused outright.
        other.sealer.use_policy(other.sealer.matrix, old_label)
        other.sealer.source = None
        with pytest.raises(Exception, match="policy version superseded"):
            other.store.append(case_id, submit("signalering", signalering(), demo.ZVH))
    finally:
        other.close()


def test_four_eyes_cannot_be_bypassed(services: Services) -> None:
    book = services.policy
    load_signed_demo(services)
    proposer = officer(services, demo.ZVH, "FG ZVH")
    proposal = book.propose(
        proposer,
        base_version=1,
        document=edited(services, without_police_rule),
        reason="minder delen",
        dpia_reference="DPIA-2026-07",
        vastgesteld_on=date(2026, 11, 20),
    )
    with pytest.raises(FourEyes):
        book.approve(proposal.proposal_id, proposer, reason="eigen voorstel")
    colleague = officer(services, demo.ZVH, "tweede FG ZVH")
    with pytest.raises(FourEyes):
        book.approve(proposal.proposal_id, colleague, reason="zelfde organisatie")
    coordinator = services.clients.add(demo.GEMEENTE, "coordinator", "regisseur").client
    with pytest.raises(FourEyes):
        book.approve(proposal.proposal_id, coordinator, reason="geen FG")
    second = officer(services, demo.GEMEENTE, "FG gemeente")
    with pytest.raises(ProposalError):
        book.approve(proposal.proposal_id, second, reason=" ")
    version, job = book.approve(proposal.proposal_id, second, reason="akkoord")
    assert version.version == 2 and version.approved_by == second.client_id
    assert job is not None
    with pytest.raises(AlreadyDecided):  # a replayed approval
        book.approve(proposal.proposal_id, second, reason="akkoord")
    decided = book.proposal(proposal.proposal_id)
    assert decided.status == "approved" and decided.decided_org == demo.GEMEENTE


def test_a_proposal_needs_a_current_base_reason_and_dpia(services: Services) -> None:
    book = services.policy
    document = edited(services, without_police_rule)
    fg = officer(services, demo.ZVH)
    for missing in ("reason", "dpia_reference"):
        kwargs: dict[str, Any] = {"reason": "r", "dpia_reference": "d", missing: ""}
        with pytest.raises(ProposalError):
            book.propose(
                fg, base_version=1, document=document, vastgesteld_on=date(2026, 1, 1), **kwargs
            )
    first = propose(book, services, document)
    second = propose(book, services, document)
    book.approve(first, officer(services, demo.GEMEENTE), reason="ja", history="new")
    with pytest.raises(StaleBase):
        book.approve(second, officer(services, demo.GEMEENTE), reason="ja")
    with pytest.raises(StaleBase):
        book.propose(
            fg,
            base_version=1,
            document=document,
            reason="r",
            dpia_reference="d",
            vastgesteld_on=date(2026, 1, 1),
        )
    with pytest.raises(ProposalError, match="required key missing"):
        book.propose(
            fg,
            base_version=2,
            document="region: {}\n",
            reason="r",
            dpia_reference="d",
            vastgesteld_on=date(2026, 1, 1),
        )


def test_the_impact_is_what_applying_the_proposal_changes(services: Services) -> None:
    book = services.policy
    load_signed_demo(services)
    proposal = book.proposal(propose(book, services, edited(services, without_police_rule)))
    analysis = book.analyse(proposal)
    assert analysis.lint == [] and analysis.tests  # the old cases expect the police rule
    assert any(r.rule == POLICE_RULE and r.change == "removed" for r in analysis.diff.rules)
    police = [c for c in analysis.diff.cells if c.cell.organisation == demo.POLITIE]
    assert police and all(c.change in ("lost", "changed") for c in police)
    assert any("signalering" in c.sentence for c in police)
    impact = analysis.impact.organisations[demo.POLITIE]
    assert impact.fields["lost"] > 0 and impact.fields["gained"] == 0
    assert analysis.impact.affected_cases

    before = grant_cells(services)
    _, job = book.approve(proposal.proposal_id, officer(services, demo.GEMEENTE), reason="ja")
    assert job is not None
    book.run_job(job.job_id, "test")
    after = grant_cells(services)
    lost_by_org: Counter[str] = Counter()
    gained_by_org: Counter[str] = Counter()
    for (org, _), n in (before - after).items():
        lost_by_org[org] += n
    for (org, _), n in (after - before).items():
        gained_by_org[org] += n
    for org, impact in analysis.impact.organisations.items():
        assert impact.fields["lost"] == lost_by_org[org]
        assert impact.fields["gained"] == gained_by_org[org]
    assert book.impact(services.sealer.matrix).organisations == {}  # nothing left to do


def test_the_reseal_job_resumes_where_it_stopped(services: Services) -> None:
    book = services.policy
    load_signed_demo(services)
    proposal = propose(book, services, edited(services, without_police_rule))
    _, job = book.approve(proposal, officer(services, demo.GEMEENTE), reason="ja")
    assert job is not None

    class Killed(Exception):
        pass

    def die_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Killed

    with pytest.raises(Killed):
        book.run_job(job.job_id, "worker-1", progress=die_after_two)
    halfway = book.job(job.job_id)
    assert halfway.status == "running" and halfway.done == 2 and halfway.last_case
    with pytest.raises(AlreadyDecided):  # its lease still holds
        book.run_job(job.job_id, "worker-2")
    finished = book.run_job(job.job_id, "worker-2", take_over=True)
    assert finished.status == "done" and finished.done == finished.total
    assert book.impact(services.sealer.matrix).organisations == {}
    assert services.store.records.tables  # nothing else to check: the grants are in line


def test_the_worker_finishes_a_job_nobody_holds(services: Services) -> None:
    book = services.policy
    load_signed_demo(services)
    proposal = propose(book, services, edited(services, without_police_rule))
    _, job = book.approve(proposal, officer(services, demo.GEMEENTE), reason="ja")
    assert job is not None and book.job(job.job_id).status == "pending"
    assert services.housekeeping.resume_policy_jobs() == 1
    assert book.job(job.job_id).status == "done"
    assert book.impact(services.sealer.matrix).organisations == {}
    assert services.housekeeping.resume_policy_jobs() == 0
