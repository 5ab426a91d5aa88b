"""Webhook subscriptions and their delivery attempts.

A subscription's `position` is the last event its receiver acknowledged; it only moves in
the same transaction that records the acknowledging attempt. A worker holds a
subscription through a lease (`worker_id`, `locked_until`) taken with a conditional
UPDATE, and every later write of that worker is conditional on still holding it: a worker
that lost its lease (it stalled past `locked_until` and another took over) records
nothing, so an acknowledgement is never recorded twice nor a position moved backwards.

Times are stored as fixed-width UTC text (casestore.adapters.persistence.rows), so they
compare correctly as strings on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import columns, from_row, stamp, values

ACTIVE = "active"
PARKED = "parked"


@dataclass(frozen=True)
class SubscriptionRow:
    subscription_id: str
    org_id: str
    url: str
    description: str
    secret: str  # the signing secret, wrapped (see casestore.services.webhooks.subscriptions)
    status: str
    position: int  # the last acknowledged position
    created_at: datetime
    parked_at: datetime | None = None
    attempts: int = 0  # attempts at the event after `position`, all runs
    failures: int = 0  # failed attempts in the current retry run (resets on resume)
    failing_since: datetime | None = None  # first failure of the current run
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    worker_id: str | None = None
    locked_until: datetime | None = None
    notice_seq: int = 0  # the last policy notice acknowledged


@dataclass(frozen=True)
class AttemptRow:
    subscription_id: str
    position: int
    attempt: int
    webhook_id: str
    event_id: str
    attempted_at: datetime
    outcome: str  # delivered | failed | parked
    status_code: int | None = None
    error: str | None = None
    next_retry_at: datetime | None = None
    duration_ms: int | None = None
    kind: str = "event"  # event | notice (whose `position` is then the notice's seq)


class SubscriptionTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._t = backend.table

    # ---- the partner's side: create, read, delete, resume ---------------------------------

    def add(self, row: SubscriptionRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(cursor, "subscriptions", columns(SubscriptionRow), [values(row)])

    def get(self, subscription_id: str) -> SubscriptionRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._t('subscriptions')} WHERE subscription_id = %s",
            (subscription_id,),
        )
        return None if row is None else from_row(SubscriptionRow, row)

    def of(self, org_id: str | None = None) -> list[SubscriptionRow]:
        """An organisation's subscriptions (everyone's without `org_id`), oldest first."""
        where, params = ("", ()) if org_id is None else ("WHERE org_id = %s ", (org_id,))
        rows = self.backend.all(
            f"SELECT * FROM {self._t('subscriptions')} {where}ORDER BY created_at, subscription_id",
            params,
        )
        return [from_row(SubscriptionRow, r) for r in rows]

    def figures(self) -> tuple[int, int | None]:
        """Parked subscriptions, and the lowest position of an active one (None: none)."""
        row = self.backend.one(
            f"SELECT SUM(CASE WHEN status = %s THEN 1 ELSE 0 END) AS parked, "
            f"MIN(CASE WHEN status = %s THEN position END) AS oldest "
            f"FROM {self._t('subscriptions')}",
            (PARKED, ACTIVE),
        )
        if row is None:
            return 0, None
        oldest = row["oldest"]
        return int(row["parked"] or 0), None if oldest is None else int(oldest)

    def delete(self, subscription_id: str) -> None:
        with self.backend.transaction(commit=True) as cursor:
            for table in ("delivery_attempts", "subscriptions"):
                cursor.execute(
                    self.backend.sql(f"DELETE FROM {self._t(table)} WHERE subscription_id = %s"),
                    (subscription_id,),
                )

    def resume(self, subscription_id: str) -> None:
        """Active again, its undelivered event due now, with a fresh retry run."""
        self.backend.write(
            f"UPDATE {self._t('subscriptions')} SET status = %s, parked_at = NULL, "
            "failures = 0, failing_since = NULL, next_attempt_at = NULL "
            "WHERE subscription_id = %s AND status = %s",
            (ACTIVE, subscription_id, PARKED),
        )

    def attempts_of(self, subscription_id: str, limit: int) -> list[AttemptRow]:
        """The latest attempts first."""
        rows = self.backend.all(
            f"SELECT * FROM {self._t('delivery_attempts')} WHERE subscription_id = %s "
            "ORDER BY position DESC, attempt DESC LIMIT %s",
            (subscription_id, limit),
        )
        return [from_row(AttemptRow, r) for r in rows]

    # ---- the worker's side: lease, acknowledge, fail --------------------------------------

    def due(self, now: datetime, worker_id: str) -> list[SubscriptionRow]:
        """Active subscriptions no other worker holds and not waiting for a retry."""
        at = stamp(now)
        rows = self.backend.all(
            f"SELECT * FROM {self._t('subscriptions')} WHERE status = %s "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
            "AND (locked_until IS NULL OR locked_until < %s OR worker_id = %s) "
            "ORDER BY subscription_id",
            (ACTIVE, at, at, worker_id),
        )
        return [from_row(SubscriptionRow, r) for r in rows]

    def claim(
        self, subscription_id: str, worker_id: str, now: datetime, until: datetime
    ) -> SubscriptionRow | None:
        """Take the lease if the subscription is due and free (or already ours)."""
        at = stamp(now)
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('subscriptions')} SET worker_id = %s, locked_until = %s "
                    "WHERE subscription_id = %s AND status = %s "
                    "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
                    "AND (locked_until IS NULL OR locked_until < %s OR worker_id = %s) "
                    "RETURNING *"
                ),
                (worker_id, stamp(until), subscription_id, ACTIVE, at, at, worker_id),
            )
            row = cursor.fetchone()
        return None if row is None else from_row(SubscriptionRow, row)

    def renew(self, worker_id: str, until: datetime) -> None:
        """Extend every lease `worker_id` still holds (none it lost to another worker)."""
        self.backend.write(
            f"UPDATE {self._t('subscriptions')} SET locked_until = %s "
            "WHERE worker_id = %s AND locked_until IS NOT NULL",
            (stamp(until), worker_id),
        )

    def release(self, subscription_id: str, worker_id: str) -> None:
        self.backend.write(
            f"UPDATE {self._t('subscriptions')} SET worker_id = NULL, locked_until = NULL "
            "WHERE subscription_id = %s AND worker_id = %s",
            (subscription_id, worker_id),
        )

    def acknowledge(
        self, attempt: AttemptRow, worker_id: str, *, after: int, lease_until: datetime
    ) -> bool:
        """Record a 2xx and move the position from `after` to the event's, in one
        transaction; False (and nothing written) when this worker no longer holds the
        subscription or it moved on."""
        return self._record(
            attempt,
            f"UPDATE {self._t('subscriptions')} SET position = %s, attempts = 0, "
            "failures = 0, failing_since = NULL, next_attempt_at = NULL, last_error = NULL, "
            "locked_until = %s WHERE subscription_id = %s AND worker_id = %s "
            "AND position = %s AND status = %s RETURNING subscription_id",
            (
                attempt.position,
                stamp(lease_until),
                attempt.subscription_id,
                worker_id,
                after,
                ACTIVE,
            ),
        )

    def acknowledge_notice(
        self, attempt: AttemptRow, worker_id: str, *, after: int, lease_until: datetime
    ) -> bool:
        """Record a 2xx to a notice and move the notice number from `after` to its seq, in
        one transaction; False when this worker no longer holds the subscription."""
        return self._record(
            attempt,
            f"UPDATE {self._t('subscriptions')} SET notice_seq = %s, attempts = 0, "
            "failures = 0, failing_since = NULL, next_attempt_at = NULL, last_error = NULL, "
            "locked_until = %s WHERE subscription_id = %s AND worker_id = %s "
            "AND notice_seq = %s AND status = %s RETURNING subscription_id",
            (
                attempt.position,
                stamp(lease_until),
                attempt.subscription_id,
                worker_id,
                after,
                ACTIVE,
            ),
        )

    def pass_notice(self, subscription_id: str, worker_id: str, *, after: int, seq: int) -> bool:
        """Move past a notice without sending it (its event is still ahead of the
        subscription's position, and will carry the fields itself)."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._t('subscriptions')} SET notice_seq = %s "
                    "WHERE subscription_id = %s AND worker_id = %s AND notice_seq = %s "
                    "RETURNING subscription_id"
                ),
                (seq, subscription_id, worker_id, after),
            )
            return cursor.fetchone() is not None

    def fail(
        self,
        attempt: AttemptRow,
        worker_id: str,
        *,
        after: int,
        failures: int,
        failing_since: datetime,
        park: bool,
    ) -> bool:
        """Record a failed attempt and when to retry (or park); gives up the lease.
        `after` is the position the subscription must still be at."""
        retry_at = attempt.next_retry_at
        return self._record(
            attempt,
            f"UPDATE {self._t('subscriptions')} SET attempts = %s, failures = %s, "
            "failing_since = %s, next_attempt_at = %s, last_error = %s, status = %s, "
            "parked_at = %s, worker_id = NULL, locked_until = NULL "
            "WHERE subscription_id = %s AND worker_id = %s AND position = %s AND status = %s "
            "RETURNING subscription_id",
            (
                attempt.attempt,
                failures,
                stamp(failing_since),
                None if retry_at is None else stamp(retry_at),
                attempt.error,
                PARKED if park else ACTIVE,
                stamp(attempt.attempted_at) if park else None,
                attempt.subscription_id,
                worker_id,
                after,
                ACTIVE,
            ),
        )

    def _record(self, attempt: AttemptRow, update: str, params: tuple[Any, ...]) -> bool:
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(self.backend.sql(update), params)
            if cursor.fetchone() is None:
                return False
            self.backend.insert(cursor, "delivery_attempts", columns(AttemptRow), [values(attempt)])
            return True
