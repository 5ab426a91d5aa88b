"""Conditions in the case: the records a rule of the policy may require before it grants.

A beroepsgeheimhouder shares what it authored only through a door. Two of those doors are
facts of one case that someone must record: the betrokkene's `toestemming`, and the
author's own weighing in a `conflict_van_plichten`. Each is a record in the case, so it is
signed, dated and kept like every other event, and every grant that rests on it names it.

The scope of a record (who may receive, which event types, which rules of the policy,
until when) is control: the sharing layer reads it to decide, without a key. The
motivation is content, sealed like any other.

Both doors open the recording organisation's own events only. A GGZ professional relies
on the consent it obtained, or on the danger it weighed; no other partner can open its
content for it. A toestemming ends when it is withdrawn (`toestemming_ingetrokken`) or
when it expires (`geldig_tot`); a conflict van plichten when it expires.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from casestore.domain import errors
from casestore.domain.events.fields import LongText, OrganisationId, PastDate
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type

if TYPE_CHECKING:
    from casestore.domain.case import Case

TOESTEMMING = "toestemming"
CONFLICT_VAN_PLICHTEN = "conflict_van_plichten"

EventTypeName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z]+(_[a-z]+)*$")
]
RuleId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=64)]

Recipients = Annotated[list[OrganisationId], Field(min_length=1, max_length=50)]
EventTypes = Annotated[list[EventTypeName], Field(min_length=1, max_length=50)]
Rules = Annotated[list[RuleId], Field(min_length=1, max_length=100)]
Events = Annotated[list[EventId], Field(min_length=1, max_length=100)]


@event_type(
    "toestemming",
    "The betrokkene's consent, recorded by the organisation that shares on it.",
)
class Toestemming(Payload):
    """Consent for `ontvangers` to receive the recording organisation's events (of
    `gebeurtenistypen`, under `regels`, when named), from its recording until it is
    withdrawn or `geldig_tot` passes."""

    ontvangers: Recipients = control()
    gebeurtenistypen: EventTypes | None = control(default=None)
    regels: Rules | None = control(default=None)
    gegeven_door: Literal["betrokkene", "wettelijk_vertegenwoordiger"] = control()
    gegeven_op: PastDate = control()
    geldig_tot: AwareDatetime | None = control(default=None)
    motivering: LongText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # A door is needed from the aanmelding on: the regie must be able to triage a
        # referral by a zorgaanbieder. One that expired already simply grants nothing.
        return

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        record_condition(case, event, TOESTEMMING)


@event_type(
    "toestemming_ingetrokken",
    "The betrokkene withdrew a toestemming: what rested on it is revoked.",
)
class ToestemmingIngetrokken(Payload):
    toestemming: EventId = control()
    """The event id of the toestemming withdrawn."""
    ingetrokken_op: PastDate = control()
    toelichting: LongText | None = None

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        record = conditions_of(case).get(str(control["toestemming"]))
        if record is None or record["kind"] != TOESTEMMING:
            raise errors.ConditionNotFound(TOESTEMMING, str(control["toestemming"]))
        if record.get("withdrawn_at") is not None:
            raise errors.ConditionWithdrawn(str(control["toestemming"]))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        records = dict(conditions_of(case))
        target = str(event.control["toestemming"])
        records[target] = {**records[target], "withdrawn_at": event.timestamp.isoformat()}
        case.conditions = records


@event_type(
    "conflict_van_plichten",
    "A beroepsgeheimhouder weighed its duties and must share its own events in this case.",
)
class ConflictVanPlichten(Payload):
    """The author's recorded decision to break its confidentiality towards `ontvangers`
    for its own events (of `gebeurtenistypen`, under `regels`, or only the events named
    in `gebeurtenissen`), until `geldig_tot`."""

    ontvangers: Recipients = control()
    gebeurtenistypen: EventTypes | None = control(default=None)
    regels: Rules | None = control(default=None)
    gebeurtenissen: Events | None = control(default=None)
    geldig_tot: AwareDatetime | None = control(default=None)
    afweging: LongText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        return  # from the aanmelding on, as a toestemming

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        record_condition(case, event, CONFLICT_VAN_PLICHTEN)


def conditions_of(case: Case) -> dict[str, dict[str, Any]]:
    """The case's condition records by event id (a case from before conditions has none)."""
    return getattr(case, "conditions", None) or {}


def record_condition(case: Case, event: Case.Event, kind: str) -> None:
    """Keep a condition record as plain JSON values: snapshots store the case as JSON."""
    c = event.control
    record = {
        "kind": kind,
        "author": event.author_org,
        "recorded_at": event.timestamp.isoformat(),
        "recipients": sorted(c["ontvangers"]),
        "event_types": sorted(c["gebeurtenistypen"]) if c.get("gebeurtenistypen") else None,
        "rules": sorted(c["regels"]) if c.get("regels") else None,
        "events": sorted(c["gebeurtenissen"]) if c.get("gebeurtenissen") else None,
        "expires_at": _iso(c.get("geldig_tot")),
        "withdrawn_at": None,
    }
    case.conditions = {**conditions_of(case), event.event_id: record}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)
