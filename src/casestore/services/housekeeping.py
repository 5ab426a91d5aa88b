"""Scheduled housekeeping: what must happen because time passed, not because someone asked.

Sealing grants what the rules in force allow when an event is written, and a rule's
validity is part of the policy: when a rule's `valid_until` has passed, what it granted
must be revoked, and when a `valid_from` comes, what it grants must be sealed. Nothing
else happens at that moment to set this off, so a pass runs every minute or so in the
worker process (`casestore worker`, or `casestore serve --with-worker`) and reconciles
every case's grants when a validity boundary has been crossed since the last pass that
finished (or, on the very first pass, at any time before), recording each change in the
grant history with the boundary as its reason. A worker that was stopped across a
boundary acts on it at its next pass. Key generations have boundaries too: one coming
into use (`casestore keys rotate`) and one retired (its organisation confirmed the next,
possibly through the API) each make the next pass reconcile. The same pass revokes what
rested on a toestemming or a conflict van plichten whose expiry has passed (each such grant
records when its condition ends). Each pass also signs a checkpoint of the audit trail's
head when entries were chained since the last (casestore.services.audit), so every minute
of activity ends under the custodian's signature.

Once a day (`RETENTION_EVERY`) a pass also enforces retention (casestore.services.retention):
grants past their rules' terms are deleted and cases past their term destroyed. It is a
job of its own in the same table, so its lease and last run are apart from the rules'.

Several workers may run: the job's lease (casestore.adapters.persistence.housekeeping_table)
keeps a pass with one of them at a time, and a pass only moves `last_run_at` when it
finishes, so a worker that dies mid-pass leaves the work to the next one.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from secrets import token_hex
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from casestore.adapters.persistence.housekeeping_table import HousekeepingTable
from casestore.services.audit import AuditTrail
from casestore.services.case_store import Clock
from casestore.services.grants import GrantChanges, Grants
from casestore.services.policy_versions import AlreadyDecided, PolicyBook
from casestore.services.retention import Retention, RunReport
from casestore.services.worklist import Worklist
from sharing.keys import OrgPublicKeys, parse_time
from sharing.policy.model import Rule

log = structlog.get_logger("casestore.services.housekeeping")

JOB = "housekeeping"
RETENTION_JOB = "retention"
RETENTION_EVERY = timedelta(days=1)
LEASE = timedelta(minutes=10)  # outlasts a reconciliation of every case
INTERVAL_SECONDS = 60.0
RESTRICTION_ENDED = "a beperking ended on its tot date"
CONDITION_ENDED = "a toestemming or conflict van plichten ended (expired or withdrawn)"


@dataclass(frozen=True)
class Boundary:
    """A moment at which the rules in force change: a rule begins or ends."""

    at: datetime
    rule: str
    began: bool
    day: date  # the rule's own date: valid_from, or valid_until

    def __str__(self) -> str:
        if self.began:
            return f"rule {self.rule} came into force (valid from {self.day.isoformat()})"
        return f"rule {self.rule} expired (valid until {self.day.isoformat()})"


def boundaries(rules: Iterable[Rule], zone: ZoneInfo) -> list[Boundary]:
    """Every rule's validity boundaries, as moments: its dates are inclusive and local to
    the policy's zone, so a rule ends at midnight after its `valid_until` there."""

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone)

    found = []
    for rule in rules:
        if rule.valid_from is not None:
            found.append(Boundary(midnight(rule.valid_from), rule.id, True, rule.valid_from))
        if rule.valid_until is not None and rule.valid_until < date.max:
            end = midnight(rule.valid_until + timedelta(days=1))
            found.append(Boundary(end, rule.id, False, rule.valid_until))
    return sorted(found, key=lambda b: (b.at, b.rule))


@dataclass(frozen=True)
class KeyBoundary:
    """A moment at which an organisation's granted keys change: a generation comes into use
    (its history is re-granted to it) or is retired (its grants go)."""

    at: datetime
    org_id: str
    generation: int
    began: bool

    def __str__(self) -> str:
        done = "came into use" if self.began else "was retired"
        return f"key generation {self.generation} of {self.org_id} {done}"


def key_boundaries(records: Iterable[OrgPublicKeys]) -> list[KeyBoundary]:
    """Every numbered key generation's validity boundaries."""
    found = []
    for r in records:
        if r.generation is None:
            continue
        found.append(KeyBoundary(r.valid_from, r.org_id, r.generation, True))
        if r.retired_at is not None:
            found.append(KeyBoundary(r.retired_at, r.org_id, r.generation, False))
    return sorted(found, key=lambda b: (b.at, b.org_id, b.generation))


@dataclass(frozen=True)
class Pass:
    """What one pass found due and did."""

    started: datetime
    crossed: tuple[Boundary | KeyBoundary, ...]
    changes: GrantChanges | None  # None: nothing was due
    retention: RunReport | None = None  # None: retention was not due


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{token_hex(3)}"


