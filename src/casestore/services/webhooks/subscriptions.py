"""Webhook subscriptions as a partner manages them.

A subscription belongs to one organisation and receives what that organisation's feed
holds, from a start position on. Another organisation's subscription is reported as not
found, never as forbidden. The signing secret is returned once, on creation; the store
keeps it wrapped (see signing_secrets.py) for the worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from uuid import uuid4

from casestore.adapters.persistence.policy_table import PolicyTable
from casestore.adapters.persistence.rows import project
from casestore.adapters.persistence.subscription_table import (
    ACTIVE,
    PARKED,
    AttemptRow,
    SubscriptionRow,
    SubscriptionTable,
)
from casestore.services.webhooks.destinations import check_host
from casestore.services.webhooks.errors import SubscriptionInvalid, SubscriptionNotFound
from casestore.services.webhooks.signing_secrets import SigningSecrets

SUBSCRIPTION_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as `create` makes them
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION = 500
RECENT_ATTEMPTS = 50


def check_url(url: str) -> str:
    """An absolute http(s) URL without credentials or fragment; ValueError says why not."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in {"http", "https"}:
        raise ValueError("must be an http or https URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("may not carry credentials; authenticate the signature instead")
    if parts.fragment:
        raise ValueError("may not have a fragment")
    if port == 0 or any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError("not a valid URL")
    return url


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    org_id: str
    url: str
    description: str
    status: str  # active | parked
    position: int  # the last event the receiver acknowledged
    created_at: datetime
    parked_at: datetime | None
    attempts: int  # at the next undelivered event, 0 when none failed
    failing_since: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None

    @property
    def parked(self) -> bool:
        return self.status == PARKED


@dataclass(frozen=True)
class Created:
    subscription: Subscription
    secret: str  # shown once


@dataclass(frozen=True)
class Attempt:
    webhook_id: str
    event_id: str
    position: int
    attempt: int
    attempted_at: datetime
    outcome: str  # delivered | failed | parked
    status_code: int | None
    error: str | None
    next_retry_at: datetime | None
    duration_ms: int | None
    kind: str  # event | notice (a policy notice: `position` is its seq)


class Subscriptions:
    def __init__(
        self,
        table: SubscriptionTable,
        secrets: SigningSecrets,
        clock: Callable[[], datetime],
        end: Callable[[], int],
        *,
        private_destinations: bool = False,
        notices: PolicyTable | None = None,
    ) -> None:
        self._table = table
        # The policy notices delivered beside the events (a subscription starts at the
        # latest: a notice made before it tells of nothing its events will not carry).
        self.notices = notices
        self._secrets = secrets
        self._clock = clock
        self._end = end  # the current end of the global order
        # Whether webhooks may go to non-public addresses (see destinations.py).
        self.private_destinations = private_destinations

    @property
    def table(self) -> SubscriptionTable:
        return self._table

    def delivery_figures(self) -> tuple[int, int]:
        """Parked subscriptions, and how many positions the active one furthest behind
        trails the end of the global order (0 with none active)."""
        parked, oldest = self._table.figures()
        return parked, 0 if oldest is None else max(0, self._end() - oldest)

    def create(
        self, org_id: str, url: str, description: str = "", after: int | None = None
    ) -> Created:
        """A new active subscription from `after` (default: the current end, so only
        events recorded from now on are delivered)."""
        try:
            url = check_url(url)
            if not self.private_destinations:
                check_host(urlsplit(url).hostname or "")
        except ValueError as exc:
            raise SubscriptionInvalid("url", str(exc)) from None
        if len(description) > MAX_DESCRIPTION:
            raise SubscriptionInvalid("description", f"at most {MAX_DESCRIPTION} characters")
        end = self._end()
        if after is not None and not 0 <= after <= end:
            raise SubscriptionInvalid("after", f"must lie between 0 and the current end {end}")
        subscription_id = uuid4().hex
        secret = self._secrets.new()
        row = SubscriptionRow(
            subscription_id=subscription_id,
            org_id=org_id,
            url=url,
            description=description,
            secret=self._secrets.wrap(subscription_id, secret),
            status=ACTIVE,
            position=end if after is None else after,
            created_at=self._clock(),
            notice_seq=0 if self.notices is None else self.notices.last_notice(org_id),
        )
        self._table.add(row)
        return Created(_public(row), secret)

    def of(self, org_id: str) -> list[Subscription]:
        return [_public(r) for r in self._table.of(org_id)]

    def get(self, org_id: str, subscription_id: str) -> Subscription:
        return _public(self._row(org_id, subscription_id))

    def attempts(
        self, org_id: str, subscription_id: str, limit: int = RECENT_ATTEMPTS
    ) -> list[Attempt]:
        """The latest delivery attempts first."""
        self._row(org_id, subscription_id)
        return [_attempt(a) for a in self._table.attempts_of(subscription_id, limit)]

    def delete(self, org_id: str, subscription_id: str) -> None:
        self._row(org_id, subscription_id)
        self._table.delete(subscription_id)

    def resume(self, org_id: str, subscription_id: str) -> Subscription:
        """Un-park: the undelivered event is due again at once, with a fresh retry run.
        Resuming an active subscription changes nothing."""
        self._row(org_id, subscription_id)
        self._table.resume(subscription_id)
        return self.get(org_id, subscription_id)

    def secret_of(self, row: SubscriptionRow) -> str:
        """The signing secret, for the worker only."""
        return self._secrets.unwrap(row.subscription_id, row.secret)

    def _row(self, org_id: str, subscription_id: str) -> SubscriptionRow:
        # Only an id of the form this service hands out is looked up: anything else (a NUL
        # byte, which PostgreSQL text cannot hold, say) names no subscription.
        if SUBSCRIPTION_ID.fullmatch(subscription_id) is None:
            raise SubscriptionNotFound(subscription_id)
        row = self._table.get(subscription_id)
        if row is None or row.org_id != org_id:
            raise SubscriptionNotFound(subscription_id)
        return row


def _public(row: SubscriptionRow) -> Subscription:
    return project(Subscription, row)


def _attempt(row: AttemptRow) -> Attempt:
    return project(Attempt, row)
