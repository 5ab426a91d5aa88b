"""Intake: a referral, its triage, and the decision of the inclusietafel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from casestore.domain import errors
from casestore.domain.events.fields import Bsn, Level, LongText, OrganisationId, PastDate, ShortText
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type
from casestore.domain.status import Status

if TYPE_CHECKING:
    from casestore.domain.case import Case

REGIE_ROLES = ("levensloopaanbieder", "casusregisseur", "procesregisseur")


@event_type(
    "aanmelding", "Referral of a person to the ZVH by a partner; opens the case.", opens_case=True
)
class Aanmelding(Payload):
    bsn: Bsn
    naam: ShortText
    geboortedatum: PastDate
    aanmeldreden: LongText
    risico_indicatie: LongText
    huidige_hulpverlening: LongText | None = None
    contactpersoon_aanmelder: ShortText

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        # Person and first network are control attributes the aggregate adds when it
        # opens the case: the pseudonym and the network are not the referrer's to tell.
        case.status = Status.aangemeld
        case.person_id = str(event.control.get("person_id", ""))  # "": destroyed
        case.network = sorted(set(event.control["netwerk"]))
        case.opened_occurred_at = event.occurred_at
        case.level = None
        case.plan_version = 0
        case.regie = {}
        case.conditions = {}
        case.closed_at = None


@event_type(
    "triagebesluit", "Triage: to the inclusietafel, or another approach (which ends the case)."
)
class Triagebesluit(Payload):
    uitkomst: Literal["inclusietafel", "andere_aanpak"] = control()
    onderbouwing: LongText
    doelgroepcriteria: list[Literal["psychiatrische_stoornis", "lvb", "nah"]] = Field(
        min_length=1, max_length=3
    )

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        if case.status != Status.aangemeld:
            raise errors.AlreadyTriaged()

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        if event.control["uitkomst"] == "inclusietafel":
            case.status = Status.getrieerd
        else:
            case.close(Status.afgesloten, event.occurred_at)


@event_type(
    "inclusiebesluit", "Decision of the inclusietafel; included cases get a levensloopaanbieder."
)
class Inclusiebesluit(Payload):
    by_regie = True
    geincludeerd: bool = control()
    levensloopaanbieder: OrganisationId | None = control(default=None)
    casusregisseur: OrganisationId | None = control(default=None)
    procesregisseur: OrganisationId | None = control(default=None)
    startniveau: Level | None = control(default=None)
    onderbouwing: LongText
    risicotaxatie: LongText | None = None

    @model_validator(mode="after")
    def _regie_only_when_included(self) -> Inclusiebesluit:
        named = {
            "levensloopaanbieder": self.levensloopaanbieder,
            "casusregisseur": self.casusregisseur,
            "procesregisseur": self.procesregisseur,
            "startniveau": self.startniveau,
        }
        if self.geincludeerd:
            missing = [name for name, value in named.items() if value is None]
            if missing:
                raise ValueError(f"an inclusion names {', '.join(missing)}")
        elif any(value is not None for value in named.values()):
            raise ValueError("a decision not to include names no regie or level")
        return self

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        if case.status == Status.aangemeld:
            raise errors.TriageRequired()
        if case.status != Status.getrieerd:
            raise errors.AlreadyDecided()

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        if not event.control["geincludeerd"]:
            case.close(Status.afgesloten, event.occurred_at)
            return
        case.status = Status.geincludeerd
        case.level = int(event.control["startniveau"])
        case.regie = {role: str(event.control[role]) for role in REGIE_ROLES}
        case.network = sorted(set(case.network) | set(case.regie.values()))
