"""The policy in force as the store holds it: versions, proposals with four eyes, and the
job that brings stored history in line with a newly activated version.

The YAML under `policies/` seeds version 1 of a fresh store; from then on only an approved
proposal changes the policy, and `export` writes the version in force back as YAML for a
region to keep in git. A proposal names its base version, and is refused once another
version is in force; its answer (lint, the policy's own cases, the diff, the impact on
stored history computed from the real grants, the DPIA annex delta) is computed before
anyone approves. A second privacy officer, of another organisation than the proposer's,
approves or rejects it: four eyes mean two organisations' FGs, so two officers of one
organisation cannot pass a change between themselves. Approval activates the version from
a stated moment for new events only, or re-seals history too in a resumable job.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

import structlog

from casestore.adapters.persistence.policy_table import (
    JobRow,
    PolicyTable,
    ProposalRow,
    VersionRow,
)
from casestore.domain.catalogue import describe
from casestore.services.audit import POLICY_CHANGED
from casestore.services.case_store import CaseStore
from casestore.services.clients import Client, ClientRole
from casestore.services.grants import Grants
from casestore.services.lru import Lru
from casestore.services.policy_errors import (
    AlreadyDecided,
    FourEyes,
    NotFound,
    ProposalError,
    StaleBase,
)
from casestore.services.policy_impact import Impact, OrgImpact, impact
from casestore.services.reseal_job import LEASE, Progress, ResealJobs
from casestore.services.sealing import Scheduled, Sealer
from sharing.errors import PolicyError
from sharing.owned import field_of
from sharing.policy import (
    AccessMatrix,
    Policy,
    catalogue_from_description,
    compile_policy,
    parse_policy,
    policy_digest,
)
from sharing.policy.cases import run_case_text
from sharing.policy.diff import PolicyDiff, diff
from sharing.policy.edit import RuleEdit, apply_rule_edit
from sharing.policy.lint import lint_policy

log = structlog.get_logger("casestore.policy")

__all__ = [
    "HISTORY_ALL",
    "HISTORY_NEW",
    "LEASE",
    "AlreadyDecided",
    "Analysis",
    "FourEyes",
    "Impact",
    "NotFound",
    "OrgImpact",
    "PolicyBook",
    "Progress",
    "ProposalError",
    "StaleBase",
]

HISTORY_ALL, HISTORY_NEW = "all", "new"


def label_of(version: int, policy: Policy) -> str:
    return f"{version}@{policy_digest(policy).removeprefix('sha256:')[:16]}"


@dataclass(frozen=True)
class Analysis:
    """The answer to a proposal, computed before anyone approves."""

    lint: list[str]
    tests: list[str]  # failures of the policy's own cases (empty: all pass)
    tests_run: int
    diff: PolicyDiff
    impact: Impact

    def to_json(self) -> dict[str, Any]:
        d = self.diff
        return {
            "lint": self.lint,
            "tests": {"cases": self.tests_run, "failures": self.tests},
            "rules": [{"rule": r.rule, "change": r.change} for r in d.rules],
            "cells": [
                {
                    "organisation": c.cell.organisation,
                    "event_type": c.cell.event_type,
                    "field": c.cell.field,
                    "change": c.change,
                    "rules": list(c.rules),
                    "grounds": list(c.grounds),
                    "sentence": c.sentence,
                }
                for c in d.cells
            ],
            "impact": self.impact.to_json(),
            "dpia": {
                "added": [vars(f) for f in d.flows_added],
                "removed": [vars(f) for f in d.flows_removed],
            },
        }


class PolicyBook:
    """Versions, proposals and re-seal jobs of one store."""

    def __init__(
        self,
        table: PolicyTable,
        store: CaseStore,
        grants: Grants,
        clock: Callable[[], datetime],
    ) -> None:
        self.table = table
        self.store = store
        self.grants = grants
        self.sealer: Sealer = store.sealer
        self.clock = clock
        self.catalogue = catalogue_from_description(describe())
        self._compiled: Lru[str, AccessMatrix] = Lru(8)
        self.reseal = ResealJobs(table, grants, clock, self.in_force)

    # ---- versions --------------------------------------------------------------------------

    def compile(self, document: str, source: str = "<policy>") -> AccessMatrix:
        matrix = self._compiled.get(document)
        if matrix is None:
            matrix = compile_policy(
                parse_policy(document, self.catalogue, source=source), self.catalogue
            )
            self._compiled.put(document, matrix)
        return matrix

    def seed(self, document: str, tests: str | None) -> None:
        """Make `document` version 1 of a store that has none, and take up whatever
        version is in force."""
        matrix = self.compile(document)
        now = self.clock()
        self.table.seed(
            VersionRow(
                1,
                label_of(1, matrix.policy),
                document,
                tests,
                policy_digest(matrix.policy),
                None,
                now,
                now,
                HISTORY_NEW,
                None,
                "seeded from the region's policy file",
            )
        )
        self.sealer.source = self.source
        self.sealer.refresh()

    def source(self, held: str) -> tuple[tuple[AccessMatrix, str] | None, Scheduled | None] | None:
        """The policy in force now, if it is not the label `held`, and the version scheduled
        after it (see Sealer.refresh)."""
        state = self.table.state()
        if state is None:
            return None
        now = self.clock()
        version, label = state.at(now)
        in_force = None if label == held else self._matrix_of(version)
        pending = state.pending(now)
        scheduled = None
        if pending is not None:
            matrix = self._matrix_of(pending[0])
            if matrix is not None:
                scheduled = (pending[2], matrix[0], matrix[1])
        return in_force, scheduled

    def _matrix_of(self, version: int) -> tuple[AccessMatrix, str] | None:
        row = self.table.version(version)
        if row is None:  # pragma: no cover - written in one transaction with it
            return None
        return self.compile(row.document, f"policy version {row.version}"), row.label

    def in_force(self) -> VersionRow:
        """The version in force now (by this process's clock)."""
        state = self.table.state()
        row = None if state is None else self.table.version(state.at(self.clock())[0])
        if row is None:
            raise NotFound("no policy version in force")
        return row

    def scheduled(self) -> VersionRow | None:
        """The version approved to take effect at a later moment, if one waits."""
        state = self.table.state()
        pending = None if state is None else state.pending(self.clock())
        return None if pending is None else self.table.version(pending[0])

    def newest(self) -> VersionRow:
        """The newest approved version: in force, or scheduled to take effect later. A
        proposal builds on it."""
        state = self.table.state()
        row = None if state is None else self.table.version(state.newest)
        if row is None:
            raise NotFound("no policy version in force")
        return row

    def version(self, version: int) -> VersionRow:
        row = self.table.version(version)
        if row is None:
            raise NotFound(f"no policy version {version}")
        return row

    def versions(self) -> list[VersionRow]:
        return self.table.versions()

    # ---- proposals -------------------------------------------------------------------------

    def propose(
        self,
        by: Client,
        *,
        base_version: int,
        document: str,
        reason: str,
        dpia_reference: str,
        vastgesteld_on: date,
        tests: str | None = None,
    ) -> ProposalRow:
        """Record a proposal against `base_version`; refused when another version is in
        force now, when a required statement is missing, or when it does not load."""
        self._officer(by)
        for name, value in (("reason", reason), ("dpia_reference", dpia_reference)):
            if not value.strip():
                raise ProposalError(f"a proposal needs a {name.replace('_', ' ')}")
        current = self.newest()
        if base_version != current.version:
            raise StaleBase(
                f"base version {base_version} is not the newest (version {current.version} "
                "is): propose against it"
            )
        try:
            matrix = self.compile(document, "proposal")
        except PolicyError as exc:
            raise ProposalError("; ".join(exc.problems)) from None
        row = ProposalRow(
            proposal_id=str(uuid.uuid4()),
            base_version=base_version,
            document=document,
            tests=tests if tests is not None else current.tests,
            digest=policy_digest(matrix.policy),
            proposed_by=by.client_id,
            proposed_org=by.org_id,
            reason=reason,
            dpia_reference=dpia_reference,
            vastgesteld_on=vastgesteld_on.isoformat(),
            created_at=self.clock(),
            status="open",
        )
        self.table.propose(row)
        log.info("policy proposed", proposal=row.proposal_id, by=by.client_id)
        return row

    def propose_rule_edit(
        self,
        by: Client,
        *,
        base_version: int,
        edit: RuleEdit,
        reason: str,
        dpia_reference: str,
        vastgesteld_on: date,
        tests: str | None = None,
    ) -> ProposalRow:
        """Propose one rule added, changed or removed: the edit is made here, on the base
        version's document as stored (every other line kept as written), and the result
        proposed as a whole document; refused as `propose` is, and when the edit does not
        fit the base (a rule to change that is not there, one to add that is)."""
        self._officer(by)
        newest = self.newest()
        if base_version != newest.version:
            raise StaleBase(
                f"base version {base_version} is not the newest (version {newest.version} "
                "is): edit it instead"
            )
        try:
            document = apply_rule_edit(newest.document, edit)
        except PolicyError as exc:
            raise ProposalError("; ".join(exc.problems)) from None
        return self.propose(
            by,
            base_version=base_version,
            document=document,
            reason=reason,
            dpia_reference=dpia_reference,
            vastgesteld_on=vastgesteld_on,
            tests=tests,
        )

    def proposal(self, proposal_id: str) -> ProposalRow:
        row = self.table.proposal(proposal_id)
        if row is None:
            raise NotFound(f"no proposal {proposal_id}")
        return row

    def proposals(self) -> list[ProposalRow]:
        return self.table.proposals()

    def analyse(self, proposal: ProposalRow) -> Analysis:
        base = self.version(proposal.base_version)
        old = self.compile(base.document)
        new = self.compile(proposal.document, "proposal")
        lint = [str(f) for f in lint_policy(new.policy, self.catalogue)]
        failures: list[str] = []
        run = 0
        if proposal.tests:
            try:
                report = run_case_text(proposal.tests, new, "tests")
            except PolicyError as exc:
                failures = list(exc.problems)
            else:
                run = report.cases
                failures = [str(f) for f in report.failures]
        return Analysis(
            lint, failures, run, diff(old.policy, new.policy, self.catalogue), self.impact(new)
        )

    def impact(self, matrix: AccessMatrix) -> Impact:
        """What applying `matrix` to stored history would change (casestore.services.
        policy_impact)."""
        return impact(self.grants, matrix, self.catalogue)

    def explain_decision(
        self, case_id: UUID, version: int, organisation: str, field: str | None = None
    ) -> dict[str, Any]:
        """Why `organisation` did or did not receive `field` (every field: None) of one
        stored event, from the stored grant: rules, grounds, the condition it rested on,
        the version that sealed it, and whether the version in force now is another."""
        tables = self.store.records.tables
        received = version in tables.access_positions(organisation, str(case_id))
        grants = [g for g in tables.grants_for(organisation, str(case_id)) if g.version == version]
        bases: dict[str, Any] = {}
        sealed_under: set[str] = set()
        for grant in grants:
            for name, basis in json.loads(grant.basis).items():
                if field is None or field_of(name)[0] == field:
                    bases[name] = basis
                    sealed_under.add(grant.policy_version)
        if not received and self.store.records.position_of(case_id, version) is None:
            raise NotFound(f"no event {version} of case {case_id}")
        in_force = self.in_force()
        return {
            "case_id": str(case_id),
            "version": version,
            "organisation": organisation,
            "field": field,
            "received_event": received,
            "granted": bool(bases),
            "fields": bases,
            "policy_versions": sorted(sealed_under),
            "in_force": in_force.label,
            "changed_since": bool(sealed_under) and sealed_under != {in_force.label},
        }

    # ---- decisions -------------------------------------------------------------------------

    def approve(
        self,
        proposal_id: str,
        by: Client,
        *,
        reason: str,
        effective_from: datetime | None = None,
        history: str = HISTORY_ALL,
    ) -> tuple[VersionRow, JobRow | None]:
        """Activate the proposal as the next version from `effective_from` (now, or a later
        moment: until then the version before it stays in force, in every process); four
        eyes: never the proposer's organisation. With history `all`, a re-seal job brings
        stored events in line once the version is in force."""
        proposal = self._decidable(proposal_id, by, reason)
        if history not in (HISTORY_ALL, HISTORY_NEW):
            raise ProposalError("history is 'all' or 'new'")
        now = self.clock()
        moment = effective_from or now
        waiting = self.scheduled()
        if waiting is not None:
            raise StaleBase(
                f"version {waiting.version} takes effect at {waiting.effective_from.isoformat()}: "
                "approve another version once it is in force"
            )
        base = self.version(proposal.base_version)
        matrix = self.compile(proposal.document, "proposal")
        version = proposal.base_version + 1
        row = VersionRow(
            version,
            label_of(version, matrix.policy),
            proposal.document,
            proposal.tests,
            proposal.digest,
            proposal.proposal_id,
            now,
            moment,
            history,
            by.client_id,
            reason,
        )
        job = (
            JobRow(str(uuid.uuid4()), version, "pending", 0, 0, None, 0, 0, now, now)
            if history == HISTORY_ALL
            else None
        )
        decided = _decided(proposal, by, now, reason, "approved", version, moment, history)
        if not self.table.activate(
            row,
            base_version=proposal.base_version,
            base_label=base.label,
            decided=decided,
            job=job,
            now=now,
        ):
            raise StaleBase(
                f"base version {proposal.base_version} is no longer in force: propose again"
            )
        self.sealer.refresh()
        trail = self.store.audit
        if trail is not None:
            trail.record(
                [trail.entry(POLICY_CHANGED, reason=f"version {version} ({proposal_id}): {reason}")]
            )
        log.info("policy activated", version=version, proposal=proposal_id, by=by.client_id)
        return row, job

    def reject(self, proposal_id: str, by: Client, *, reason: str) -> ProposalRow:
        proposal = self._decidable(proposal_id, by, reason)
        decided = _decided(proposal, by, self.clock(), reason, "rejected", None, None, None)
        if not self.table.reject(decided):
            raise AlreadyDecided(f"proposal {proposal_id} was already decided")
        return decided

    def _decidable(self, proposal_id: str, by: Client, reason: str) -> ProposalRow:
        self._officer(by)
        proposal = self.proposal(proposal_id)
        if proposal.status != "open":
            raise AlreadyDecided(f"proposal {proposal_id} was already {proposal.status}")
        if by.client_id == proposal.proposed_by or by.org_id == proposal.proposed_org:
            raise FourEyes(
                "four eyes: a privacy officer of another organisation than the proposer's "
                "decides a proposal"
            )
        if not reason.strip():
            raise ProposalError("a decision needs a reason")
        return proposal

    @staticmethod
    def _officer(by: Client) -> None:
        if by.role is not ClientRole.privacy_officer:
            raise FourEyes("only a privacy officer proposes and decides policy changes")

    # ---- re-seal jobs ----------------------------------------------------------------------

    def job(self, job_id: str) -> JobRow:
        return self.reseal.job(job_id)

    def jobs(self) -> list[JobRow]:
        return self.reseal.jobs()

    def run_job(
        self,
        job_id: str,
        worker_id: str,
        *,
        progress: Progress | None = None,
        take_over: bool = False,
    ) -> JobRow:
        """Run a re-seal job to its end, resumably (casestore.services.reseal_job)."""
        return self.reseal.run(job_id, worker_id, progress=progress, take_over=take_over)

    def run_job_in_background(self, job_id: str, worker_id: str) -> None:
        self.reseal.run_in_background(job_id, worker_id)

    def unfinished_jobs(self) -> list[JobRow]:
        return self.reseal.unfinished()


def _decided(
    p: ProposalRow,
    by: Client,
    now: datetime,
    reason: str,
    status: str,
    version: int | None,
    moment: datetime | None,
    history: str | None,
) -> ProposalRow:
    return replace(
        p,
        status=status,
        decided_by=by.client_id,
        decided_org=by.org_id,
        decided_at=now,
        decision_reason=reason,
        version=version,
        effective_from=moment,
        history=history,
    )
