"""Meeting packs for a casusoverleg: the agenda, and per attending organisation only what
the policy gives that organisation of each case on it.

A coordinator plans a meeting (kind, day, attendees, the cases on the agenda). For each
attendee the pack holds, per case, the events that organisation receives and of each only
the fields it is granted: its own grants decide, read from the grant table, so a field
the policy does not give it never enters its pack, whoever prepares it. The values are
opened with the preparing organisation's key (the service hosts the ZVH's), or with the
attendee's own where the service hosts it; a granted field the preparer cannot open is
named as not available rather than shown. The last casusoverleg of each case comes with
its actiepunten and how far each got: an actiepunt taken into the plan in force has the
status its owner reported (`actiestatus`), any other is open or past its termijn.

Every export (the page, the PDF, the API) is in the audit trail: one entry per case, with
the attendee as receiver and the field names it holds. The minutes are recorded after the
meeting as a `casusoverleg` event of the case, whose actiepunten may be taken into the
plan as a new plan version.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.worklist_tables import MeetingRow, WorklistTables
from casestore.domain import errors
from casestore.domain.events import EVENT_TYPES
from casestore.domain.events.fields import OverlegSoort
from casestore.services.audit import MEETING_PACK_EXPORTED
from casestore.services.case_store import Author, CaseStore, Recorded, Submission
from casestore.services.clients import Client, ClientRole
from casestore.services.disclosure import Disclosure, SharedEvent
from sharing.owned import field_of

MAX_AGENDA = 50
MAX_ATTENDEES = 30


class MeetingError(Exception):
    """A meeting cannot be planned, found or exported; the message is safe to show."""

    status = 422


class MeetingNotFound(MeetingError):
    status = 404


class MeetingRefused(MeetingError):
    status = 403


@dataclass(frozen=True)
class PackEvent:
    event_id: str
    event_type: str
    occurred_at: datetime
    author_org: str
    control: dict[str, Any]
    fields: dict[str, Any]  # granted to the attendee and opened
    unavailable: list[str]  # granted to the attendee, not opened by the preparer


@dataclass(frozen=True)
class PackAction:
    organisatie: str
    actie: str
    termijn: str | None
    status: str  # uitgevoerd | niet_mogelijk | niet_uitgevoerd | open | termijn_verstreken


@dataclass(frozen=True)
class PackCase:
    case_id: str
    received: bool  # whether the attendee receives anything of the case
    events: list[PackEvent] = field(default_factory=list)
    last_meeting: PackEvent | None = None
    actions: list[PackAction] = field(default_factory=list)

    @property
    def field_names(self) -> set[str]:
        return {name for e in self.events for name in e.fields}


@dataclass(frozen=True)
class Pack:
    meeting: MeetingRow
    organisation: str
    cases: list[PackCase]

    def to_json(self) -> dict[str, Any]:
        def event(e: PackEvent) -> dict[str, Any]:
            return {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "occurred_at": e.occurred_at.isoformat(),
                "author_org": e.author_org,
                "control": e.control,
                "fields": e.fields,
                "unavailable": e.unavailable,
            }

        return {
            "meeting": meeting_json(self.meeting),
            "organisation": self.organisation,
            "cases": [
                {
                    "case_id": c.case_id,
                    "received": c.received,
                    "events": [event(e) for e in c.events],
                    "last_meeting": None if c.last_meeting is None else event(c.last_meeting),
                    "actions": [vars(a) for a in c.actions],
                }
                for c in self.cases
            ],
        }


def meeting_json(m: MeetingRow) -> dict[str, Any]:
    return {
        "meeting_id": m.meeting_id,
        "soort": m.soort,
        "held_on": m.held_on,
        "title": m.title,
        "organiser": m.organiser,
        "attendees": m.attendee_list,
        "cases": m.case_list,
        "created_at": m.created_at.isoformat(),
    }


class Meetings:
    def __init__(
        self,
        store: CaseStore,
        disclosure: Disclosure,
        tables: WorklistTables,
        may_see: Callable[[Client, str], bool],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.disclosure = disclosure
        self.tables = tables
        self._may_see = may_see  # whether the client's worklist holds the case
        self.clock = clock

    # ---- planning ----------------------------------------------------------------------------

    def plan(
        self,
        client: Client,
        *,
        soort: str,
        held_on: date,
        title: str,
        attendees: list[str],
        cases: list[str],
    ) -> MeetingRow:
        """A meeting on the agenda of the client's organisation."""
        self._coordinator(client)
        if soort not in {s.value for s in OverlegSoort}:
            raise MeetingError(f"unknown kind of meeting {soort!r}")
        title = title.strip()
        if not 1 <= len(title) <= 200:
            raise MeetingError("a title of 1 to 200 characters")
        known = self.store.sealer.matrix.organisations
        attendees = sorted(set(attendees))
        if not 1 <= len(attendees) <= MAX_ATTENDEES:
            raise MeetingError(f"1 to {MAX_ATTENDEES} attendees")
        unknown = [org for org in attendees if org not in known]
        if unknown:
            raise MeetingError(f"no such organisation: {', '.join(unknown)}")
        agenda = list(dict.fromkeys(str(_case_id(c)) for c in cases))
        if not 1 <= len(agenda) <= MAX_AGENDA:
            raise MeetingError(f"1 to {MAX_AGENDA} cases on the agenda")
        for case_id in agenda:
            if not self._may_see(client, case_id):
                raise errors.CaseNotFound(case_id)
        row = MeetingRow(
            meeting_id=str(uuid.uuid4()),
            soort=soort,
            held_on=held_on.isoformat(),
            title=title,
            organiser=client.org_id,
            attendees=json.dumps(attendees),
            cases=json.dumps(agenda),
            created_by=client.client_id,
            created_at=self.clock(),
        )
        self.tables.add_meeting(row)
        return row

    def meetings(self, client: Client) -> list[MeetingRow]:
        self._coordinator(client)
        return [m for m in self.tables.meetings() if self._organises(client, m)]

    def meeting(self, client: Client, meeting_id: str) -> MeetingRow:
        self._coordinator(client)
        found = self.tables.meeting(meeting_id)
        if found is None or not self._organises(client, found):
            raise MeetingNotFound(f"no meeting {meeting_id}")
        return found

    # ---- packs -------------------------------------------------------------------------------

    def pack(self, client: Client, meeting_id: str, organisation: str, *, how: str) -> Pack:
        """The pack of one attendee, in the audit trail as exported (`how`: page, pdf, api)
        before it is returned."""
        meeting = self.meeting(client, meeting_id)
        if organisation not in meeting.attendee_list:
            raise MeetingNotFound(f"{organisation} does not attend meeting {meeting_id}")
        cases = [self._pack_case(client.org_id, organisation, c) for c in meeting.case_list]
        pack = Pack(meeting, organisation, cases)
        self._audit(pack, how)
        return pack

    def _pack_case(self, preparer: str, organisation: str, case_id: str) -> PackCase:
        case_uuid = UUID(case_id)
        if not self.disclosure.receives_any(organisation, case_uuid):
            return PackCase(case_id, received=False)
        hosted = self.store.sealer.keyring.hosted
        opener = organisation if organisation in hosted else preparer
        if opener not in hosted:
            raise MeetingRefused(f"the service cannot open what {opener} receives")
        received = self.disclosure.received(organisation, case_uuid)
        opened: dict[str, dict[str, Any]] = {}
        if self.disclosure.receives_any(opener, case_uuid):
            for event in self.disclosure.received(opener, case_uuid, decrypt=True):
                opened[event.event_id] = event.payload or {}
        events = [_pack_event(e, opened.get(e.event_id, {})) for e in received]
        meetings = [e for e in events if e.event_type == "casusoverleg"]
        last = meetings[-1] if meetings else None
        actions = self._actions(last, events) if last is not None else []
        return PackCase(case_id, True, events, last, actions)

    def _actions(self, meeting: PackEvent, events: list[PackEvent]) -> list[PackAction]:
        """The last meeting's actiepunten the attendee may read, each with its status."""
        plans = [e for e in events if e.event_type == "planwijziging"]
        plan = plans[-1] if plans else None
        reported: dict[int, str] = {}
        if plan is not None:
            version = plan.control.get("planversie")
            for e in events:
                if e.event_type == "actiestatus" and e.control.get("planversie") == version:
                    reported[int(e.control["actie"])] = str(e.control["status"])
        plan_actions = list(plan.fields.get("acties", [])) if plan is not None else []
        today = self.clock().date().isoformat()
        actions = []
        for point in meeting.fields.get("actiepunten", []):
            status = "open"
            for number, action in enumerate(plan_actions, start=1):
                same = (action.get("organisatie"), action.get("actie"))
                if same == (point.get("organisatie"), point.get("actie")) and number in reported:
                    status = reported[number]
            termijn = point.get("termijn")
            if status == "open" and termijn is not None and termijn < today:
                status = "termijn_verstreken"
            actions.append(
                PackAction(str(point["organisatie"]), str(point["actie"]), termijn, status)
            )
        return actions

    def _audit(self, pack: Pack, how: str) -> None:
        trail = self.store.audit
        if trail is None:
            return
        reason = f"vergaderstuk {pack.meeting.meeting_id} ({how})"
        entries = [
            trail.entry(
                MEETING_PACK_EXPORTED,
                case=c.case_id,
                events=[e.event_id for e in c.events],
                fields=c.field_names,
                receiver=pack.organisation,
                reason=reason,
            )
            for c in pack.cases
            if c.received
        ] or [trail.entry(MEETING_PACK_EXPORTED, receiver=pack.organisation, reason=reason)]
        trail.record(entries)

    # ---- minutes -----------------------------------------------------------------------------

    def record_minutes(
        self,
        client: Client,
        meeting_id: str,
        case_id: str,
        payload: dict[str, Any],
        *,
        user: str,
        into_plan: bool = False,
    ) -> list[Recorded]:
        """The minutes of one case as its `casusoverleg` event; with `into_plan` its
        actiepunten are added to the plan in force as its next version."""
        meeting = self.meeting(client, meeting_id)
        if case_id not in meeting.case_list:
            raise MeetingNotFound(f"case {case_id} is not on the agenda of {meeting_id}")
        payload = {**payload, "soort": meeting.soort}
        author = Author(client.org_id, user)
        case_uuid = UUID(case_id)
        key = f"minutes:{meeting_id}:{case_id}"
        recorded = [
            self.store.append(
                case_uuid, Submission("casusoverleg", payload, author, idempotency_key=key)
            )
        ]
        points = payload.get("actiepunten") or []
        if into_plan and points:
            recorded.append(
                self._into_plan(client, case_uuid, recorded[0].version, points, author, key)
            )
        return recorded

    def _into_plan(
        self,
        client: Client,
        case_id: UUID,
        minutes_version: int,
        points: list[dict[str, Any]],
        author: Author,
        key: str,
    ) -> Recorded:
        # The plan the minutes met, not the one in force now: minutes posted again then
        # make the same plan version, which the store answers with the first.
        case = self.store.case(case_id, version=minutes_version)
        if case.plan_version == 0:
            raise MeetingError("the case has no plan yet to take the actiepunten into")
        plans = [
            e
            for e in self.disclosure.received(client.org_id, case_id, decrypt=True)
            if e.event_type == "planwijziging" and e.version < minutes_version
        ]
        current = (plans[-1].payload or {}) if plans else {}
        if not {"doelen", "acties", "casusregisseur_contact"} <= set(current):
            raise MeetingError("the plan in force cannot be read whole by the organisation")
        plan = {
            "planversie": case.plan_version + 1,
            "doelen": current["doelen"],
            "acties": [
                *current["acties"],
                *(
                    {k: v for k, v in p.items() if k in {"organisatie", "actie", "termijn"}}
                    for p in points
                ),
            ],
            "casusregisseur_contact": current["casusregisseur_contact"],
            "toelichting": "Actiepunten uit het casusoverleg overgenomen.",
        }
        return self.store.append(
            case_id,
            Submission("planwijziging", plan, author, idempotency_key=f"{key}:plan"),
        )

    # ---- who ---------------------------------------------------------------------------------

    def _coordinator(self, client: Client) -> None:
        if client.role is not ClientRole.coordinator:
            raise MeetingRefused(f"the role {client.role.value} prepares no meetings")

    def _organises(self, client: Client, meeting: MeetingRow) -> bool:
        return client.org_id in (meeting.organiser, self.store.custodian)


