"""What the accountability reports need to know beside the trail's entries: who wrote each
event, of which type, in which case, and whose case it is.

The trail names events by id only (an entry holds no content); the author and type come
from the stored events while a case exists, and from the trail's own `event.recorded`
entries once it has been destroyed (the author is then the organisation that recorded
it over the API, if it did).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.rows import stamp
from casestore.domain import errors
from casestore.services.audit import EVENT_RECORDED, GRANT_CREATED, TRAIL_PREFIX, AuditTrail
from casestore.services.case_store import CaseStore

PAGE = 1000


@dataclass
class Granted:
    """What the trail says one organisation was granted of one event, over time."""

    fields: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    grounds: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class EventFacts:
    case: str
    event_type: str
    author: str | None


class TrailFacts:
    """One pass over the trail (optionally a time window of it), with the event index."""

    def __init__(
        self,
        store: CaseStore,
        trail: AuditTrail,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.store = store
        self.trail = trail
        self.events: dict[str, EventFacts] = {}
        self.person_of_case: dict[str, str] = {}
        self.entries: list[dict[str, Any]] = []
        self.granted: dict[tuple[str, str], Granted] = {}  # (receiver, event) -> ever granted
        for entry in self._all():
            if entry["action"] == GRANT_CREATED and entry.get("receiver"):
                for event_id in entry["events"]:
                    g = self.granted.setdefault((entry["receiver"], event_id), Granted())
                    g.fields.update(entry["fields"])
                    g.rules.update(entry["rules"])
                    g.grounds.update(entry["grounds"])
            if entry["action"] == EVENT_RECORDED:
                if entry.get("person") and entry.get("case"):
                    self.person_of_case[entry["case"]] = entry["person"]
                for event_id in entry["events"]:
                    self.events[event_id] = EventFacts(
                        entry["case"], str(entry.get("reason")), entry.get("organisation")
                    )
            if _within(entry, since, until):
                self.entries.append(entry)
        for case_id in {f.case for f in self.events.values() if f.case}:
            try:
                history = self.store.history(UUID(case_id))
            except errors.CaseNotFound:
                continue  # destroyed: what the trail said stands
            for event in history:
                self.events[event.event_id] = EventFacts(
                    case_id, event.event_type, event.author_org
                )

    def opened(self, entry: dict[str, Any], event_id: str) -> set[str]:
        """The fields of one event an entry gave its receiver: a grant entry is about one
        event; a read names the fields of all the events it served, of which this event's
        are those its receiver was granted."""
        if entry["action"] == GRANT_CREATED:
            return set(entry["fields"])
        receiver = entry.get("receiver") or entry.get("organisation")
        granted = self.granted.get((str(receiver), event_id))
        return set(entry["fields"]) & granted.fields if granted else set()

    def author(self, event_id: str) -> str | None:
        facts = self.events.get(event_id)
        return None if facts is None else facts.author

    def event_type(self, event_id: str) -> str | None:
        facts = self.events.get(event_id)
        return None if facts is None else facts.event_type

    def _all(self) -> Iterator[dict[str, Any]]:
        after = 0
        while rows := self.trail.page(after=after, limit=PAGE):
            for row in rows:
                if not row.action.startswith(TRAIL_PREFIX):
                    yield json.loads(row.entry)
            after = rows[-1].seq


def _within(entry: dict[str, Any], since: datetime | None, until: datetime | None) -> bool:
    at = str(entry["start"])
    return (since is None or at >= stamp(since)) and (until is None or at < stamp(until))
