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
    `signature` is the author organisation's signature over what it submitted and
    `countersignature` the service's over what it stored (both opaque JSON to the domain).
    """

    event_id: str
    author_org: str
    author_user: str
    occurred_at: datetime
    recorded_at: datetime
    digest: str
    signature: dict[str, Any] | None = None
    countersignature: dict[str, Any] | None = None
