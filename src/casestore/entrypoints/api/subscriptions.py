"""Webhook subscriptions of the caller's organisation.

A partner system manages its organisation's subscriptions; an auditor may read them and
their delivery attempts. Another organisation's subscription answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from casestore.domain.events.fields import MAX_JSON_INTEGER
from casestore.entrypoints.api.deps import ServicesDep, allow
from casestore.services.clients import Client, ClientRole
from casestore.services.webhooks.subscriptions import (
    MAX_DESCRIPTION,
    RECENT_ATTEMPTS,
    Attempt,
    Subscription,
    check_url,
)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

Manager = Annotated[Client, Depends(allow(ClientRole.partner_system))]
Viewer = Annotated[Client, Depends(allow(ClientRole.partner_system, ClientRole.auditor))]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Where to POST the events: an http(s) URL.")
    description: str = Field(default="", max_length=MAX_DESCRIPTION, pattern=r"^[^\x00-\x1f\x7f]*$")
    after: int | None = Field(
        default=None,
        ge=0,
        le=MAX_JSON_INTEGER,
        description="Deliver the events after this feed position; default: the current "
        "end, so only events recorded from now on.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)


class PendingPublic(BaseModel):
    """The event after `position` has failed; when it is tried next."""

    attempts: int
    failing_since: datetime | None
    next_attempt_at: datetime | None = Field(description="None when parked.")
    last_error: str | None


class SubscriptionPublic(BaseModel):
    id: str
    url: str
    description: str
    status: str = Field(description="active, or parked after 24 hours of failed deliveries.")
    position: int = Field(description="The last event the receiver acknowledged.")
    created_at: datetime
    parked_at: datetime | None
    pending: PendingPublic | None


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(
        description="The signing secret (Standard Webhooks, whsec_…): shown only now."
    )


class DeliveryPublic(BaseModel):
    webhook_id: str = Field(description="The webhook-id header: the same on every retry.")
    event_id: str
    kind: str = Field(
        description="`event`, or `notice`: a policy notice, whose seq `position` then is."
    )
    position: int
    attempt: int
    attempted_at: datetime
    outcome: str = Field(description="delivered, failed, or parked.")
    status_code: int | None
    error: str | None
    next_retry_at: datetime | None
    duration_ms: int | None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
)
def create_subscription(
    body: SubscriptionCreate, caller: Manager, services: ServicesDep, response: Response
) -> SubscriptionCreated:
    """Subscribe a URL to the events the caller's organisation receives."""
    created = services.subscriptions.create(caller.org_id, body.url, body.description, body.after)
    response.headers["Location"] = f"{router.prefix}/{created.subscription.subscription_id}"
    return SubscriptionCreated(**_public(created.subscription), secret=created.secret)


@router.get("", response_model=list[SubscriptionPublic])
def list_subscriptions(caller: Viewer, services: ServicesDep) -> list[dict[str, Any]]:
    """The caller's organisation's subscriptions."""
    return [_public(s) for s in services.subscriptions.of(caller.org_id)]


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
def read_subscription(
    subscription_id: str, caller: Viewer, services: ServicesDep
) -> dict[str, Any]:
    """One subscription: its status, acknowledged position and pending retry."""
    return _public(services.subscriptions.get(caller.org_id, subscription_id))


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryPublic])
def list_deliveries(
    subscription_id: str,
    caller: Viewer,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=RECENT_ATTEMPTS)] = RECENT_ATTEMPTS,
) -> list[dict[str, Any]]:
    """The latest delivery attempts, newest first."""
    attempts = services.subscriptions.attempts(caller.org_id, subscription_id, limit)
    return [_delivery(a) for a in attempts]


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: str, caller: Manager, services: ServicesDep) -> None:
    """Stop deliveries and forget the subscription and its attempts."""
    services.subscriptions.delete(caller.org_id, subscription_id)


@router.post("/{subscription_id}/resume", response_model=SubscriptionPublic)
def resume_subscription(
    subscription_id: str, caller: Manager, services: ServicesDep
) -> dict[str, Any]:
    """Un-park: retry the undelivered event now (a no-op on an active subscription)."""
    return _public(services.subscriptions.resume(caller.org_id, subscription_id))


def _public(s: Subscription) -> dict[str, Any]:
    pending = None
    if s.attempts:
        pending = PendingPublic(
            attempts=s.attempts,
            failing_since=s.failing_since,
            next_attempt_at=s.next_attempt_at,
            last_error=s.last_error,
        )
    return {
        "id": s.subscription_id,
        "url": s.url,
        "description": s.description,
        "status": s.status,
        "position": s.position,
        "created_at": s.created_at,
        "parked_at": s.parked_at,
        "pending": pending,
    }


def _delivery(a: Attempt) -> dict[str, Any]:
    return {
        "webhook_id": a.webhook_id,
        "event_id": a.event_id,
        "kind": a.kind,
        "position": a.position,
        "attempt": a.attempt,
        "attempted_at": a.attempted_at,
        "outcome": a.outcome,
        "status_code": a.status_code,
        "error": a.error,
        "next_retry_at": a.next_retry_at,
        "duration_ms": a.duration_ms,
    }
