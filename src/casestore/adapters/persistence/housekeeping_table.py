"""Scheduled jobs: when each last ran, and which worker holds it now.

Every worker process runs the scheduled housekeeping (casestore.services.housekeeping),
and the lease in a job's row keeps it with one of them at a time, taken with a
conditional UPDATE as the webhook subscriptions are. `last_run_at` is when the last pass
that finished started, by the service's clock: the next pass acts on what came due since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import from_row, stamp


@dataclass(frozen=True)
class JobRow:
    job: str
    last_run_at: datetime | None = None
    worker_id: str | None = None
    locked_until: datetime | None = None


class HousekeepingTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("housekeeping")

    def get(self, job: str) -> JobRow | None:
        row = self.backend.one(f"SELECT * FROM {self._name} WHERE job = %s", (job,))
        return None if row is None else from_row(JobRow, row)

    def claim(self, job: str, worker_id: str, now: datetime, until: datetime) -> JobRow | None:
        """Take the job's lease if it is free (or already ours): the row as it was left by
        the last pass, or None when another worker holds it."""
        at = stamp(now)
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"INSERT INTO {self._name} (job) VALUES (%s) ON CONFLICT (job) DO NOTHING"
                ),
                (job,),
            )
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._name} SET worker_id = %s, locked_until = %s WHERE job = %s "
                    "AND (locked_until IS NULL OR locked_until < %s OR worker_id = %s) "
                    "RETURNING *"
                ),
                (worker_id, stamp(until), job, at, worker_id),
            )
            row = cursor.fetchone()
        return None if row is None else from_row(JobRow, row)

    def finish(self, job: str, worker_id: str, started: datetime) -> None:
        """Record a pass that started at `started` as done, and give up the lease."""
        self.backend.write(
            f"UPDATE {self._name} SET last_run_at = %s, worker_id = NULL, locked_until = NULL "
            "WHERE job = %s AND worker_id = %s",
            (stamp(started), job, worker_id),
        )

    def release(self, job: str, worker_id: str) -> None:
        """Give up the lease of a pass that did not finish."""
        self.backend.write(
            f"UPDATE {self._name} SET worker_id = NULL, locked_until = NULL "
            "WHERE job = %s AND worker_id = %s",
            (job, worker_id),
        )
