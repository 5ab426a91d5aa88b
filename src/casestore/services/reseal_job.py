"""The job that brings stored history in line with a newly activated policy version:
re-seal from escrow what is newly granted, delete what no longer is.

It runs a page of cases at a time in case id order: the page is planned together and
written in one transaction (`Grants.reconcile_many`), and the job's progress (how far it
got, what it changed) is recorded once per page under a lease. The first pages are small
(1, 1, 2, 4, … cases, up to `PAGE`), so that progress shows at once. A run that dies is resumed
after the last page recorded; a page written but not yet recorded is done again, which
changes nothing (a reconciliation is idempotent), so an interrupted run ends in the same
grants as one that was not. The memory is one page's, however large the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from casestore.adapters.persistence.policy_table import JobRow, PolicyTable, VersionRow
from casestore.services.grants import GrantChanges, Grants
from casestore.services.policy_errors import AlreadyDecided, NotFound, ProposalError

log = structlog.get_logger("casestore.policy")

LEASE = timedelta(seconds=30)
PAGE = 50
"""Cases planned and written together."""
Progress = Callable[[int, int], None]


class ResealJobs:
    """The re-seal jobs of one store."""

    def __init__(
        self,
        table: PolicyTable,
        grants: Grants,
        clock: Callable[[], datetime],
        in_force: Callable[[], VersionRow],
    ) -> None:
        self.table = table
        self.grants = grants
        self.clock = clock
        self.in_force = in_force

    def job(self, job_id: str) -> JobRow:
        row = self.table.job(job_id)
        if row is None:
            raise NotFound(f"no re-seal job {job_id}")
        return row

    def jobs(self) -> list[JobRow]:
        return self.table.jobs()

    def unfinished(self) -> list[JobRow]:
        return [j for j in self.table.jobs() if j.status != "done"]

    def run(
        self,
        job_id: str,
        worker_id: str,
        *,
        progress: Progress | None = None,
        take_over: bool = False,
    ) -> JobRow:
        """Re-seal and revoke a page of cases at a time, in case id order, recording after
        each page how far it got (see the module's docstring)."""
        job = self.job(job_id)
        if job.status == "done":
            return job
        if self.in_force().version < job.version:
            return job  # scheduled: the worker takes it up once the version is in force
        now = self.clock()
        holder = job.worker_id if take_over and job.worker_id else worker_id
        if not self.table.claim_job(job_id, holder, now, now + LEASE):
            raise AlreadyDecided(f"re-seal job {job_id} is being run by {job.worker_id}")
        self.grants.sealer.refresh()
        in_force = self.in_force()
        reason = f"policy version {in_force.version} activated"
        tables = self.grants.store.records.tables
        total = tables.count_cases()
        done = total - tables.count_cases(after=job.last_case)
        changes = GrantChanges(job.granted, job.revoked, 0, 0)
        last = job.last_case
        ran = 0  # cases done by this run: each page as large, up to PAGE
        while page := tables.case_page(min(PAGE, max(1, ran)), after=last):
            ran += len(page)
            live = [cid for cid, shredded in page if not shredded]
            if live:
                changes = changes + self.grants.reconcile_many(live, reason)
            done, last = done + len(page), page[-1][0]
            total = max(total, done)  # cases opened meanwhile
            now = self.clock()
            if not self.table.advance_job(
                job_id,
                holder,
                total=total,
                done=done,
                last_case=last,
                granted=changes.granted,
                revoked=changes.revoked,
                now=now,
                until=now + LEASE,
                finished=False,
            ):
                raise AlreadyDecided(f"re-seal job {job_id} was taken over")
            if progress is not None:
                progress(done, total)
        now = self.clock()
        self.table.advance_job(
            job_id,
            holder,
            total=max(total, done),
            done=done,
            last_case=last,
            granted=changes.granted,
            revoked=changes.revoked,
            now=now,
            until=now,
            finished=True,
        )
        return self.job(job_id)

    def run_in_background(self, job_id: str, worker_id: str) -> None:
        """Run a job after the answer went out; whatever stops it is logged, and the
        worker takes it up again (`Housekeeping.resume_policy_jobs`)."""
        try:
            self.run(job_id, worker_id)
        except ProposalError as exc:  # another worker has it
            log.info("re-seal job left to another worker", job=job_id, reason=str(exc))
        except Exception as exc:  # storage away, say: the worker resumes it
            log.warning("re-seal job stopped", job=job_id, error=type(exc).__name__)
