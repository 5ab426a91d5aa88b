"""When a case counts as stable: the region's uitstroom as `stabiel` and the worklist's
uitstroom candidate must agree on it, so the events that unsettle a case are named once.

A case is stable from its inclusion (the count starts there) and becomes unstable again
by a signalering, an opschaling, an escalatie, a crisisoverleg, or a heraanmelding that
makes it run again. Its stable-since moment is the latest of these by when they occurred,
so an event recorded late about an earlier day moves it no later than that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

UNSETTLING = frozenset(
    {"signalering", "opschaling", "escalatie", "inclusiebesluit", "heraanmelding"}
)
CRISIS = "crisisoverleg"


def unsettles(event_type: str, control: Mapping[str, Any]) -> bool:
    """Whether an event of this type with this control data restarts the stability count."""
    if event_type == "casusoverleg":
        return control.get("soort") == CRISIS
    return event_type in UNSETTLING


def stable_since(events: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> datetime | None:
    """The moment a case's events (type, occurred at, control; all of them, from its
    opening) leave it stable since: the first event's moment or the latest unsettling one."""
    since = None
    for event_type, occurred_at, control in events:
        if since is None or (unsettles(event_type, control) and occurred_at > since):
            since = occurred_at
    return since
