"""Care along the way: warnings, the care level, case meetings and periodic checks.

The care level follows "zo licht als het kan, zo zwaar als nodig": an opschaling only
goes up and an afschaling only down, both after inclusion, which sets the first level.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from casestore.domain import errors
from casestore.domain.events.fields import Level, LongText, OrganisationId, SignaleringCategorie
from casestore.domain.events.payload import Payload, control
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


@event_type("opschaling", "Care intensity up (1 ambulant … 4 beveiligd/BIZ).")
class Opschaling(Payload):
    niveau: Level = control()
    reden: LongText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        case.check_included(cls.event_type)
        assert case.level is not None  # noqa: S101 - set by every positive inclusion
        if int(control["niveau"]) <= case.level:
            raise errors.LevelNotHigher(case.level, int(control["niveau"]))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.level = int(event.control["niveau"])


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


@event_type("casusoverleg", "A case meeting of the network: who took part, what was decided.")
class Casusoverleg(Payload):
    deelnemers: list[OrganisationId] = Field(min_length=1, max_length=30)
    besluiten: LongText
    verslag: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """The network meets whenever the case is open, to triage and include as well."""


@event_type("monitoringsmoment", "A periodic check of how the person is doing against the plan.")
class Monitoringsmoment(Payload):
    bevindingen: LongText
    risico_inschatting: Literal["laag", "verhoogd", "hoog"]
    volgende_moment: date | None = None
