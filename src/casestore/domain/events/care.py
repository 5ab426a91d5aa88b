"""Care along the way: warnings, the care level, case meetings and periodic checks."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from casestore.domain.events.fields import Level, LongText, OrganisationId, SignaleringCategorie
from casestore.domain.events.payload import Payload, control


class Signalering(Payload):
    event_type = "signalering"
    summary = "Early warning of relapse or risk."
    categorie: SignaleringCategorie
    ernst: Level
    gevraagde_actie: LongText
    toelichting: LongText | None = None
    diagnose: LongText | None = None
    medicatie: LongText | None = None


class Opschaling(Payload):
    event_type = "opschaling"
    summary = "Care intensity up (1 ambulant … 4 beveiligd/BIZ)."
    niveau: Level = control()
    reden: LongText


class Afschaling(Payload):
    event_type = "afschaling"
    summary = "Care intensity down: as light as possible, as heavy as needed."
    niveau: Level = control()
    reden: LongText


class Casusoverleg(Payload):
    event_type = "casusoverleg"
    summary = "A case meeting of the network: who took part, what was decided."
    deelnemers: list[OrganisationId] = Field(min_length=1, max_length=30)
    besluiten: LongText
    verslag: LongText | None = None


class Monitoringsmoment(Payload):
    event_type = "monitoringsmoment"
    summary = "A periodic check of how the person is doing against the plan."
    bevindingen: LongText
    risico_inschatting: Literal["laag", "verhoogd", "hoog"]
    volgende_moment: date | None = None
