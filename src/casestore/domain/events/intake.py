"""Intake: a referral, its triage, and the decision of the inclusietafel."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from casestore.domain.events.fields import Bsn, Level, LongText, OrganisationId, PastDate, ShortText
from casestore.domain.events.payload import Payload, control


class Aanmelding(Payload):
    event_type = "aanmelding"
    summary = "Referral of a person to the ZVH by a partner; opens the case."
    bsn: Bsn
    naam: ShortText
    geboortedatum: PastDate
    aanmeldreden: LongText
    risico_indicatie: LongText
    huidige_hulpverlening: LongText | None = None
    contactpersoon_aanmelder: ShortText


class Triagebesluit(Payload):
    event_type = "triagebesluit"
    summary = "Triage: to the inclusietafel, or another approach (which ends the case)."
    uitkomst: Literal["inclusietafel", "andere_aanpak"] = control()
    onderbouwing: LongText
    doelgroepcriteria: list[Literal["psychiatrische_stoornis", "lvb", "nah"]] = Field(
        min_length=1, max_length=3
    )


class Inclusiebesluit(Payload):
    event_type = "inclusiebesluit"
    summary = "Decision of the inclusietafel; included cases get a levensloopaanbieder."
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
