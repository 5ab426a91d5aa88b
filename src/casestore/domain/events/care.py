"""Care along the way: warnings and their follow-up, the care level, case meetings,
escalation of a stuck case and periodic checks.

The care level follows "zo licht als het kan, zo zwaar als nodig": an opschaling only
goes up and an afschaling only down, both after inclusion, which sets the first level.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from casestore.domain import errors
from casestore.domain.events.fields import (
    EventRef,
    Financier,
    Kader,
    Level,
    LongText,
    OrganisationId,
    OverlegSoort,
    Setting,
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
        case.signaleringen = dict(case.signaleringen)
        cls.fold(case, event)

    @classmethod
    def fold(cls, case: Case, event: Case.Event) -> None:
        case.signaleringen[event.event_id] = False


def _check_answers(case: Case, control: dict[str, Any]) -> None:
    signal = control.get("signalering")
    if signal is not None and signal not in case.signaleringen:
        raise errors.UnknownSignalering(str(signal))


def _mark_answered(case: Case, event: Case.Event) -> None:
    """In place: callers that must not change the case's own dict copy it first."""
    signal = event.control.get("signalering")
    if signal is not None:
        case.signaleringen[str(signal)] = True


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
        case.signaleringen = dict(case.signaleringen)
        cls.fold(case, event)

    @classmethod
    def fold(cls, case: Case, event: Case.Event) -> None:
        _mark_answered(case, event)


class Schaling(Payload):
    """A change of the care level; `direction` says which way (+1 up, -1 down).

    Written by the case's levensloopaanbieder, which carries the care, or by another
    partner recording what a casusoverleg of the case decided (naming that meeting): a
    case role decides, not being a care organisation.
    """

    direction: ClassVar[int]

    niveau: Level = control()
    reden: LongText
    casusoverleg: EventRef | None = control(default=None)
    signalering: EventRef | None = control(default=None)
    setting: Setting | None = None
    ingangsdatum: date | None = None
    kader: Kader | None = None
    financier: Financier | None = None

    @classmethod
    def check_author(cls, case: Case, author: str, control: dict[str, Any]) -> None:
        case.check_author_in_network(author)
        case.check_included(cls.event_type)  # before inclusion no one holds the role
        meeting = control.get("casusoverleg")
        if meeting is not None:
            if meeting not in case.meetings:
                raise errors.UnknownCasusoverleg(str(meeting))
        elif author != case.regie.get("levensloopaanbieder"):
            raise errors.NotLevensloopaanbieder(author, cls.event_type)

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        case.check_included(cls.event_type)
        assert case.level is not None  # noqa: S101 - set by every positive inclusion
        requested = int(control["niveau"])
        if cls.direction > 0 and requested <= case.level:
            raise errors.LevelNotHigher(case.level, requested)
        if cls.direction < 0 and requested >= case.level:
            raise errors.LevelNotLower(case.level, requested)
        _check_answers(case, control)

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.signaleringen = dict(case.signaleringen)
        cls.fold(case, event)

    @classmethod
    def fold(cls, case: Case, event: Case.Event) -> None:
        case.level = int(event.control["niveau"])
        _mark_answered(case, event)


@event_type("opschaling", "Care intensity up (1 ambulant … 4 beveiligd/BIZ).")
class Opschaling(Schaling):
    direction = 1


@event_type("afschaling", "Care intensity down: as light as possible, as heavy as needed.")
class Afschaling(Schaling):
    direction = -1


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
        case.signaleringen = dict(case.signaleringen)
        case.meetings = list(case.meetings)
        cls.fold(case, event)

    @classmethod
    def fold(cls, case: Case, event: Case.Event) -> None:
        _mark_answered(case, event)
        case.meetings.append(event.event_id)


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
