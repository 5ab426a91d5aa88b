"""Care along the way: warnings and their follow-up, the care level, case meetings,
escalation of a stuck case and periodic checks.

The care level follows "zo licht als het kan, zo zwaar als nodig": an opschaling only
goes up and an afschaling only down, both after inclusion, which sets the first level.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from casestore.domain import errors
from casestore.domain.events.fields import (
    EventRef,
    Level,
    LongText,
    OrganisationId,
    OverlegSoort,
    SignaleringCategorie,
    Strict,
)
from casestore.domain.events.payload import OWNED_BY, Payload, control
from casestore.domain.events.registry import event_type

if TYPE_CHECKING:
    from casestore.domain.case import Case


@event_type("signalering", "Early warning of relapse or risk.")
class Signalering(Payload):
    categorie: SignaleringCategorie
    ernst: Level
    gevraagde_actie: LongText
    toelichting: LongText | None = None
    diagnose: LongText | None = None
    medicatie: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """A warning may come whenever the case is open: risk does not wait for inclusion."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.signaleringen = {**case.signaleringen, event.event_id: False}


def _check_answers(case: Case, control: dict[str, Any]) -> None:
    signal = control.get("signalering")
    if signal is not None and signal not in case.signaleringen:
        raise errors.UnknownSignalering(str(signal))


def _mark_answered(case: Case, event: Case.Event) -> None:
    signal = event.control.get("signalering")
    if signal is not None:
        case.signaleringen = {**case.signaleringen, str(signal): True}


@event_type(
    "reactie",
    "The follow-up of a signalering: the signalling partner sees that it was answered.",
)
class Reactie(Payload):
    signalering: EventRef = control()
    opvolging: Literal["opgepakt", "afgehandeld", "geen_actie_nodig"] = control()
    toelichting: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # As a signalering, a reactie needs no inclusion; it needs the signal it answers.
        if control["signalering"] not in case.signaleringen:
            raise errors.UnknownSignalering(str(control["signalering"]))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        _mark_answered(case, event)


@event_type("opschaling", "Care intensity up (1 ambulant … 4 beveiligd/BIZ).")
class Opschaling(Payload):
    niveau: Level = control()
    reden: LongText
    signalering: EventRef | None = control(default=None)

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        case.check_included(cls.event_type)
        assert case.level is not None  # noqa: S101 - set by every positive inclusion
        if int(control["niveau"]) <= case.level:
            raise errors.LevelNotHigher(case.level, int(control["niveau"]))
        _check_answers(case, control)

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.level = int(event.control["niveau"])
        _mark_answered(case, event)


@event_type("afschaling", "Care intensity down: as light as possible, as heavy as needed.")
class Afschaling(Payload):
    niveau: Level = control()
    reden: LongText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        case.check_included(cls.event_type)
        assert case.level is not None  # noqa: S101 - set by every positive inclusion
        if int(control["niveau"]) >= case.level:
            raise errors.LevelNotLower(case.level, int(control["niveau"]))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.level = int(event.control["niveau"])


class Actiepunt(Strict):
    organisatie: OrganisationId
    actie: LongText
    termijn: date | None = None


@event_type(
    "casusoverleg",
    "A case meeting of a kind: chair, present and absent, decisions and actiepunten.",
)
class Casusoverleg(Payload):
    soort: OverlegSoort = control()
    signalering: EventRef | None = control(default=None)
    voorzitter: OrganisationId | None = None
    deelnemers: list[OrganisationId] = Field(min_length=1, max_length=30)
    afwezig: list[OrganisationId] = Field(default_factory=list, max_length=30)
    besluiten: LongText
    actiepunten: list[Actiepunt] = Field(
        default_factory=list, max_length=100, json_schema_extra={OWNED_BY: "organisatie"}
    )
    verslag: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """The network meets whenever the case is open, to triage and include as well."""
        _check_answers(case, control)

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        _mark_answered(case, event)


@event_type(
    "escalatie",
    "Bestuurlijke opschaling of a stuck case: knelpunt, gremium, besluit, termijn.",
)
class Escalatie(Payload):
    gremium: Literal["stuurgroep_zvh", "bestuurlijk_overleg", "driehoek", "regionaal_netwerk"] = (
        control()
    )
    termijn: date | None = control(default=None)
    knelpunt: LongText
    besluit: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """A case can be stuck before inclusion too: no provider takes it on."""


@event_type("monitoringsmoment", "A periodic check of how the person is doing against the plan.")
class Monitoringsmoment(Payload):
    bevindingen: LongText
    risico_inschatting: Literal["laag", "verhoogd", "hoog"]
    volgende_moment: date | None = None
