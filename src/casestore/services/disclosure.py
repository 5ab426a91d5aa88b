"""What one organisation receives: of one case, or across cases in global order (the feed).

Each event comes with its header, its control attributes and only the sealed fields and
grants that are the organisation's own; the service opens them only for organisations it
hosts. A case the organisation receives nothing of is reported as not found, never as
forbidden, so that asking cannot reveal that a person has a case at all.

A field a `correctie` superseded is never served again, whatever grant may still name it:
it is withheld and listed in `corrected` with the correctie that superseded it, so every
reader sees that, and by which event, the record was corrected.

While a beperking is in force, or after an objection against the organisation was upheld,
an organisation receives each event of the case as its envelope only: no sealed field and
no grant leaves the service for it (nor does the service open one for it), and the event
lists in `restricted` the beperking or bezwaar that keeps it back
(`casestore.domain.processing_restrictions` says who is spared).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from casestore.adapters.persistence.audit_group import DONE, Pending
from casestore.adapters.persistence.sharing_tables import GrantRow
from casestore.domain import errors
from casestore.domain.case import Case, visible_control
from casestore.domain.catalogue import content_fields
from casestore.domain.events.rights import CORRECTED, corrections_in, corrections_of
from casestore.domain.processing_restrictions import NONE as NO_RESTRAINTS
from casestore.domain.processing_restrictions import (
    Restraint,
    Restraints,
    restraints_in,
    restraints_of,
)
from casestore.services.audit import CASE_DECRYPTED, CASE_READ, FEED_READ
from casestore.services.case_store import CaseStore
from casestore.services.sealing import Sealer, context_of
from sharing.keys import format_time
from sharing.owned import field_of

RIGHTS_TOPICS = tuple(
    get_topic(Case.event_class(event_type))
    for event_type in ("correctie", "beperking", "beperking_opgeheven", "bezwaar")
)
"""The events that change what a page may serve of their case's earlier events."""


@dataclass(frozen=True)
class SharedEvent:
    region: str
    case_id: UUID
    version: int
    event_id: str
    event_type: str
    author_org: str
    author_user: str
    occurred_at: datetime
    recorded_at: datetime
    control: dict[str, Any]
    sealed: dict[str, dict[str, Any]]  # sealed field name -> SealedField JSON, granted only
    grants: list[dict[str, Any]]  # this organisation's grants (JSON wire form)
    withheld: list[str]  # content fields of the type this organisation may not read
    submission_id: str | None  # the author's id for what it submitted
    author_document: dict[str, Any] | None  # what the author signed: digests, not content
    signature: dict[str, Any] | None  # the author's, over its document
    countersignature: dict[str, Any] | None  # the custodian's, over the event as stored
    position: int  # in the global order: where a feed resumes
    payload: dict[str, Any] | None = field(default=None)  # decrypted, hosted orgs only
    corrected: list[dict[str, str]] = field(default_factory=list)  # superseded fields
    restricted: list[dict[str, str]] = field(default_factory=list)  # beperking, bezwaar

    @property
    def context(self) -> dict[str, str]:
        """The readable binding context a partner needs to open the sealed fields."""
        return {
            "region": self.region,
            "case_id": str(self.case_id),
            "event_id": self.event_id,
            "event_type": self.event_type,
        }

    def to_json(self) -> dict[str, Any]:
        """The wire form a partner receives; `sharing.client` opens it."""
        return {
            **self.context,
            "version": self.version,
            "position": self.position,
            "author_org": self.author_org,
            "author_user": self.author_user,
            "occurred_at": format_time(self.occurred_at),
            "recorded_at": format_time(self.recorded_at),
            "control": self.control,
            "sealed": self.sealed,
            "grants": self.grants,
            "withheld": self.withheld,
            "submission_id": self.submission_id,
            "author_document": self.author_document,
            "signature": self.signature,
            "countersignature": self.countersignature,
            "payload": self.payload,
            "corrected": self.corrected,
            "restricted": self.restricted,
        }


