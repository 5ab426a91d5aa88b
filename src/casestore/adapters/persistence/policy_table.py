"""The policy in the store: its versions, the one in force, proposals, re-seal jobs, notices.

`policy_current` is the cheap counter every writer is checked against: its one row names
the label in force, and the triggers of migration 7 refuse a grant or access row sealed
under another. Activating a version updates that row in the same transaction as the new
version's row and the proposal's decision, so a version is in force exactly when it is
recorded as such. A version approved for a later moment waits in the same row (`next_*`,
migration 11) and is in force from that moment on: each grant and access row states when
it was sealed, and the triggers judge its label by the version in force at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.rows import columns, from_row, stamp, values
from sharing.keys import format_time

SUPERSEDED = "casestore: policy version superseded"
"""What the triggers say when a row is sealed under a version no longer in force."""


@dataclass(frozen=True)
class VersionRow:
    version: int
    label: str
    document: str  # the policy YAML as proposed, comments and all
    tests: str | None  # its allow/deny cases (YAML), if given
    digest: str
    proposal_id: str | None
    activated_at: datetime
    effective_from: datetime
    history: str  # "all": stored history re-sealed; "new": new events only
    approved_by: str | None
    reason: str | None


@dataclass(frozen=True)
class PolicyState:
    """The `policy_current` row: the version in force and the one scheduled after it."""

    version: int
    label: str
    next_version: int | None = None
    next_label: str | None = None
    next_from: datetime | None = None

    def at(self, moment: datetime) -> tuple[int, str]:
        """The version number and label in force at `moment`."""
        if self.next_from is not None and self.next_from <= moment:
            assert self.next_version is not None and self.next_label is not None  # noqa: S101
            return self.next_version, self.next_label
        return self.version, self.label

    def pending(self, moment: datetime) -> tuple[int, str, datetime] | None:
        """The version scheduled to take effect after `moment`, if any."""
        if self.next_from is None or self.next_from <= moment:
            return None
        assert self.next_version is not None and self.next_label is not None  # noqa: S101
        return self.next_version, self.next_label, self.next_from

    @property
    def newest(self) -> int:
        """The newest approved version, in force or scheduled: what proposals build on."""
        return self.next_version if self.next_version is not None else self.version


@dataclass(frozen=True)
class ProposalRow:
    proposal_id: str
    base_version: int
    document: str
    tests: str | None
    digest: str
    proposed_by: str  # client id
    proposed_org: str
    reason: str
    dpia_reference: str
    vastgesteld_on: str  # ISO date the convenant partners agreed it
    created_at: datetime
    status: str  # open | approved | rejected
    decided_by: str | None = None
    decided_org: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    version: int | None = None
    effective_from: datetime | None = None
    history: str | None = None


@dataclass(frozen=True)
class JobRow:
    job_id: str
    version: int
    status: str  # pending | running | done
    total: int
    done: int
    last_case: str | None  # cases are taken in id order: every case up to it is done
    granted: int
    revoked: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    worker_id: str | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class NoticeRow:
    org_id: str
    position: int
    case_id: str
    version: int
    event_id: str
    fields: str  # comma-separated
    policy_version: str
    noticed_at: datetime


@dataclass(frozen=True)
class Notice(NoticeRow):
    """A stored notice with its number: readers (the live stream, webhooks) follow it."""

    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        """As partners receive it: on the feed, the live stream and webhooks alike."""
        return {
            "seq": self.seq,
            "position": self.position,
            "case_id": self.case_id,
            "version": self.version,
            "event_id": self.event_id,
            "fields": [f for f in self.fields.split(",") if f],
            "policy_version": self.policy_version,
            "noticed_at": format_time(self.noticed_at),
        }


class PolicyTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._t = backend.table

    # ---- versions --------------------------------------------------------------------------

    def state(self) -> PolicyState | None:
        """The version in force and any scheduled after it (None: a store not yet seeded)."""
        row = self.backend.one(
            f"SELECT version, label, next_version, next_label, next_from "
            f"FROM {self._t('policy_current')} WHERE singleton = 1"
        )
        return None if row is None else from_row(PolicyState, row)

    def version(self, version: int) -> VersionRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._t('policy_versions')} WHERE version = %s", (version,)
        )
        return None if row is None else from_row(VersionRow, row)

    def versions(self) -> list[VersionRow]:
        rows = self.backend.all(f"SELECT * FROM {self._t('policy_versions')} ORDER BY version")
        return [from_row(VersionRow, r) for r in rows]

    def seed(self, row: VersionRow) -> bool:
        """Put version 1 in force in a store that has none; False when one is there."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"INSERT INTO {self._t('policy_current')} (singleton, version, label) "
                    "VALUES (1, %s, %s) ON CONFLICT (singleton) DO NOTHING RETURNING version"
                ),
                (row.version, row.label),
            )
            if cursor.fetchone() is None:
                return False
            self._insert(cursor, "policy_versions", VersionRow, [row])
        return True

    def activate(
        self,
        row: VersionRow,
        *,
        base_version: int,
        decided: ProposalRow,
        base_label: str,
        job: JobRow | None,
        now: datetime,
    ) -> bool:
        """Put `row` in force from its `effective_from` (now or later) if `base_version` is
        the newest version and no other waits to take effect, recording the proposal's
        decision (and the re-seal job) with it; False when another version came first."""
        later = row.effective_from > now
        in_force = (base_version, base_label) if later else (row.version, row.label)
        scheduled = (row.version, row.label, stamp(row.effective_from)) if later else (None,) * 3
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('policy_current')} SET version = %s, label = %s, "
                    "next_version = %s, next_label = %s, next_from = %s "
                    "WHERE singleton = 1 AND COALESCE(next_version, version) = %s "
                    "AND (next_from IS NULL OR next_from <= %s) RETURNING version"
                ),
                (*in_force, *scheduled, base_version, stamp(now)),
            )
            if cursor.fetchone() is None:
                return False
            if not self._decide(cursor, decided):
                raise RuntimeError("the proposal was decided while being approved")
            self._insert(cursor, "policy_versions", VersionRow, [row])
            if job is not None:
                self._insert(cursor, "policy_jobs", JobRow, [job])
        return True

    # ---- proposals -------------------------------------------------------------------------

    def propose(self, row: ProposalRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self._insert(cursor, "policy_proposals", ProposalRow, [row])

    def proposal(self, proposal_id: str) -> ProposalRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._t('policy_proposals')} WHERE proposal_id = %s",
            (proposal_id,),
        )
        return None if row is None else from_row(ProposalRow, row)

    def proposals(self) -> list[ProposalRow]:
        rows = self.backend.all(
            f"SELECT * FROM {self._t('policy_proposals')} ORDER BY created_at, proposal_id"
        )
        return [from_row(ProposalRow, r) for r in rows]

    def reject(self, decided: ProposalRow) -> bool:
        with self.backend.transaction(commit=True) as cursor:
            return self._decide(cursor, decided)

    def _decide(self, cursor: Cursor, p: ProposalRow) -> bool:
        """Record a decision on an open proposal, once: a replay finds it decided."""
        cursor.execute(
            self.backend.sql(
                f"UPDATE {self._t('policy_proposals')} SET status = %s, decided_by = %s, "
                "decided_org = %s, decided_at = %s, decision_reason = %s, version = %s, "
                "effective_from = %s, history = %s "
                "WHERE proposal_id = %s AND status = 'open' RETURNING proposal_id"
            ),
            (
                p.status,
                p.decided_by,
                p.decided_org,
                None if p.decided_at is None else stamp(p.decided_at),
                p.decision_reason,
                p.version,
                None if p.effective_from is None else stamp(p.effective_from),
                p.history,
                p.proposal_id,
            ),
        )
        return cursor.fetchone() is not None

    # ---- jobs ------------------------------------------------------------------------------

    def job(self, job_id: str) -> JobRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._t('policy_jobs')} WHERE job_id = %s", (job_id,)
        )
        return None if row is None else from_row(JobRow, row)

    def jobs(self) -> list[JobRow]:
        rows = self.backend.all(f"SELECT * FROM {self._t('policy_jobs')} ORDER BY created_at")
        return [from_row(JobRow, r) for r in rows]

    def claim_job(self, job_id: str, worker_id: str, now: datetime, until: datetime) -> bool:
        """Take an unfinished job's lease if it is free, expired, or ours."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('policy_jobs')} SET worker_id = %s, locked_until = %s, "
                    "status = 'running' WHERE job_id = %s AND status <> 'done' AND "
                    "(locked_until IS NULL OR locked_until < %s OR worker_id = %s) "
                    "RETURNING job_id"
                ),
                (worker_id, stamp(until), job_id, stamp(now), worker_id),
            )
            return cursor.fetchone() is not None

    def advance_job(
        self,
        job_id: str,
        worker_id: str,
        *,
        total: int,
        done: int,
        last_case: str | None,
        granted: int,
        revoked: int,
        now: datetime,
        until: datetime,
        finished: bool,
    ) -> bool:
        """Record progress (and renew the lease); False when the lease was lost."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('policy_jobs')} SET total = %s, done = %s, "
                    "last_case = %s, granted = %s, revoked = %s, updated_at = %s, "
                    "locked_until = %s, status = %s, finished_at = %s, "
                    "worker_id = CASE WHEN %s THEN NULL ELSE worker_id END "
                    "WHERE job_id = %s AND worker_id = %s RETURNING job_id"
                ),
                (
                    total,
                    done,
                    last_case,
                    granted,
                    revoked,
                    stamp(now),
                    None if finished else stamp(until),
                    "done" if finished else "running",
                    stamp(now) if finished else None,
                    finished,
                    job_id,
                    worker_id,
                ),
            )
            return cursor.fetchone() is not None

    # ---- notices ---------------------------------------------------------------------------

    def notices(self, org_id: str, limit: int = 100) -> list[Notice]:
        """The organisation's latest notices, newest first."""
        rows = self.backend.all(
            f"SELECT * FROM {self._t('policy_notices')} WHERE org_id = %s "
            "ORDER BY seq DESC LIMIT %s",
            (org_id, limit),
        )
        return [from_row(Notice, r) for r in rows]

    def notices_after(self, org_id: str, seq: int, limit: int = 100) -> list[Notice]:
        """The organisation's notices numbered after `seq`, oldest first."""
        rows = self.backend.all(
            f"SELECT * FROM {self._t('policy_notices')} WHERE org_id = %s AND seq > %s "
            "ORDER BY seq LIMIT %s",
            (org_id, seq, limit),
        )
        return [from_row(Notice, r) for r in rows]

    def last_notice(self, org_id: str | None = None) -> int:
        """The highest notice number (of one organisation; 0: none yet)."""
        if org_id is None:
            row = self.backend.one(f"SELECT MAX(seq) AS seq FROM {self._t('policy_notices')}")
        else:
            row = self.backend.one(
                f"SELECT MAX(seq) AS seq FROM {self._t('policy_notices')} WHERE org_id = %s",
                (org_id,),
            )
        return 0 if row is None or row["seq"] is None else int(row["seq"])

    def _insert(self, cursor: Cursor, table: str, cls: type, rows: Sequence[object]) -> None:
        self.backend.insert(cursor, table, columns(cls), [values(r) for r in rows])
