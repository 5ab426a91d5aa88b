"""What one event type is: its payload schema, and its part in the process.

One class holds all of it, so that adding a type is writing one class (and registering
it, see `registry.py`):

- the fields an author tells, their types and limits. Each field is either a *control
  attribute* — one of the few values the process itself needs (status, level, plan
  version, network), which therefore stays readable in the header — or *content*, which
  the sharing layer seals per recipient. `control()` marks the first kind;
- `guard`: whether the case allows an event of the type now;
- `evolve`: how a recorded event of the type changes the case.

The hooks see control attributes only. Content is sealed before the aggregate gets it,
so neither deciding on an event nor rebuilding a case ever needs a decryption key.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, Field

from casestore.domain.events.fields import BSN, FREE_TEXT, Marker, Strict

if TYPE_CHECKING:  # the aggregate is built from the event types, not the other way round
    from casestore.domain.case import Case

CONTROL = "x-casestore-control"
OWNED_BY = "x-casestore-owned-by"


def control(**kwargs: Any) -> Any:
    """Mark a field as a control attribute: readable header, used by the process."""
    return Field(json_schema_extra={CONTROL: True}, **kwargs)


class Payload(Strict):
    """Base of every event type; the registry sets `event_type`, `summary`, `opens_case`."""

    event_type: ClassVar[str]
    summary: ClassVar[str]
    opens_case: ClassVar[bool] = False
    by_regie: ClassVar[bool] = False
    """Only the organisation holding the procesregie of the case writes it (the custodian
    until an inclusion names a procesregisseur), whatever the policy's authorship says."""
    after_end: ClassVar[bool] = False
    """Whether the type is recorded on an ended case (nazorg after uitstroom): its guard
    then says on which ended cases."""

    @classmethod
    def check_author(cls, case: Case, author: str, control: dict[str, Any]) -> None:
        """Raise a ProcessViolation if `author` may not write this event to the case.

        By default only members of the case network write to it; a type may narrow that
        (only the owner of a plan action reports on it) or widen it (an organisation
        asked whether it knows the person answers without joining the network).
        """
        case.check_author_in_network(author)

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """Raise a ProcessViolation if the process does not allow this event now.

        What every type shares (the case is open, the author is in its network, the event
        is not older than the aanmelding) is checked before. By default a type belongs to
        the trajectory that a positive inclusion starts, so a new type is refused before
        it unless it says otherwise.
        """
        case.check_included(cls.event_type)

    @classmethod
    def guard_on(cls, case: Case, control: dict[str, Any], day: date) -> None:
        """Raise a ProcessViolation if the process does not allow this event on the day it
        occurred (a person found adult before their 18th birthday). By default the day
        decides nothing."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        """Change the case's control state by a recorded event of this type.

        Runs when the event is recorded and again whenever the case is rebuilt from its
        events, so it reads nothing but the case and the event. By default an event only
        adds a fact to the record.
        """

    @classmethod
    def fold(cls, case: Case, event: Case.Event) -> None:
        """`evolve`, on a state that is its caller's own (the timeline's fold): a type whose
        `evolve` copies a container before changing it, so that a case in a cache is never
        changed under its reader, changes it in place here, and its `evolve` is that copy
        then this (one rule). By default the same as `evolve`."""
        cls.evolve(case, event)

    @classmethod
    def control_fields(cls) -> tuple[str, ...]:
        return _split(cls)[0]

    @classmethod
    def content_fields(cls) -> tuple[str, ...]:
        return _split(cls)[1]

    @classmethod
    def owned_fields(cls) -> dict[str, str]:
        """Content fields whose entries each name an owner, with the entry key naming it."""
        return dict(_owned(cls))

    @classmethod
    def free_text_fields(cls) -> tuple[str, ...]:
        """Content fields that hold long free text, at the top or inside a list or part."""
        return _marked(cls, FREE_TEXT)

    @classmethod
    def bsn_fields(cls) -> tuple[str, ...]:
        return _marked(cls, BSN)

    def control_values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(self.control_fields()))

    def internal_control(self) -> dict[str, Any]:
        """Control attributes the case keeps but shows no recipient (and no author signs),
        derived from the payload: see `casestore.domain.case.INTERNAL_CONTROL`."""
        return {}

    def recorded_control(self) -> dict[str, Any]:
        """What the case records as the event's control attributes."""
        return {**self.control_values(), **self.internal_control()}

    def content_values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(self.content_fields()))


# Schemas are fixed once defined; every stored and every read event asks this.
@functools.cache
def _split(schema: type[Payload]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    marked = {
        name: _is_control(info.json_schema_extra) for name, info in schema.model_fields.items()
    }
    return (
        tuple(name for name, is_control in marked.items() if is_control),
        tuple(name for name, is_control in marked.items() if not is_control),
    )


@functools.cache
def _owned(schema: type[Payload]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, str(extra[OWNED_BY]))
        for name, info in schema.model_fields.items()
        if isinstance(extra := info.json_schema_extra, dict) and OWNED_BY in extra
    )


def _is_control(extra: Any) -> bool:
    return isinstance(extra, dict) and bool(extra.get(CONTROL))


@functools.cache
def _marked(schema: type[Payload], marker: Marker) -> tuple[str, ...]:
    return tuple(
        name
        for name in schema.content_fields()
        if marker in schema.model_fields[name].metadata
        or _carries(schema.model_fields[name].annotation, marker, set())
    )


def _carries(annotation: Any, marker: Marker, seen: set[type[BaseModel]]) -> bool:
    """Whether a type is marked, or contains a marked type (in a list, union or model)."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return marker in metadata or _carries(base, marker, seen)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        return any(
            marker in info.metadata or _carries(info.annotation, marker, seen)
            for info in annotation.model_fields.values()
        )
    return any(_carries(arg, marker, seen) for arg in get_args(annotation))
