"""Intake: a referral, its triage, and the decision of the inclusietafel."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import PrivateAttr, StringConstraints, ValidationInfo, model_validator

from casestore.domain import errors
from casestore.domain.events.fields import (
    FREE_TEXT,
    SOME_TEXT,
    AfsluitredenVoorInclusie,
    Bsn,
    Doelgroepcriteria,
    EventRef,
    Level,
    LongText,
    Oordeel,
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

NEW_IN_V3: dict[str, Any] = {"minderjarig_tot": None, "case_roles": {}}
"""What a case knows since version 3: the day a person referred as a minor turns 18, and
the part each partner plays in the case (its rol_in_casus)."""

ADULT_AGE = 18


def eighteenth_birthday(born: date) -> date:
    """The day a person born on `born` turns 18 (a 29 February birthday: 1 March)."""
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:
        return date(born.year + ADULT_AGE, 3, 1)


def check_age_claim(case: Case, control: dict[str, Any], day: date) -> None:
    """Refuse a decision that finds the person adult on a day the birth date of the
    aanmelding says they were not."""
    adult_on = case.minderjarig_tot
    if control.get("meerderjarig_geclaimd") and adult_on is not None and day.isoformat() < adult_on:
        raise errors.MinorClaimedAdult(adult_on)


def age_claim(criteria: Doelgroepcriteria | None) -> dict[str, Any]:
    if criteria is not None and criteria.meerderjarig is Oordeel.voldaan:
        return {"meerderjarig_geclaimd": True}
    return {}


@event_type(
    "aanmelding", "Referral of a person to the ZVH by a partner; opens the case.", opens_case=True
)
class Aanmelding(Payload):
    """Without a BSN (a referrer the law does not let process it) the person is found by
    the name and birth date: see `casestore.domain.person.pseudonym_by_name`."""

    bsn: Bsn | None = None
    naam: ShortText
    geboortedatum: PastDate
    aanmeldreden: LongText
    risico_indicatie: LongText
    huidige_hulpverlening: LongText | None = None
    contactpersoon_aanmelder: ShortText

    _minderjarig_tot: date | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _note_minor(self, info: ValidationInfo) -> Aanmelding:
        # The case keeps (hidden from every recipient) only the day a person who may still
        # be a minor turns 18, so that a triage cannot find them adult before it. For
        # everyone else it keeps nothing of the birth date. A year's margin covers an
        # aanmelding recorded later than it occurred.
        today = (info.context or {}).get("today")
        turns_adult = eighteenth_birthday(self.geboortedatum)
        if today is not None and turns_adult > today - timedelta(days=366):
            self._minderjarig_tot = turns_adult
        return self

    def internal_control(self) -> dict[str, Any]:
        if self._minderjarig_tot is None:
            return {}
        return {"minderjarig_tot": self._minderjarig_tot.isoformat()}

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
        for name, empty in (NEW_IN_V2 | NEW_IN_V3).items():
            setattr(case, name, copy.deepcopy(empty))
        case.minderjarig_tot = event.control.get("minderjarig_tot")


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
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=500, pattern=SOME_TEXT
            ),
            FREE_TEXT,
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
    afsluitreden: AfsluitredenVoorInclusie | None = control(default=None)
    onderbouwing: LongText
    doelgroepcriteria: Doelgroepcriteria

    @model_validator(mode="after")
    def _reason_when_ended(self) -> Triagebesluit:
        if self.uitkomst == "andere_aanpak" and self.afsluitreden is None:
            raise ValueError("a triage to another approach ends the case: name its afsluitreden")
        if self.uitkomst == "inclusietafel":
            if self.afsluitreden is not None:
                raise ValueError("a triage to the inclusietafel ends nothing: no afsluitreden")
            if not self.doelgroepcriteria.stoornis_voldaan():
                raise ValueError(
                    "to the inclusietafel only with one of psychiatrische_stoornis, lvb, nah, "
                    "verslaving voldaan"
                )
        return self

    def internal_control(self) -> dict[str, Any]:
        return age_claim(self.doelgroepcriteria)

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        if case.status != Status.aangemeld:
            raise errors.AlreadyTriaged()

    @classmethod
    def guard_on(cls, case: Case, control: dict[str, Any], day: date) -> None:
        check_age_claim(case, control, day)

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
    afsluitreden: AfsluitredenVoorInclusie | None = control(default=None)
    onderbouwing: LongText
    risicotaxatie: LongText | None = None
    doelgroepcriteria: Doelgroepcriteria | None = None

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
            if self.afsluitreden is not None:
                raise ValueError("an inclusion ends nothing: no afsluitreden")
        else:
            if any(value is not None for value in named.values()):
                raise ValueError("a decision not to include names no regie or level")
            if self.afsluitreden is None:
                raise ValueError("a decision not to include ends the case: name its afsluitreden")
        return self

    def internal_control(self) -> dict[str, Any]:
        return age_claim(self.doelgroepcriteria) if self.geincludeerd else {}

    @classmethod
    def guard_on(cls, case: Case, control: dict[str, Any], day: date) -> None:
        check_age_claim(case, control, day)

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
