"""Errors of the webhook subscriptions, under the case record's root error.

CaseStoreError
└── WebhookError
    ├── SubscriptionNotFound    none with that id for the caller's organisation
    └── SubscriptionInvalid     a field of a new subscription is unusable (names it)
"""

from __future__ import annotations

from casestore.domain.errors import CaseStoreError


class WebhookError(CaseStoreError):
    """Root of the webhook errors; messages are safe to show."""


class SubscriptionNotFound(WebhookError):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"no subscription {subscription_id}")
        self.subscription_id = subscription_id


class SubscriptionInvalid(WebhookError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
