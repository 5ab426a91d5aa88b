"""The end of a case, after which the retention clock runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casestore.domain.events.fields import LongText, UitstroomReden
from casestore.domain.events.payload import Payload
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