class Housekeeping:
    def __init__(
        self,
        grants: Grants,
        table: HousekeepingTable,
        clock: Clock,
        *,
        worker_id: str | None = None,
        lease: timedelta = LEASE,
        audit: AuditTrail | None = None,
        policy: PolicyBook | None = None,
        retention: Retention | None = None,
        worklist: Worklist | None = None,
    ) -> None:
        self.grants = grants
        self.worklist = worklist
        self.audit = audit
        self.policy = policy
        self.retention = retention
        self.table = table
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.lease = lease
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Pass | None:
        """One pass, if no other worker is running one (None then)."""
        started = self.clock()
        row = self.table.claim(JOB, self.worker_id, started, started + self.lease)
        if row is None:
            return None
        try:
            done = self._expire_and_begin_rules(row.last_run_at, started)
            ended = self._end_conditions(row.last_run_at, started)
            lifted = self._end_restrictions(row.last_run_at, started)
            if lifted is not None:
                ended = lifted if ended is None else ended + lifted
            if ended is not None:
                changes = ended if done.changes is None else done.changes + ended
                done = Pass(done.started, done.crossed, changes)
            if self.audit is not None:
                self.audit.checkpoint()  # the head signed, if anything was chained since
        except BaseException:
            self.table.release(JOB, self.worker_id)
            raise
        self.table.finish(JOB, self.worker_id, started)
        return replace(done, retention=self._enforce_retention(started))

    def _enforce_retention(self, started: datetime) -> RunReport | None:
        """Retention's daily run, when a day has passed since the last that finished."""
        if self.retention is None:
            return None
        row = self.table.claim(RETENTION_JOB, self.worker_id, started, started + self.lease)
        if row is None:
            return None
        if row.last_run_at is not None and started < row.last_run_at + RETENTION_EVERY:
            self.table.release(RETENTION_JOB, self.worker_id)
            return None
        try:
            report = self.retention.run()
        except BaseException:
            self.table.release(RETENTION_JOB, self.worker_id)
            raise
        self.table.finish(RETENTION_JOB, self.worker_id, started)
        return report

    def resume_policy_jobs(self) -> int:
        """Run on every re-seal job that nobody holds (its process died, or approval came
        over HTTP); how many were finished."""
        if self.policy is None:
            return 0
        finished = 0
        for job in self.policy.unfinished_jobs():
            try:
                self.policy.run_job(job.job_id, self.worker_id)
            except AlreadyDecided:  # another worker holds it
                continue
            finished += 1
        return finished

    def _expire_and_begin_rules(self, since: datetime | None, now: datetime) -> Pass:
        self.grants.sealer.refresh()
        policy = self.grants.sealer.matrix.policy
        every: list[Boundary | KeyBoundary] = [*boundaries(policy.rules, policy.zone)]
        every += key_boundaries(self.grants.sealer.keyring.records())
        crossed = tuple(b for b in every if (since is None or since < b.at) and b.at <= now)
        if not crossed:
            return Pass(now, crossed, None)
        reason = "; ".join(str(b) for b in crossed)
        changes = self.grants.reconcile_all(reason)
        log.info("rules or keys changed: grants reconciled", reason=reason, **vars(changes))
        return Pass(now, crossed, changes)

    def _end_conditions(self, since: datetime | None, now: datetime) -> GrantChanges | None:
        """Reconcile each case with a grant resting on a toestemming or conflict van
        plichten whose end (expiry, withdrawal) has passed since the last pass: nothing
        else happens at that moment to revoke what rested on it."""
        due = sorted(
            {
                case_id
                for case_id, end in self.grants.store.records.tables.condition_ends()
                if (since is None or since < parse_time(end)) and parse_time(end) <= now
            }
        )
        return self._reconcile(due, CONDITION_ENDED, "condition records ended")

    def _end_restrictions(self, since: datetime | None, now: datetime) -> GrantChanges | None:
        """Reconcile each case whose beperking ended by its `tot` since the last pass: what
        it held back is granted then, and the partners are told as after a lifting."""
        if self.worklist is None:
            return None
        due = self.worklist.restrictions_ended(since, now)
        return self._reconcile(due, RESTRICTION_ENDED, "beperkingen ended")

    def _reconcile(self, due: list[str], reason: str, what: str) -> GrantChanges | None:
        """Reconcile the cases something ended in since the last pass (None: none)."""
        if not due:
            return None
        total = GrantChanges(0, 0, 0, 0)
        for case_id in due:
            total = total + self.grants.reconcile_case(UUID(case_id), reason)
        log.info(f"{what}: grants reconciled", cases=len(due), **vars(total))
        return total

    # ---- in the worker process -------------------------------------------------------------

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        """Run a pass now and every `interval` seconds, in a thread, until `stop()`."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name="housekeeping", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def catch_up_worklist(self) -> int:
        """Fold what was recorded since into the worklist's projection, so that the first
        coordinator to open the list after a quiet night or a bulk import does not wait
        for all of it. A request still catches up what came after (the projection is
        incremental and safe to fold from several processes at once)."""
        return 0 if self.worklist is None else self.worklist.catch_up()

    def _run(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
                self.resume_policy_jobs()
                self.catch_up_worklist()
            except Exception as exc:  # storage away, say: the next pass tries again
                log.warning("housekeeping pass failed", error=type(exc).__name__)
            self._stopping.wait(interval)
