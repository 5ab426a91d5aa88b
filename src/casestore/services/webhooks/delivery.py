"""One delivery: a case event as a CloudEvent, signed per Standard Webhooks.

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

from casestore.services.disclosure import SharedEvent
from sharing.keys import format_time

MEDIA_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "nl.levensloop.case."
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
    body = json.dumps(cloud_event(event), separators=(",", ":"), ensure_ascii=True)
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