class Disclosure:
    """Reads per organisation: one case, one event, the feed."""

    def __init__(self, store: CaseStore, sealer: Sealer) -> None:
        self.store = store
        self.sealer = sealer
        self._tables = store.records.tables

    def read_case(self, org_id: str, case_id: UUID, *, decrypt: bool = False) -> list[SharedEvent]:
        """The events of one case that `org_id` receives, sealed for it (or opened, for an
        organisation the service hosts). Nothing received: CaseNotFound, not "forbidden".
        The read is in the audit trail before this returns."""
        shared = self._read_case(org_id, case_id, decrypt=decrypt)
        self.audited(org_id, shared, CASE_DECRYPTED if decrypt else CASE_READ)
        return shared

    def received(self, org_id: str, case_id: UUID, *, decrypt: bool = False) -> list[SharedEvent]:
        """`read_case` for a service that records in the audit trail itself what it does
        with the events (a meeting pack records what it exports, per attendee)."""
        return self._read_case(org_id, case_id, decrypt=decrypt)

    def _read_case(self, org_id: str, case_id: UUID, *, decrypt: bool = False) -> list[SharedEvent]:
        if decrypt and org_id not in self.sealer.keyring.hosted:
            raise errors.NotHosted(org_id)
        positions = self._tables.access_positions(org_id, str(case_id))
        if not positions:
            raise errors.CaseNotFound(str(case_id))
        grants = self._grants_by_event(self._tables.grants_for(org_id, str(case_id)))
        history = self.store.history(case_id)
        corrections = corrections_in(history)
        restraints = restraints_in(history)
        shared = []
        for event in history:
            position = positions.get(event.originator_version)
            if position is not None:
                event_grants = grants.get(event.event_id, [])
                superseded = corrections.get(event.event_id, {})
                held = self._held(restraints, org_id, event.author_org)
                shared.append(
                    self._disclose(org_id, event, position, event_grants, decrypt, superseded, held)
                )
        return shared

    def _held(
        self, restraints: Restraints, org_id: str, author: str | None
    ) -> tuple[Restraint, ...]:
        """The beperkingen and upheld objections that keep an event's content from `org_id`
        (`author` None: from an event by another organisation)."""
        if not restraints:
            return ()
        today = self.store.clock().date()
        if author is None:
            return restraints.on(org_id, self.store.custodian, today)
        return restraints.withheld(org_id, author, self.store.custodian, today)

    def _decoded(self, notification: Any) -> Case.Event:
        event = self.store.mapper.to_domain_event(notification)
        assert isinstance(event, Case.Event)  # noqa: S101 - access rows are case events
        return event

    def read_event(
        self, org_id: str, case_id: UUID, event_id: str, *, decrypt: bool = False
    ) -> SharedEvent:
        """One event of a case as `org_id` receives it."""
        for event in self._read_case(org_id, case_id, decrypt=decrypt):
            if event.event_id == event_id:
                self.audited(org_id, [event], CASE_DECRYPTED if decrypt else CASE_READ)
                return event
        raise errors.EventNotFound(str(case_id), event_id)

    def receives_any(self, org_id: str, case_id: UUID) -> bool:
        """Whether `org_id` receives (or received) any event of the case."""
        return bool(self._tables.access_positions(org_id, str(case_id)))

    def feed(
        self,
        org_id: str,
        after: int = 0,
        limit: int = 100,
        *,
        decrypt: bool = False,
        audit_as: str | None = FEED_READ,
    ) -> list[SharedEvent]:
        """What `org_id` receives across all cases after a global position, in order.

        Positions are committed in order (one writer at a time holds the events table),
        so a reader that resumes after the last position it saw never skips an event.
        The page is in the audit trail as `audit_as` before this returns (None: the
        caller records it, as a webhook delivery does once it knows the outcome)."""
        rows = self.store.records.feed_rows(org_id, after, limit)
        corrections: dict[UUID, dict[str, dict[str, str]]] = {}
        restraints: dict[UUID, Restraints] = {}
        on_page = list(dict.fromkeys(row.notification.originator_id for row in rows))
        # Only a case with a correctie, beperking or bezwaar is loaded whole: a page from
        # far back would otherwise rebuild every case on it.
        exercised = self.store.records.holding(on_page, RIGHTS_TOPICS)
        for case_id in on_page:
            if case_id in exercised:
                case = self.store.case(case_id)
                corrections[case_id] = corrections_of(case)
                restraints[case_id] = restraints_of(case)
            else:
                corrections[case_id], restraints[case_id] = {}, NO_RESTRAINTS
        superseded = [
            corrections[row.notification.originator_id].get(row.event_id, {}) for row in rows
        ]
        # Who wrote an event is known once it is decoded: only an event of a restricted
        # case is decoded this early, to spare its own author the restriction.
        decoded: dict[int, Case.Event] = {}
        held: list[tuple[Restraint, ...]] = []
        for index, row in enumerate(rows):
            binding = self._held(restraints[row.notification.originator_id], org_id, None)
            if binding:
                decoded[index] = self._decoded(row.notification)
                if decoded[index].author_org == org_id:
                    binding = ()
            held.append(binding)
        grants = [
            [] if kept else _current(json.loads(f"[{row.grants}]") if row.grants else [], fields)
            for row, fields, kept in zip(rows, superseded, held, strict=True)
        ]
        pending = DONE
        if audit_as is not None and not decrypt:
            # What the page serves is known before its events are decoded: the entries
            # are written meanwhile, and the page waits for them only at the end.
            served = [
                (row.notification.originator_id, row.event_id, _granted(g))
                for row, g in zip(rows, grants, strict=True)
            ]
            pending = self._begin(org_id, served, audit_as)
        shared = []
        for index, (row, event_grants, fields, kept) in enumerate(
            zip(rows, grants, superseded, held, strict=True)
        ):
            event = decoded.get(index) or self._decoded(row.notification)
            shared.append(
                self._disclose(
                    org_id, event, row.notification.id, event_grants, decrypt, fields, kept
                )
            )
        if audit_as is not None and decrypt:  # recorded once the service has opened it
            opened = [(e.case_id, e.event_id, set(e.sealed)) for e in shared]
            pending = self._begin(org_id, opened, CASE_DECRYPTED)
        pending.wait()
        return shared

    def audited(
        self,
        org_id: str,
        events: list[SharedEvent],
        action: str,
        *,
        status: str = "ok",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Chain what `org_id` was served: one entry per case, naming the events and the
        field names it could open (the rules and grounds are on the grants' entries)."""
        served = [(e.case_id, e.event_id, set(e.sealed)) for e in events]
        self._begin(org_id, served, action, status=status, extra=extra).wait()

    def _begin(
        self,
        org_id: str,
        served: list[tuple[UUID, str, set[str]]],
        action: str,
        *,
        status: str = "ok",
        extra: dict[str, Any] | None = None,
    ) -> Pending:
        trail = self.store.audit
        if trail is None or not trail.enabled or not served:
            return DONE
        by_case: dict[UUID, list[tuple[str, set[str]]]] = {}
        for case_id, event_id, names in served:
            by_case.setdefault(case_id, []).append((event_id, names))
        entries = [
            trail.entry(
                action,
                case=str(case_id),
                events=[event_id for event_id, _ in events],
                fields={name for _, names in events for name in names},
                receiver=org_id,
                status=status,
                **(extra or {}),
            )
            for case_id, events in by_case.items()
        ]
        return trail.begin(entries)

    @staticmethod
    def _grants_by_event(rows: Iterable[GrantRow]) -> dict[str, list[dict[str, Any]]]:
        """Grants in their wire form, as stored: parsed only if the service opens them."""
        grants: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grants.setdefault(row.event_id, []).append(json.loads(row.grant))
        return grants

    def _disclose(
        self,
        org_id: str,
        event: Case.Event,
        position: int,
        grants: list[dict[str, Any]],
        decrypt: bool,
        superseded: dict[str, str],
        held: tuple[Restraint, ...] = (),
    ) -> SharedEvent:
        """`superseded`: the event's fields a correctie replaced, each with its event id;
        `held`: the restraints that keep all its content from `org_id`."""
        grants = [] if held else _current(grants, superseded)
        granted = _granted(grants)
        readable = {field_of(name)[0] for name in granted}
        payload = None
        if decrypt and not held:
            context = context_of(self.sealer.region, event)
            payload = self.sealer.open(
                org_id, context, event.content, grants, disclosed=event.is_disclosed
            )
        return SharedEvent(
            region=self.sealer.region,
            case_id=event.originator_id,
            version=event.originator_version,
            event_id=event.event_id,
            event_type=event.event_type,
            author_org=event.author_org,
            author_user=event.author_user,
            occurred_at=event.occurred_at,
            recorded_at=event.timestamp,
            control=visible_control(event.control),
            sealed={name: event.content[name] for name in sorted(granted)},
            grants=grants,
            withheld=[f for f in content_fields(event.event_type) if f not in readable],
            submission_id=event.submission_id,
            author_document=event.author_document,
            signature=event.signature,
            countersignature=event.countersignature,
            position=position,
            payload=payload,
            corrected=[
                {"field": name, "reason": CORRECTED, "correctie": correctie}
                for name, correctie in sorted(superseded.items())
            ],
            restricted=[r.to_json() for r in held],
        )


def _current(grants: list[dict[str, Any]], superseded: dict[str, str]) -> list[dict[str, Any]]:
    """The grants that open no superseded field. The grants of a corrected event are
    re-sealed without it at once (services.grants); one still naming it is never served,
    so neither its ciphertext nor a key to it leaves the service."""
    if not superseded:
        return grants
    return [g for g in grants if not any(field_of(str(n))[0] in superseded for n in g["fields"])]


def _granted(grants: list[dict[str, Any]]) -> set[str]:
    """The sealed field names an organisation's grants of one event open."""
    return {str(name) for g in grants for name in g["fields"]}
