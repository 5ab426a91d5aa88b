"""The one integral levensloopplan: goals per life domain, actions per organisation."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

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

ACTION_OWNERS = "actiehouders"
"""The internal control attribute a planwijziging adds: the owner of each action, in order."""


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

    def internal_control(self) -> dict[str, Any]:
        # The process lets only the owner of an action report on it, so the case keeps
        # who owns which; no recipient sees it, as one that reads only its own actions
        # must not learn who else has one.
        return {ACTION_OWNERS: [action.organisatie for action in self.acties]}

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.plan_version = int(event.control["planversie"])
        # A plan recorded before owners were readable has no actions to report on.
        case.action_owners = [str(o) for o in event.control.get(ACTION_OWNERS, [])]


@event_type(
    "actiestatus",
    "The owner of a plan action reports it done, not possible or not done, with a reason.",
)
class Actiestatus(Payload):
    planversie: Count = control()
    actie: Count = control()
    status: Literal["uitgevoerd", "niet_mogelijk", "niet_uitgevoerd"] = control()
    reden: LongText | None = None

    @model_validator(mode="after")
    def _reason_when_not_done(self) -> Actiestatus:
        if self.status != "uitgevoerd" and self.reden is None:
            raise ValueError("an action not done says why (reden)")
        return self

    @classmethod
    def check_author(cls, case: Case, author: str, control: dict[str, Any]) -> None:
        # Only the organisation that owns the action in the plan in force reports on it.
        case.check_author_in_network(author)
        case.check_included(cls.event_type)
        version, action = int(control["planversie"]), int(control["actie"])
        if version != case.plan_version or not 1 <= action <= len(case.action_owners):
            raise errors.ActionNotInPlan(version, action)
        if case.action_owners[action - 1] != author:
            raise errors.NotActionOwner(author, action)
