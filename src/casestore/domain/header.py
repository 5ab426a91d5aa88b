"""The readable header of a case event: who wrote it, when, under which id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EventHeader:
    """What the process knows of an event besides its payload.

    `occurred_at` is when the fact happened (told by the author); `recorded_at` is when
    the store took it in. `digest` is a keyed digest of the submitted payload, opaque to
    the domain, used to tell a retried event from a different one under the same id.
    `author_document` is what the author organisation signed (salted digests of the
    content, never the content), `signature` its signature over it and `countersignature`
    the service's over the event as stored (all opaque JSON to the domain).
    `submission_id` is the author's id for the submission, which its document names.
    """

    event_id: str
    author_org: str
    author_user: str
    occurred_at: datetime
    recorded_at: datetime
    digest: str
    submission_id: str | None = None
    author_document: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    countersignature: dict[str, Any] | None = None
