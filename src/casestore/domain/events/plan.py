"""The one integral levensloopplan: goals per life domain, actions per organisation."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from casestore.domain.events.fields import Levensdomein, LongText, OrganisationId, ShortText, Strict
from casestore.domain.events.payload import OWNED_BY, Payload, control


class Doel(Strict):
    levensdomein: Levensdomein
    doel: LongText


class Actie(Strict):
    organisatie: OrganisationId
    actie: LongText
    termijn: date | None = None


class Planwijziging(Payload):
    event_type = "planwijziging"
    summary = "The integral levensloopplan set or changed: goals per domain, actions per owner."
    planversie: int = control(ge=1)
    doelen: list[Doel] = Field(min_length=1, max_length=50)
    acties: list[Actie] = Field(
        min_length=1, max_length=100, json_schema_extra={OWNED_BY: "organisatie"}
    )
    casusregisseur_contact: ShortText
    toelichting: LongText | None = None
