"""Webhook subscriptions and their delivery attempts.

A subscription's `position` is the last event its receiver acknowledged; it only moves in
the same transaction that records the acknowledging attempt. A worker holds a
subscription through a lease (`worker_id`, `locked_until`) taken with a conditional
UPDATE, and every later write of that worker is conditional on still holding it: a worker
that lost its lease (it stalled past `locked_until` and another took over) records
nothing, so an acknowledgement is never recorded twice nor a position moved backwards.

Times are fixed-width UTC text (`stamp`), so they compare correctly as strings on both
backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from casestore.adapters.persistence.sharing_tables import SideTables

ACTIVE = "active"
PARKED = "parked"


def stamp(moment: datetime) -> str:
    """A time as fixed-width text: lexical order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unstamp(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True)
class SubscriptionRow:
    subscription_id: str
    org_id: str
    url: str
    description: str
    secret: str  # the signing secret, wrapped (see casestore.services.webhooks.subscriptions)
    status: str
    position: int  # the last acknowledged position
    created_at: str
    parked_at: str | None = None
    attempts: int = 0  # attempts at the event after `position`, all runs
    failures: int = 0  # failed attempts in the current retry run (resets on resume)
    failing_since: str | None = None  # first failure of the current run
    next_attempt_at: str | None = None
    last_error: str | None = None
    worker_id: str | None = None
    locked_until: str | None = None


@dataclass(frozen=True)
class AttemptRow:
    subscription_id: str
    position: int
    attempt: int
    webhook_id: str
    event_id: str
    attempted_at: str
    outcome: str  # delivered | failed | parked
    status_code: int | None = None
    error: str | None = None
    next_retry_at: str | None = None
    duration_ms: int | None = None


def subscription_statements(name: Callable[[str], str]) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {name('subscriptions')} ("
        "subscription_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, url TEXT NOT NULL, "
        "description TEXT NOT NULL, secret TEXT NOT NULL, status TEXT NOT NULL, "
        "position BIGINT NOT NULL, created_at TEXT NOT NULL, parked_at TEXT, "
        "attempts BIGINT NOT NULL, failures BIGINT NOT NULL, failing_since TEXT, "
        "next_attempt_at TEXT, last_error TEXT, worker_id TEXT, locked_until TEXT)",
        f"CREATE INDEX IF NOT EXISTS casestore_subscriptions_by_org "
        f"ON {name('subscriptions')} (org_id, created_at)",
        f"CREATE TABLE IF NOT EXISTS {name('delivery_attempts')} ("
        "subscription_id TEXT NOT NULL, position BIGINT NOT NULL, attempt BIGINT NOT NULL, "
        "webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, attempted_at TEXT NOT NULL, "
        "outcome TEXT NOT NULL, status_code BIGINT, error TEXT, next_retry_at TEXT, "
        "duration_ms BIGINT, PRIMARY KEY (subscription_id, position, attempt))",
    ]


_SUBSCRIPTION_COLUMNS = (
    "subscription_id",
    "org_id",
    "url",
    "description",
    "secret",
    "status",
    "position",
    "created_at",
    "attempts",
    "failures",
)
_ATTEMPT_COLUMNS = (
    "subscription_id",
    "position",
    "attempt",
    "webhook_id",
    "event_id",
    "attempted_at",
    "outcome",
    "status_code",
    "error",
    "next_retry_at",
    "duration_ms",
)


