"""The end of a case, after which the retention clock runs, and what may follow it.

After an uitstroom the network may keep watch for a while (nazorg, with a date to review
it); a person who relapses in that period is taken back into the same case by a
heraanmelding, without a new triage, where the region's policy lets anyone write one.
The case then runs again and its retention clock waits for its next end.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import model_validator

from casestore.domain import errors
from casestore.domain.events.fields import LongText, UitstroomReden
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type
from casestore.domain.status import Status

if TYPE_CHECKING:
    from casestore.domain.case import Case


@event_type("uitstroom", "The case ends; the retention clock starts.")
class Uitstroom(Payload):
    reden: UitstroomReden
    toelichting: LongText | None = None
    nazorg: LongText | None = None

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.close(Status.uitgestroomd, event.occurred_at)


@event_type("nazorg", "After an uitstroom, the network keeps watch until a review date.")
class Nazorg(Payload):
    after_end = True
    herzien_op: date = control()
    tot: date = control()
    afspraken: LongText

    @model_validator(mode="after")
    def _review_within(self) -> Nazorg:
        if self.herzien_op > self.tot:
            raise ValueError("herzien_op lies after the end of the nazorg (tot)")
        return self

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        if case.status != Status.uitgestroomd:
            raise errors.UitstroomRequired(cls.event_type)

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.nazorg_until = str(event.control["tot"])


@event_type(
    "heraanmelding",
    "A person in nazorg is taken back into the same case, without a new triage.",
)
class Heraanmelding(Payload):
    after_end = True
    reden: LongText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        if case.status != Status.uitgestroomd:
            raise errors.UitstroomRequired(cls.event_type)
        if case.nazorg_until is None:
            raise errors.NazorgRequired()

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        # Level, regie, plan and network stay as they were at the uitstroom.
        case.status = Status.geincludeerd
        case.closed_at = None
        case.nazorg_until = None
