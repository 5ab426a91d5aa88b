"""The case aggregate: one event stream per person in the levensloopaanpak.

The aggregate enforces the process (what may happen when) from control attributes only:
status, care level, plan version and network. It never sees plaintext content — the
`content` of each event is whatever the sharing layer made of it (sealed fields), carried
through unchanged — so rebuilding a case never needs a decryption key.

What each event type allows and changes is said by the type itself, in
`casestore.domain.events`; the aggregate adds what every type shares and makes one event
class per registered type. Those classes carry explicit, stable topics
("casestore.case.<type>"): they are the names stored with every event, and renaming a
Python class must never orphan a stored event.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from casestore.domain import errors
from casestore.domain.events import EVENT_TYPES, Payload
from casestore.domain.events.intake import NEW_IN_V2, NEW_IN_V3, REGIE_ROLES
from casestore.domain.header import EventHeader
from casestore.domain.status import OPEN_STATUSES, Status

# Control attributes that bring an organisation in: one joining the network, the regie an
# inclusion names, the new holder of a transferred role.
ADMITTING = ("organisatie", *REGIE_ROLES, "naar")
# Kept with the event for the process, shown to no recipient: the link to the person index,
# who owns which action of the plan (a partner that reads its own actions only must not
# learn who else has one), the day a person referred young turns 18 and whether a decision
# found them adult (what the birth date says is the referrer's to tell).
INTERNAL_CONTROL = frozenset(
    {"person_id", "actiehouders", "minderjarig_tot", "meerderjarig_geclaimd"}
)


def destroyed_state(state: dict[str, Any], when: str) -> dict[str, Any]:
    """A stored case event's state once its case is destroyed: no content, no link to the
    person, and the marker that says so."""
    control = {k: v for k, v in state["control"].items() if k not in INTERNAL_CONTROL}
    return {**state, "control": control, "content": {}, "destroyed": when}


def visible_control(control: dict[str, Any]) -> dict[str, Any]:
    """The control attributes recipients see: all but the link to the person index."""
    return {k: v for k, v in control.items() if k not in INTERNAL_CONTROL}


def _event_classes(base: type[Aggregate.Event]) -> dict[str, type[Aggregate.Event]]:
    """One event class per registered type, by class name; the opening type's is a Created."""
    classes: dict[str, type[Aggregate.Event]] = {}
    for name, payload_type in EVENT_TYPES.items():
        class_name = payload_type.__name__
        bases = (Aggregate.Created, base) if payload_type.opens_case else (base,)
        classes[class_name] = type(
            class_name,
            bases,
            {
                "__module__": __name__,
                "__qualname__": f"Case.{class_name}",
                "__doc__": payload_type.summary,
                "TOPIC": f"casestore.case.{name}",
                "event_type": name,
                "payload_type": payload_type,
            },
        )
    return classes


