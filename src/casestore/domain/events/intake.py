"""Intake: a referral, its triage, and the decision of the inclusietafel."""

from __future__ import annotations

import copy
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from casestore.domain import errors
from casestore.domain.events.fields import (
    FREE_TEXT,
    Bsn,
    EventRef,
    Level,
    LongText,
    OrganisationId,
    PastDate,
    ShortText,
)
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type
from casestore.domain.status import Status

if TYPE_CHECKING:
    from casestore.domain.case import Case

REGIE_ROLES = ("levensloopaanbieder", "casusregisseur", "procesregisseur")
RegieRol = Literal["levensloopaanbieder", "casusregisseur", "procesregisseur"]

NEW_IN_V2: dict[str, Any] = {
    "open_questions": {},
    "kaders": {},
    "action_owners": [],
    "signaleringen": {},
    "meetings": [],
    "informing": {"status": "niet_geinformeerd", "datum": None},
    "nazorg_until": None,
}
"""What a case knows of the steps between its milestones, as an aanmelding starts it."""


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
        for name, empty in NEW_IN_V2.items():
            setattr(case, name, copy.deepcopy(empty))


@event_type(
    "bekendheidsvraag",
    "The ZVH asks a network candidate whether it knows the person (before triage).",
)
class Bekendheidsvraag(Payload):
    organisatie: OrganisationId = control()
    naam: ShortText
    geboortedatum: PastDate
    antwoord_gevraagd_voor: date | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # The asked organisation is no member of the network: it only learns whom the
        # question is about, and answers.
        if case.status != Status.aangemeld:
            raise errors.AskedAfterTriage()
        if control["organisatie"] in case.open_questions.values():
            raise errors.AlreadyAsked(control["organisatie"])

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.open_questions = {**case.open_questions, event.event_id: event.control["organisatie"]}


@event_type(
    "bekendheidsantwoord",
    "The asked organisation answers a bekendheidsvraag: known or not, and whom to contact.",
)
class Bekendheidsantwoord(Payload):
    vraag: EventRef = control()
    organisatie: OrganisationId = control()
    bekend: bool
    contactpersoon: ShortText | None = None
    toelichting: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FREE_TEXT
        ]
        | None
    ) = None

    @classmethod
    def check_author(cls, case: Case, author: str, control: dict[str, Any]) -> None:
        # Only the asked organisation answers, and it need not be in the network to.
        asked = case.open_questions.get(str(control["vraag"]))
        if asked is None:
            raise errors.QuestionNotOpen(str(control["vraag"]))
        if author != asked or control["organisatie"] != asked:
            raise errors.NotAsked(author, str(control["vraag"]))

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """An answer may come as long as the case is open, after triage too."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.open_questions = {
            k: v for k, v in case.open_questions.items() if k != event.control["vraag"]
        }


@event_type(
    "triagebesluit", "Triage: to the inclusietafel, or another approach (which ends the case)."
)
class Triagebesluit(Payload):
    uitkomst: Literal["inclusietafel", "andere_aanpak"] = control()
    onderbouwing: LongText
    doelgroepcriteria: list[Literal["psychiatrische_stoornis", "lvb", "nah", "verslaving"]] = Field(
        min_length=1, max_length=4
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