class SubscriptionTable(SideTables):
    # ---- the partner's side: create, read, delete, resume ---------------------------------

    def add_subscription(self, row: SubscriptionRow) -> None:
        self._write(
            f"INSERT INTO {self._t('subscriptions')} ({', '.join(_SUBSCRIPTION_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_SUBSCRIPTION_COLUMNS))})",
            tuple(getattr(row, c) for c in _SUBSCRIPTION_COLUMNS),
        )

    def subscription(self, subscription_id: str) -> SubscriptionRow | None:
        row = self._one(
            f"SELECT * FROM {self._t('subscriptions')} WHERE subscription_id = %s",
            (subscription_id,),
        )
        return None if row is None else _subscription(row)

    def subscriptions(self, org_id: str | None = None) -> list[SubscriptionRow]:
        if org_id is None:
            rows = self._all(
                f"SELECT * FROM {self._t('subscriptions')} ORDER BY created_at, subscription_id",
                (),
            )
        else:
            rows = self._all(
                f"SELECT * FROM {self._t('subscriptions')} WHERE org_id = %s "
                "ORDER BY created_at, subscription_id",
                (org_id,),
            )
        return [_subscription(r) for r in rows]

    def delete_subscription(self, subscription_id: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in ("delivery_attempts", "subscriptions"):
                cursor.execute(
                    self._q(f"DELETE FROM {self._t(table)} WHERE subscription_id = %s"),
                    (subscription_id,),
                )

    def resume_subscription(self, subscription_id: str) -> None:
        """Active again, its undelivered event due now, with a fresh retry run."""
        self._write(
            f"UPDATE {self._t('subscriptions')} SET status = %s, parked_at = NULL, "
            "failures = 0, failing_since = NULL, next_attempt_at = NULL "
            "WHERE subscription_id = %s AND status = %s",
            (ACTIVE, subscription_id, PARKED),
        )

    def attempts_of(self, subscription_id: str, limit: int) -> list[AttemptRow]:
        """The latest attempts first."""
        rows = self._all(
            f"SELECT * FROM {self._t('delivery_attempts')} WHERE subscription_id = %s "
            "ORDER BY position DESC, attempt DESC LIMIT %s",
            (subscription_id, limit),
        )
        return [_attempt(r) for r in rows]

    # ---- the worker's side: lease, acknowledge, fail --------------------------------------

    def due_subscriptions(self, now: str, worker_id: str) -> list[SubscriptionRow]:
        """Active subscriptions no other worker holds and not waiting for a retry."""
        rows = self._all(
            f"SELECT * FROM {self._t('subscriptions')} WHERE status = %s "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
            "AND (locked_until IS NULL OR locked_until < %s OR worker_id = %s) "
            "ORDER BY subscription_id",
            (ACTIVE, now, now, worker_id),
        )
        return [_subscription(r) for r in rows]

    def claim(
        self, subscription_id: str, worker_id: str, now: str, until: str
    ) -> SubscriptionRow | None:
        """Take the lease if the subscription is due and free (or already ours)."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._q(
                    f"UPDATE {self._t('subscriptions')} SET worker_id = %s, locked_until = %s "
                    "WHERE subscription_id = %s AND status = %s "
                    "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
                    "AND (locked_until IS NULL OR locked_until < %s OR worker_id = %s) "
                    "RETURNING *"
                ),
                (worker_id, until, subscription_id, ACTIVE, now, now, worker_id),
            )
            row = cursor.fetchone()
        return None if row is None else _subscription(row)

    def release(self, subscription_id: str, worker_id: str) -> None:
        self._write(
            f"UPDATE {self._t('subscriptions')} SET worker_id = NULL, locked_until = NULL "
            "WHERE subscription_id = %s AND worker_id = %s",
            (subscription_id, worker_id),
        )

    def acknowledge(
        self, attempt: AttemptRow, worker_id: str, *, after: int, lease_until: str
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
                lease_until,
                attempt.subscription_id,
                worker_id,
                after,
                ACTIVE,
            ),
        )

    def fail(
        self,
        attempt: AttemptRow,
        worker_id: str,
        *,
        after: int,
        failures: int,
        failing_since: str,
        park: bool,
    ) -> bool:
        """Record a failed attempt and when to retry (or park); gives up the lease.
        `after` is the position the subscription must still be at."""
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
                failing_since,
                attempt.next_retry_at,
                attempt.error,
                PARKED if park else ACTIVE,
                attempt.attempted_at if park else None,
                attempt.subscription_id,
                worker_id,
                after,
                ACTIVE,
            ),
        )

    def _record(self, attempt: AttemptRow, update: str, params: tuple[Any, ...]) -> bool:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._q(update), params)
            if cursor.fetchone() is None:
                return False
            cursor.execute(
                self._q(
                    f"INSERT INTO {self._t('delivery_attempts')} ({', '.join(_ATTEMPT_COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(_ATTEMPT_COLUMNS))})"
                ),
                tuple(getattr(attempt, c) for c in _ATTEMPT_COLUMNS),
            )
            return True

    def _write(self, statement: str, params: tuple[Any, ...]) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._q(statement), params)


def _subscription(r: Any) -> SubscriptionRow:
    return SubscriptionRow(
        subscription_id=r["subscription_id"],
        org_id=r["org_id"],
        url=r["url"],
        description=r["description"],
        secret=r["secret"],
        status=r["status"],
        position=int(r["position"]),
        created_at=r["created_at"],
        parked_at=r["parked_at"],
        attempts=int(r["attempts"]),
        failures=int(r["failures"]),
        failing_since=r["failing_since"],
        next_attempt_at=r["next_attempt_at"],
        last_error=r["last_error"],
        worker_id=r["worker_id"],
        locked_until=r["locked_until"],
    )


def _attempt(r: Any) -> AttemptRow:
    return AttemptRow(
        subscription_id=r["subscription_id"],
        position=int(r["position"]),
        attempt=int(r["attempt"]),
        webhook_id=r["webhook_id"],
        event_id=r["event_id"],
        attempted_at=r["attempted_at"],
        outcome=r["outcome"],
        status_code=None if r["status_code"] is None else int(r["status_code"]),
        error=r["error"],
        next_retry_at=r["next_retry_at"],
        duration_ms=None if r["duration_ms"] is None else int(r["duration_ms"]),
    )
