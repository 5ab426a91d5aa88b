"""The one integral levensloopplan: goals per life domain, actions per organisation."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field

from casestore.domain import errors
from casestore.domain.events.fields import (
    Count,
    Levensdomein,
    LongText,
    OrganisationId,
    ShortText,
    Strict,
)
from casestore.domain.events.payload import OWNED_BY, Payload, control
from casestore.domain.events.registry import event_type

if TYPE_CHECKING:
    from casestore.domain.case import Case


class Doel(Strict):
    levensdomein: Levensdomein
    doel: LongText


class Actie(Strict):
    organisatie: OrganisationId
    actie: LongText
    termijn: date | None = None


@event_type(
    "planwijziging",
    "The integral levensloopplan set or changed: goals per domain, actions per owner.",
)
class Planwijziging(Payload):
    planversie: Count = control()
    doelen: list[Doel] = Field(min_length=1, max_length=50)
    acties: list[Actie] = Field(
        min_length=1, max_length=100, json_schema_extra={OWNED_BY: "organisatie"}
    )
    casusregisseur_contact: ShortText
    toelichting: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # One plan, versioned without gaps: a partner that missed a version cannot
        # overwrite it unknowingly.
        case.check_included(cls.event_type)
        expected = case.plan_version + 1
        if int(control["planversie"]) != expected:
            raise errors.PlanVersionOutOfOrder(expected, int(control["planversie"]))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.plan_version = int(event.control["planversie"])