def _case_id(text: str) -> UUID:
    try:
        return UUID(str(text))
    except ValueError:
        raise MeetingError(f"not a case id: {text!r}") from None


def _pack_event(event: SharedEvent, opened: dict[str, Any]) -> PackEvent:
    """The event with only the fields the attendee is granted, taken from what the
    opener read: a whole field when granted whole, an owned field's entries only of the
    owners the attendee is granted."""
    owner_keys = EVENT_TYPES.schema_of(event.event_type).owned_fields()
    whole: set[str] = set()
    owned: dict[str, set[str]] = {}
    for name in event.sealed:
        base, owner = field_of(name)
        if owner:
            owned.setdefault(base, set()).add(owner)
        else:
            whole.add(base)
    fields: dict[str, Any] = {}
    unavailable: list[str] = []
    for name in sorted(whole):
        if name in opened:
            fields[name] = opened[name]
        else:
            unavailable.append(name)
    for name, owners in sorted(owned.items()):
        key = owner_keys.get(name)
        entries = opened.get(name)
        if key is None or not isinstance(entries, list):
            unavailable.append(name)
            continue
        fields[name] = [e for e in entries if str(e.get(key)) in owners]
    return PackEvent(
        event.event_id,
        event.event_type,
        event.occurred_at,
        event.author_org,
        event.control,
        fields,
        unavailable,
    )
