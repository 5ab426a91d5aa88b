"""The juridisch kader of a case, and assessments of the danger the person poses.

A kader (a zorgmachtiging, bijzondere voorwaarden …) runs from a start date to an end
date; the latest kaderwijziging of a kader sets its period, so a kader ended early or
extended is recorded as a new period of the same kader. Several kaders may be in force
at once. The case knows them by the day (`Case.kaders_in_force`), and the policy can
require one in force for a flow (a toezichthouder is informed only while its
voorwaarden run).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import model_validator

from casestore.domain.events.fields import (
    Kader,
    LongText,
    OrganisationId,
    PastDate,
    RisicoInstrument,
    RisicoUitkomst,
    ShortText,
)
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type

if TYPE_CHECKING:
    from casestore.domain.case import Case


@event_type(
    "kaderwijziging",
    "A juridisch kader starts, is extended or ends: its period, supervisor and conditions.",
)
class Kaderwijziging(Payload):
    kader: Kader = control()
    ingangsdatum: date = control()
    einddatum: date | None = control(default=None)
    toezichthouder: OrganisationId | None = None
    voorwaarden: LongText | None = None

    @model_validator(mode="after")
    def _period(self) -> Kaderwijziging:
        if self.einddatum is None and self.kader is not Kader.vrijwillig:
            raise ValueError("every kader but vrijwillig has an einddatum")
        if self.einddatum is not None and self.einddatum < self.ingangsdatum:
            raise ValueError("einddatum lies before ingangsdatum")
        return self

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """A kader may be known from the aanmelding on: triage weighs it."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.kaders = {
            **case.kaders,
            str(event.control["kader"]): {
                "id": event.event_id,
                "van": str(event.control["ingangsdatum"]),
                "tot": None
                if event.control["einddatum"] is None
                else str(event.control["einddatum"]),
            },
        }


@event_type(
    "risicotaxatie",
    "A structured risk assessment: instrument, date, assessor, outcome, report reference.",
)
class Risicotaxatie(Payload):
    datum: PastDate = control()
    instrument: RisicoInstrument
    beoordelaar: OrganisationId
    uitkomst: RisicoUitkomst
    rapport: ShortText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """Taxed before inclusion too: the inclusietafel weighs the danger."""
