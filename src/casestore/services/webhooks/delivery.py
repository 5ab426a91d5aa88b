"""One delivery: a case event (or a policy notice) as a CloudEvent, signed per Standard
Webhooks.

The body is a CloudEvents 1.0 structured-mode JSON document whose `data` is the event as
the subscribing organisation receives it from the feed: sealed for it, never opened.
`webhook-id` names the (subscription, event) pair and is the same on every retry, so a
receiver drops repeats by it; `webhook-timestamp` is the time of sending, which the
receiver checks against replays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nacl.encoding import HexEncoder
from nacl.hash import blake2b
from standardwebhooks.webhooks import Webhook

from casestore.adapters.persistence.policy_table import Notice
from casestore.services.disclosure import SharedEvent
from sharing.keys import format_time

MEDIA_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "nl.levensloop.case."
NOTICE_TYPE = "nl.levensloop.policy.notice"
USER_AGENT = "casestore-webhooks/1"


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    body: str
    headers: dict[str, str]


def webhook_id(subscription_id: str, event_id: str) -> str:
    """Stable per (subscription, event): the receiver's deduplication key."""
    digest: bytes = blake2b(
        f"{subscription_id}\n{event_id}".encode(),
        digest_size=16,
        person=b"casestore-whid",
        encoder=HexEncoder,
    )
    return "msg_" + digest.decode()


def cloud_event(event: SharedEvent) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event.event_id,
        "source": f"/casestore/{event.region}",
        "type": TYPE_PREFIX + event.event_type,
        "subject": str(event.case_id),
        "time": format_time(event.recorded_at),
        "datacontenttype": "application/json",
        "data": event.to_json(),
    }


def prepare(
    subscription_id: str,
    secret: str,
    event: SharedEvent,
    at: datetime,
    traceparent: str | None = None,
) -> Delivery:
    """The request for one event, signed at `at` (the time of sending). `traceparent`
    (W3C) carries on the trace the event was recorded in, so the receiver's processing can
    be followed back to the author's (docs/audit.md)."""
    if event.payload is not None:
        raise ValueError("webhooks carry sealed events only")
    message_id = webhook_id(subscription_id, event.event_id)
    return _signed(message_id, secret, cloud_event(event), at, traceparent)


def notice_event(notice: Notice, region: str) -> dict[str, Any]:
    """A notice of fields newly granted on an event behind the receiver's position."""
    return {
        "specversion": "1.0",
        "id": f"policy-notice-{notice.seq}",
        "source": f"/casestore/{region}",
        "type": NOTICE_TYPE,
        "subject": notice.case_id,
        "time": format_time(notice.noticed_at),
        "datacontenttype": "application/json",
        "data": notice.to_json(),
    }


def prepare_notice(
    subscription_id: str, secret: str, notice: Notice, region: str, at: datetime
) -> Delivery:
    """The request for one notice, signed like an event's; its `webhook-id` names the
    (subscription, notice) pair."""
    message_id = webhook_id(subscription_id, f"notice:{notice.seq}")
    return _signed(message_id, secret, notice_event(notice, region), at, None)


def _signed(
    message_id: str, secret: str, document: dict[str, Any], at: datetime, traceparent: str | None
) -> Delivery:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
    sent_at = at.astimezone(UTC)
    return Delivery(
        webhook_id=message_id,
        body=body,
        headers={
            "content-type": MEDIA_TYPE,
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, sent_at, body),
            **({"traceparent": traceparent} if traceparent else {}),
        },
    )
