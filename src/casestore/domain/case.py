"""The case aggregate: one event stream per person in the levensloopaanpak.

The aggregate enforces the process (what may happen when) from control attributes only:
status, care level, plan version and network. It never sees plaintext content — the
`content` of each event is whatever the sharing layer made of it (sealed fields), carried
through unchanged — so rebuilding a case never needs a decryption key.

Event classes carry explicit, stable topics: they are the names stored with every event,
and renaming a Python class must never orphan a stored event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from casestore.domain import errors
from casestore.domain.header import EventHeader
from casestore.domain.status import OPEN_STATUSES, Status

REGIE_ROLES = ("levensloopaanbieder", "casusregisseur", "procesregisseur")
ADMITTING = ("organisatie", *REGIE_ROLES)  # control attributes that bring an org in


class Case(Aggregate):
    TOPIC = "casestore.case"

    class Event(Aggregate.Event):
        """Every case event has the same header; subclasses say how state changes."""

        TOPIC = "casestore.case.event"
        event_type: ClassVar[str] = ""

        event_id: str
        author_org: str
        author_user: str
        occurred_at: datetime
        control: dict[str, Any]
        content: dict[str, Any]
        digest: str
        signature: dict[str, Any] | None
        countersignature: dict[str, Any] | None

        def apply(self, aggregate: Any) -> None:
            self.change(aggregate)

        def change(self, case: Case) -> None:
            """Subclasses evolve the control state here."""

    class Aanmelding(Aggregate.Created, Event):
        TOPIC = "casestore.case.aanmelding"
        event_type = "aanmelding"

        def change(self, case: Case) -> None:
            case.status = Status.aangemeld
            case.person_id = str(self.control["person_id"])
            case.network = sorted(set(self.control["netwerk"]))
            case.opened_occurred_at = self.occurred_at
            case.level = None
            case.plan_version = 0
            case.regie = {}
            case.closed_at = None

    class Triagebesluit(Event):
        TOPIC = "casestore.case.triagebesluit"
        event_type = "triagebesluit"

        def change(self, case: Case) -> None:
            if self.control["uitkomst"] == "inclusietafel":
                case.status = Status.getrieerd
            else:
                case.close(Status.afgesloten, self.occurred_at)

    class Inclusiebesluit(Event):
        TOPIC = "casestore.case.inclusiebesluit"
        event_type = "inclusiebesluit"

        def change(self, case: Case) -> None:
            if not self.control["geincludeerd"]:
                case.close(Status.afgesloten, self.occurred_at)
                return
            case.status = Status.geincludeerd
            case.level = int(self.control["startniveau"])
            case.regie = {role: str(self.control[role]) for role in REGIE_ROLES}
            case.network = sorted(set(case.network) | set(case.regie.values()))

    class Netwerkwijziging(Event):
        TOPIC = "casestore.case.netwerkwijziging"
        event_type = "netwerkwijziging"

        def change(self, case: Case) -> None:
            organisation = self.control["organisatie"]
            members = set(case.network)
            if self.control["wijziging"] == "toegetreden":
                members.add(organisation)
            else:
                members.discard(organisation)
            case.network = sorted(members)

    class Planwijziging(Event):
        TOPIC = "casestore.case.planwijziging"
        event_type = "planwijziging"

        def change(self, case: Case) -> None:
            case.plan_version = int(self.control["planversie"])

    class Signalering(Event):
        TOPIC = "casestore.case.signalering"
        event_type = "signalering"

    class Opschaling(Event):
        TOPIC = "casestore.case.opschaling"
        event_type = "opschaling"

        def change(self, case: Case) -> None:
            case.level = int(self.control["niveau"])

    class Afschaling(Event):
        TOPIC = "casestore.case.afschaling"
        event_type = "afschaling"

        def change(self, case: Case) -> None:
            case.level = int(self.control["niveau"])

    class Casusoverleg(Event):
        TOPIC = "casestore.case.casusoverleg"
        event_type = "casusoverleg"

    class Monitoringsmoment(Event):
        TOPIC = "casestore.case.monitoringsmoment"
        event_type = "monitoringsmoment"

    class Uitstroom(Event):
        TOPIC = "casestore.case.uitstroom"
        event_type = "uitstroom"

        def change(self, case: Case) -> None:
            case.close(Status.uitgestroomd, self.occurred_at)

    # The library expects this name for the opening event.
    Created = Aanmelding

    if TYPE_CHECKING:  # state set by events; class-level annotations would become __init__ args
        _status: str
        person_id: str
        network: list[str]
        level: int | None
        plan_version: int
        regie: dict[str, str]
        opened_occurred_at: datetime
        closed_at: datetime | None

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
            cls.Aanmelding,
            id=case_id,
            timestamp=header.recorded_at,
            event_id=header.event_id,
            author_org=header.author_org,
            author_user=header.author_user,
            occurred_at=header.occurred_at,
            control={**control, "person_id": str(person_id), "netwerk": sorted(set(network))},
            content=content,
            digest=header.digest,
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
        event_class = EVENT_CLASSES.get(event_type)
        if event_class is None:
            raise errors.UnknownEventType(event_type)
        if event_class is Case.Aanmelding:
            raise errors.CaseAlreadyOpened()
        self.check_open(event_type)
        self.check_author_in_network(header.author_org)
        if header.occurred_at < self.opened_occurred_at:
            raise errors.OccurredBeforeOpening()
        RULES[event_type](self, control)
        self.trigger_event(
            event_class,
            timestamp=header.recorded_at,
            event_id=header.event_id,
            author_org=header.author_org,
            author_user=header.author_user,
            occurred_at=header.occurred_at,
            control=control,
            content=content,
            digest=header.digest,
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

    # ---- process rules ----------------------------------------------------------------

    def check_open(self, event_type: str) -> None:
        if not self.is_open:
            raise errors.CaseClosed(event_type, str(self.status))

    def check_author_in_network(self, organisation: str) -> None:
        if organisation not in self.network:
            raise errors.AuthorNotInNetwork(organisation)

    def check_included(self, event_type: str) -> None:
        if self.status != Status.geincludeerd:
            raise errors.InclusionRequired(event_type)

    def check_triage(self, control: dict[str, Any]) -> None:
        if self.status != Status.aangemeld:
            raise errors.AlreadyTriaged()

    def check_inclusion(self, control: dict[str, Any]) -> None:
        if self.status == Status.aangemeld:
            raise errors.TriageRequired()
        if self.status != Status.getrieerd:
            raise errors.AlreadyDecided()

    def check_network_change(self, control: dict[str, Any]) -> None:
        organisation = control["organisatie"]
        if control["wijziging"] == "toegetreden":
            if organisation in self.network:
                raise errors.AlreadyInNetwork(organisation)
            return
        if organisation not in self.network:
            raise errors.NotInNetwork(organisation)
        if organisation in self.regie.values():
            raise errors.RegisseurMustStay(organisation)

    def check_plan(self, control: dict[str, Any]) -> None:
        self.check_included("planwijziging")
        expected = self.plan_version + 1
        if int(control["planversie"]) != expected:
            raise errors.PlanVersionOutOfOrder(expected, int(control["planversie"]))

    def check_opschaling(self, control: dict[str, Any]) -> None:
        self.check_included("opschaling")
        assert self.level is not None  # noqa: S101 - set by every positive inclusion
        if int(control["niveau"]) <= self.level:
            raise errors.LevelNotHigher(self.level, int(control["niveau"]))

    def check_afschaling(self, control: dict[str, Any]) -> None:
        self.check_included("afschaling")
        assert self.level is not None  # noqa: S101 - set by every positive inclusion
        if int(control["niveau"]) >= self.level:
            raise errors.LevelNotLower(self.level, int(control["niveau"]))

    def check_monitoring(self, control: dict[str, Any]) -> None:
        self.check_included("monitoringsmoment")

    def check_uitstroom(self, control: dict[str, Any]) -> None:
        self.check_included("uitstroom")


def _anytime(case: Case, control: dict[str, Any]) -> None:
    """Allowed whenever the case is open (signalering, casusoverleg)."""


RULES = {
    "triagebesluit": Case.check_triage,
    "inclusiebesluit": Case.check_inclusion,
    "netwerkwijziging": Case.check_network_change,
    "planwijziging": Case.check_plan,
    "signalering": _anytime,
    "opschaling": Case.check_opschaling,
    "afschaling": Case.check_afschaling,
    "casusoverleg": _anytime,
    "monitoringsmoment": Case.check_monitoring,
    "uitstroom": Case.check_uitstroom,
}

EVENT_CLASSES: dict[str, type[Case.Event]] = {
    cls.event_type: cls
    for cls in (
        Case.Aanmelding,
        Case.Triagebesluit,
        Case.Inclusiebesluit,
        Case.Netwerkwijziging,
        Case.Planwijziging,
        Case.Signalering,
        Case.Opschaling,
        Case.Afschaling,
        Case.Casusoverleg,
        Case.Monitoringsmoment,
        Case.Uitstroom,
    )
}
