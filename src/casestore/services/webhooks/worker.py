"""The delivery worker: pushes each subscription's events to its URL, in order, at least
once.

One pass (`dispatch`) reads the end of the global order and the subscriptions that are due
(active, not waiting for a retry, not leased by another worker) and gives each a *turn* on
a small thread pool, so a slow or dead receiver holds one thread and never the others. A
turn takes the subscription's lease with a conditional UPDATE, then delivers the events
after its position one at a time: a 2xx records the attempt and moves the position in one
transaction (conditional on still holding the lease); anything else records the attempt,
schedules the retry (see backoff.py) or parks the subscription, and ends the turn. The
position therefore only ever passes acknowledged events: a crash re-sends at most the one
event that was in flight, with the same `webhook-id`.

Several worker processes may run against one database: the lease keeps each subscription
with one of them at a time, and a worker that stalls past its lease records nothing after
another took over. A heartbeat renews the leases of the turns in flight every third of
the lease, so a lease need only outlast a pause of the process, never a delivery: it is
short (5 s), and the subscriptions of a worker that crashed are taken over by another
within seconds, resent from the event in flight with the same `webhook-id`.

Retries wait in the database (`next_attempt_at`), not in a sleeping thread; the loop only
ever waits for the next poll, on an event that `stop()` sets.

Policy notices (fields newly granted on events behind the receiver's position) go the same
way, each turn before the events, after the subscription's own notice number: one at a
time, acknowledged, retried and parked like an event. A notice of an event still ahead of
the subscription's position is passed over: that event will carry the fields itself.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from secrets import token_hex
from types import FrameType

import httpx
import structlog

from casestore.adapters import metrics
from casestore.adapters.persistence.policy_table import Notice
from casestore.adapters.persistence.subscription_table import (
    AttemptRow,
    SubscriptionRow,
)
from casestore.services.audit import WEBHOOK_DELIVERED, Actor, new_operation_id, traceparent
from casestore.services.case_store import Clock, utcnow
from casestore.services.disclosure import Disclosure, SharedEvent
from casestore.services.webhooks.backoff import Backoff
from casestore.services.webhooks.delivery import Delivery, prepare, prepare_notice
from casestore.services.webhooks.destinations import http_client, refused
from casestore.services.webhooks.subscriptions import Subscriptions

log = structlog.get_logger("casestore.services.webhooks")

PAGE = 20  # events read from the feed at a time
STALL_SECONDS = 30.0  # a loop silent this long is reported not ready
LEASE = timedelta(seconds=5)
BEATS_PER_LEASE = 3  # renewals per lease: two may fail before another worker may take over


@dataclass(frozen=True)
class Turn:
    """What one turn did: attempts made, and the end of the global order up to which the
    subscription is known to have nothing more (None: not known)."""

    sent: int
    caught_up: tuple[int, int] | None = None  # (end of the order, last notice) reached


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{token_hex(3)}"


class Worker:
    def __init__(
        self,
        disclosure: Disclosure,
        subscriptions: Subscriptions,
        *,
        worker_id: str | None = None,
        clock: Clock = utcnow,
        wall: Clock = utcnow,
        backoff: Backoff | None = None,
        lease: timedelta = LEASE,
        timeout: float = 10.0,
        poll_interval: float = 0.25,
        concurrency: int = 8,
        batch: int = 100,
        http: httpx.Client | None = None,
    ) -> None:
        if lease < timedelta(seconds=1):
            raise ValueError("the lease must last at least a second")
        self.disclosure = disclosure
        self.subscriptions = subscriptions
        self.table = subscriptions.table
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock  # scheduling: leases, retries, parking
        self.wall = wall  # the signature's timestamp, which receivers check against theirs
        self.backoff = backoff or Backoff()
        self.lease = lease
        self.poll_interval = poll_interval
        self.batch = batch
        self._http = http or http_client(
            timeout, private_destinations=subscriptions.private_destinations
        )
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[Turn]] = {}
        self._seen: dict[str, tuple[int, int]] = {}
        self.notices = subscriptions.notices
        self._stopping = threading.Event()
        self.last_pass = time.monotonic()  # when the loop last finished a pass
        self._heartbeat: threading.Thread | None = None
        self._closed = threading.Event()

    # ---- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Poll and dispatch until `stop()`; then finish the deliveries in flight."""
        log.info("webhook worker started", worker_id=self.worker_id)
        try:
            while not self._stopping.is_set():
                try:
                    self.dispatch()
                except Exception as exc:  # storage away: keep polling, it may come back
                    log.warning("webhook dispatch failed", error=type(exc).__name__)
                self.last_pass = time.monotonic()
                metrics.WORKER_PASSES.inc()
                self._stopping.wait(self.poll_interval)
        finally:
            self.close()
            log.info("webhook worker stopped", worker_id=self.worker_id)

    def stalled(self) -> bool:
        """Whether the loop has not finished a pass for far longer than it should."""
        limit = max(STALL_SECONDS, 20 * self.poll_interval)
        return self._stopping.is_set() or time.monotonic() - self.last_pass > limit

    def run_once(self) -> int:
        """One pass, waiting for its turns: the number of delivery attempts made."""
        return sum(future.result().sent for future in self.dispatch())

    def stop(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True)
        self._closed.set()  # the turns are over: nothing left to renew
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        self._http.close()

    # ---- the heartbeat -------------------------------------------------------------------

    def _beat(self) -> None:
        """Renew this worker's leases while its turns run, until the worker closes."""
        interval = self.lease.total_seconds() / BEATS_PER_LEASE
        while not self._closed.wait(interval):
            with self._lock:
                busy = bool(self._inflight)
            if not busy:
                continue
            try:
                self.table.renew(self.worker_id, self.clock() + self.lease)
            except Exception as exc:  # storage away: the next beat tries again
                log.warning("webhook lease renewal failed", error=type(exc).__name__)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = threading.Thread(
                target=self._beat, name="webhook-heartbeat", daemon=True
            )
            self._heartbeat.start()

    def dispatch(self) -> list[Future[Turn]]:
        """Start a turn for every due subscription that may have something to deliver."""
        end = self.disclosure.store.max_position()
        told = 0 if self.notices is None else self.notices.last_notice()
        now = self.clock()
        started = []
        for row in self.table.due(now, self.worker_id):
            sid = row.subscription_id
            retry_due = row.next_attempt_at is not None
            seen_end, seen_told = self._seen.get(sid, (-1, -1))
            nothing_new = (row.position >= end or seen_end >= end) and (
                row.notice_seq >= told or seen_told >= told
            )
            with self._lock:
                if sid in self._inflight or (nothing_new and not retry_due):
                    continue
                self._start_heartbeat()
                future = self._pool.submit(self._turn, sid, (end, told))
                self._inflight[sid] = future
            future.add_done_callback(partial(self._done, sid))
            started.append(future)
        return started

    def _done(self, sid: str, future: Future[Turn]) -> None:
        with self._lock:
            self._inflight.pop(sid, None)
            error = future.exception()
            if error is not None:
                log.warning("webhook turn failed", subscription=sid, error=type(error).__name__)
                return
            caught_up = future.result().caught_up
            if caught_up is not None:
                self._seen[sid] = caught_up

    # ---- one subscription's turn -----------------------------------------------------------

    def _turn(self, sid: str, end: tuple[int, int]) -> Turn:
        now = self.clock()
        row = self.table.claim(sid, self.worker_id, now, now + self.lease)
        if row is None:
            return Turn(0)  # another worker has it, or it was parked or deleted meanwhile
        try:
            return self._deliver_from(row, end)
        finally:
            self.table.release(sid, self.worker_id)

    def _deliver_from(self, row: SubscriptionRow, end: tuple[int, int]) -> Turn:
        secret = self.subscriptions.secret_of(row)
        sent = 0
        while self.notices is not None and sent < self.batch:
            notices = self.notices.notices_after(
                row.org_id, row.notice_seq, min(PAGE, self.batch - sent)
            )
            if not notices:
                break
            for notice in notices:
                if self._stopping.is_set():
                    return Turn(sent)
                if notice.position > row.position:
                    if not self.table.pass_notice(
                        row.subscription_id, self.worker_id, after=row.notice_seq, seq=notice.seq
                    ):
                        return Turn(sent)
                    row = replace(row, notice_seq=notice.seq)
                    continue
                next_row = self._attempt_notice(row, secret, notice)
                sent += 1
                if next_row is None:
                    return Turn(sent)
                row = next_row
        while sent < self.batch:
            events = self.disclosure.feed(
                row.org_id, row.position, min(PAGE, self.batch - sent), audit_as=None
            )
            if not events:
                return Turn(sent, caught_up=end)
            for event in events:
                if self._stopping.is_set():
                    return Turn(sent)
                next_row = self._attempt(row, secret, event)
                sent += 1
                if next_row is None:
                    return Turn(sent)
                row = next_row
        return Turn(sent)

    def _attempt(
        self, row: SubscriptionRow, secret: str, event: SharedEvent
    ) -> SubscriptionRow | None:
        """Deliver one event; the subscription as it now stands, or None to end the turn."""
        operation = new_operation_id()
        trace = self._trace_of(event)
        delivery = prepare(
            row.subscription_id,
            secret,
            event,
            self.wall(),
            traceparent=traceparent(trace[0], operation) if trace else None,
        )
        started_at = self.clock()
        started = time.monotonic()
        status, error = self._post(row.url, delivery)
        self._audit(row, event, trace, operation, started_at, error)
        return self._outcome(
            row, delivery, started, status, error, "event", event.position, event.event_id
        )

    def _attempt_notice(
        self, row: SubscriptionRow, secret: str, notice: Notice
    ) -> SubscriptionRow | None:
        """Deliver one policy notice; as `_attempt`."""
        region = self.disclosure.store.sealer.region
        delivery = prepare_notice(row.subscription_id, secret, notice, region, self.wall())
        started = time.monotonic()
        status, error = self._post(row.url, delivery)
        return self._outcome(
            row, delivery, started, status, error, "notice", notice.seq, notice.event_id
        )

    def _outcome(
        self,
        row: SubscriptionRow,
        delivery: Delivery,
        started: float,
        status: int | None,
        error: str | None,
        kind: str,
        position: int,
        event_id: str,
    ) -> SubscriptionRow | None:
        """Record one attempt: acknowledged (the subscription moves on) or failed (a retry
        is scheduled, or the subscription parked, and the turn ends)."""
        duration_ms = round((time.monotonic() - started) * 1000)
        now = self.clock()
        attempt = AttemptRow(
            subscription_id=row.subscription_id,
            position=position,
            attempt=row.attempts + 1,
            webhook_id=delivery.webhook_id,
            event_id=event_id,
            attempted_at=now,
            outcome="delivered",
            status_code=status,
            error=error,
            duration_ms=duration_ms,
            kind=kind,
        )
        context = {
            "subscription": row.subscription_id,
            "position" if kind == "event" else "notice": position,
            "attempt": attempt.attempt,
            "webhook_id": delivery.webhook_id,
        }
        metrics.WEBHOOK_ATTEMPTS.labels("delivered" if error is None else "failed").inc()
        if error is None:
            acknowledge = (
                self.table.acknowledge if kind == "event" else self.table.acknowledge_notice
            )
            held = acknowledge(
                attempt,
                self.worker_id,
                after=row.position if kind == "event" else row.notice_seq,
                lease_until=now + self.lease,
            )
            if not held:
                log.warning("webhook lease lost; acknowledgement not recorded", **context)
                return None
            log.debug("webhook delivered", status=status, **context)
            return replace(
                row,
                position=position if kind == "event" else row.position,
                notice_seq=position if kind == "notice" else row.notice_seq,
                attempts=0,
                failures=0,
                failing_since=None,
                next_attempt_at=None,
                last_error=None,
            )
        failures = row.failures + 1
        failing_since = row.failing_since or now
        park = self.backoff.gives_up(failing_since, now)
        retry_at = None if park else now + self.backoff.delay(failures)
        attempt = replace(attempt, outcome="parked" if park else "failed", next_retry_at=retry_at)
        held = self.table.fail(
            attempt,
            self.worker_id,
            after=row.position,
            failures=failures,
            failing_since=failing_since,
            park=park,
        )
        if park and held:
            metrics.WEBHOOK_ATTEMPTS.labels("parked").inc()
            log.warning("webhook subscription parked", error=error, **context)
        else:
            log.info("webhook delivery failed", error=error, retry_at=retry_at, **context)
        return None

    def _trace_of(self, event: SharedEvent) -> tuple[str, str] | None:
        trail = self.disclosure.store.audit
        return None if trail is None else trail.traceparent_of_event(event.event_id)

    def _audit(
        self,
        row: SubscriptionRow,
        event: SharedEvent,
        trace: tuple[str, str] | None,
        operation: str,
        started: datetime,
        error: str | None,
    ) -> None:
        """Chain the attempt, delivered or not: the event left for the subscriber's URL."""
        if error is not None and error.startswith("destination refused"):
            return
        self.disclosure.audited(
            row.org_id,
            [event],
            WEBHOOK_DELIVERED,
            status="ok" if error is None else "error",
            extra={
                "actor": Actor(
                    client=f"subscription:{row.subscription_id}",
                    organisation=row.org_id,
                    role="webhook",
                ),
                "start": started,
                "operation_id": operation,
                "trace_id": trace[0] if trace else None,
                "parent_operation_id": trace[1] if trace else None,
            },
        )

    def _post(self, url: str, delivery: Delivery) -> tuple[int | None, str | None]:
        """The response status and, unless it was a 2xx, what went wrong."""
        try:
            with self._http.stream(
                "POST", url, content=delivery.body.encode(), headers=delivery.headers
            ) as response:
                status = response.status_code
        except httpx.TimeoutException:
            return None, "timeout"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if (refusal := refused(exc)) is not None:
                return None, f"destination refused ({refusal.address} is not public)"
            return None, f"connection error ({type(exc).__name__})"
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"


def run_until_signalled(worker: Worker) -> None:
    """Run in the foreground; SIGTERM or SIGINT stops after the deliveries in flight."""

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    worker.run()
