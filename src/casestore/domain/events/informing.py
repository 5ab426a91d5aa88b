"""The informatieplicht towards the person: informed, or informing postponed and why.

The person is told that their data are processed in the aanpak (AVG art. 13/14) unless
telling them now would defeat the purpose, which the law allows only on a stated ground
and for as long as that lasts; so a postponement carries the date it is reviewed on.
Both may happen from the aanmelding on, and the case knows which holds last.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from casestore.domain.events.fields import LongText, PastDate, ShortText
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type

if TYPE_CHECKING:
    from casestore.domain.case import Case


@event_type(
    "betrokkene_geinformeerd",
    "The person was told that the aanpak processes their data: when, by whom, how.",
)
class BetrokkeneGeinformeerd(Payload):
    # The date is readable so that worklists know who still has to be informed.
    datum: PastDate = control()
    door: ShortText
    wijze: Literal["gesprek", "telefonisch", "brief", "via_vertegenwoordiger"]
    toelichting: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """Informing is due from the aanmelding on, not only after inclusion."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.informing = {"status": "geinformeerd", "datum": str(event.control["datum"])}


@event_type(
    "informeren_uitgesteld",
    "Informing the person is postponed, on a legal ground, until a review date.",
)
class InformerenUitgesteld(Payload):
    herzien_op: date = control()
    reden: LongText
    grondslag: ShortText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """A postponement may be decided from the aanmelding on."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.informing = {"status": "uitgesteld", "datum": str(event.control["herzien_op"])}