class Case(Aggregate):
    TOPIC = "casestore.case"

    class Event(Aggregate.Event):
        """Every case event has the same header; its type says how the case changes."""

        TOPIC = "casestore.case.event"
        event_type: ClassVar[str] = ""
        payload_type: ClassVar[type[Payload]]

        event_id: str
        author_org: str
        author_user: str
        occurred_at: datetime
        control: dict[str, Any]
        content: dict[str, Any]
        digest: str
        submission_id: str | None
        author_document: dict[str, Any] | None
        signature: dict[str, Any] | None
        countersignature: dict[str, Any] | None
        destroyed: str | None = None
        """When the case was destroyed (ISO 8601): the event's content and link to the
        person are gone, only its place in the case's history is left."""

        # Version 1 events were recorded before signed disclosures: their sealed values are
        # bare JSON, their author signed the payload itself, and they name no submission.
        # They keep being read as they are (`is_disclosed` tells the readers which).
        # Version 3 events may carry the marker of a destroyed case.
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("submission_id", None)
            state.setdefault("author_document", None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.setdefault("destroyed", None)

        @property
        def is_disclosed(self) -> bool:
            """Whether each sealed value is a salted disclosure its author signed a digest
            of (every event since signed disclosures), rather than bare JSON."""
            return self.author_document is not None

        def apply(self, aggregate: Any) -> None:
            self.payload_type.evolve(aggregate, self)

    # The event classes are made inside the class body (whose namespace vars() is) because
    # that is where the library looks: it registers the topic of every event class it
    # finds in an aggregate's body, and takes the one that creates the aggregate as its
    # Created event. A body without one gets a Created made by the library, under the
    # topic of Event.
    vars().update(_event_classes(Event))
    Created = vars()[EVENT_TYPES.opening().__name__]

    if TYPE_CHECKING:  # state set by events; class-level annotations would become __init__ args
        _status: str
        person_id: str
        network: list[str]
        level: int | None
        plan_version: int
        regie: dict[str, str]
        conditions: dict[str, dict[str, Any]]
        opened_occurred_at: datetime
        closed_at: datetime | None
        open_questions: dict[str, str]  # bekendheidsvraag event id -> organisation asked
        kaders: dict[str, dict[str, str | None]]  # kader -> {"id", "van", "tot"}
        action_owners: list[str]  # owner of each action of the plan in force, in order
        signaleringen: dict[str, bool]  # signalering event id -> followed up
        meetings: list[str]  # casusoverleg event ids
        informing: dict[str, str | None]  # {"status", "datum"}: the informatieplicht
        nazorg_until: str | None  # end of the nazorg watch period after an uitstroom
        minderjarig_tot: str | None  # the 18th birthday of a person referred young
        case_roles: dict[str, str]  # organisation -> its rol_in_casus
        corrections: dict[str, dict[str, str]]  # event id -> field -> correctie event id
        objections: dict[str, str]  # bezwaar event id -> state of its decision
        restraints: dict[str, dict[str, Any]]  # beperking / bezwaar id -> its control facts

    # Version 2 cases know the steps between the milestones (bekendheid, kaders, plan
    # actions, signals followed up, meetings, informing, nazorg); a snapshot of version 1 starts
    # them empty, as a case without such events has them.
    # Version 3 cases know the 18th birthday of a person referred young and each partner's
    # rol_in_casus; a snapshot of version 2 knows neither, as its events told neither.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        for name, empty in NEW_IN_V2.items():
            state.setdefault(name, copy.deepcopy(empty))

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        for name, empty in NEW_IN_V3.items():
            state.setdefault(name, copy.deepcopy(empty))

    @classmethod
    def event_class(cls, event_type: str) -> type[Case.Event]:
        """The class an event of this type is stored as."""
        event_class: type[Case.Event] = getattr(cls, EVENT_TYPES.schema_of(event_type).__name__)
        return event_class

    # ---- commands -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        case_id: UUID,
        person_id: UUID,
        network: list[str],
        header: EventHeader,
        control: dict[str, Any],
        content: dict[str, Any],
    ) -> Case:
        """Open a case by its aanmelding; the initial network is chosen by the caller."""
        return cls._create(
            cls.Created,
            id=case_id,
            timestamp=header.recorded_at,
            event_id=header.event_id,
            author_org=header.author_org,
            author_user=header.author_user,
            occurred_at=header.occurred_at,
            control={**control, "person_id": str(person_id), "netwerk": sorted(set(network))},
            content=content,
            digest=header.digest,
            submission_id=header.submission_id,
            author_document=header.author_document,
            signature=header.signature,
            countersignature=header.countersignature,
        )

    def record(
        self,
        event_type: str,
        *,
        header: EventHeader,
        control: dict[str, Any],
        content: dict[str, Any],
    ) -> None:
        """Record one event after the process rules for its type allow it."""
        payload_type = EVENT_TYPES.schema_of(event_type)
        if payload_type.opens_case:
            raise errors.CaseAlreadyOpened()
        if not payload_type.after_end:
            self.check_open(event_type)
        payload_type.check_author(self, header.author_org, control)
        if header.occurred_at < self.opened_occurred_at:
            raise errors.OccurredBeforeOpening()
        payload_type.guard(self, control)
        payload_type.guard_on(self, control, header.occurred_at.date())
        self.trigger_event(
            self.event_class(event_type),
            timestamp=header.recorded_at,
            event_id=header.event_id,
            author_org=header.author_org,
            author_user=header.author_user,
            occurred_at=header.occurred_at,
            control=control,
            content=content,
            digest=header.digest,
            submission_id=header.submission_id,
            author_document=header.author_document,
            signature=header.signature,
            countersignature=header.countersignature,
        )

    def audience(self, control: dict[str, Any]) -> list[str]:
        """Who an event is shared with: the network before it plus whoever it admits.

        A joining organisation sees its own joining, a leaving one its leaving, and the
        regie named by an inclusion sees that inclusion.
        """
        admitted = {str(control[name]) for name in ADMITTING if control.get(name)}
        return sorted(set(self.network) | admitted)

    # ---- state helpers used by events ----------------------------------------------

    @property
    def destroyed(self) -> bool:
        """Whether the case was destroyed at the end of its retention term."""
        return not self.person_id

    @property
    def status(self) -> Status:
        return Status(self._status)

    @status.setter
    def status(self, value: Status) -> None:
        # Kept as a plain string: snapshots store JSON, and a case loaded from one must
        # hold exactly what a case rebuilt from its events holds.
        self._status = str(value)

    def close(self, status: Status, when: datetime) -> None:
        self.status = status
        self.closed_at = when

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # ---- checks every event type shares, and the one most of them make ---------------

    def check_open(self, event_type: str) -> None:
        if not self.is_open:
            raise errors.CaseClosed(event_type, str(self.status))

    def check_author_in_network(self, organisation: str) -> None:
        if organisation not in self.network:
            raise errors.AuthorNotInNetwork(organisation)

    def check_included(self, event_type: str) -> None:
        if self.status != Status.geincludeerd:
            raise errors.InclusionRequired(event_type)

    # ---- what the case knows besides its status -------------------------------------

    def kaders_in_force(self, on: date) -> list[str]:
        """The juridische kaders in force on a day: each kader's latest period covers it
        (from its start date up to and including its end date)."""
        return sorted(
            kader
            for kader, period in self.kaders.items()
            if str(period["van"]) <= on.isoformat()
            and (period["tot"] is None or on.isoformat() <= str(period["tot"]))
        )


# A type registered from here on would have no event class to be recorded as.
EVENT_TYPES.freeze("the case aggregate's event classes are made from the registry already")
