"""The event types by name: the one place where a type is added.

Everything else that differs per type is derived from what is registered here: the
catalogue that the policy layer and the docs read (`describe`), payload parsing, and the
case aggregate's event classes with the topics its events are stored under.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError

from casestore.domain.errors import FieldProblem, PayloadInvalid, UnknownEventType
from casestore.domain.events.payload import Payload

P = TypeVar("P", bound=Payload)

# A name is stored in every event's topic and bound into its encryption, and policies
# refer to it: lower-case words joined by underscores, as the process spells them.
_NAME = re.compile(r"[a-z]+(_[a-z]+)*")


class EventTypes(Mapping[str, type[Payload]]):
    """A set of event types, each a Payload subclass under its name, in the order added."""

    def __init__(self) -> None:
        self._types: dict[str, type[Payload]] = {}
        self._frozen_because: str | None = None

    def event_type(
        self, name: str, summary: str, *, opens_case: bool = False
    ) -> Callable[[type[P]], type[P]]:
        """Register the decorated class as event type `name`.

        `opens_case` marks the one type whose event starts a case; the case aggregate
        creates itself from it, and no later event may be of that type.
        """

        def register(schema: type[P]) -> type[P]:
            self._add(name, summary, schema, opens_case=opens_case)
            return schema

        return register

    def _add(self, name: str, summary: str, schema: type[Payload], *, opens_case: bool) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"event type {name!r}: lower-case words joined by underscores")
        if name in self._types:
            raise ValueError(
                f"event type {name!r} is registered already, as {self._types[name].__qualname__}"
            )
        if "event_type" in vars(schema):
            raise ValueError(
                f"{schema.__qualname__} is registered already, as {schema.event_type!r}"
            )
        if opens_case and any(known.opens_case for known in self._types.values()):
            raise ValueError(f"event type {name!r}: only one event type opens a case")
        if self._frozen_because is not None:
            raise ValueError(f"cannot add event type {name!r}: {self._frozen_because}")
        schema.event_type = name
        schema.summary = summary
        schema.opens_case = opens_case
        self._types[name] = schema

    def freeze(self, because: str) -> None:
        """Refuse further types: something built from the registry must not go stale."""
        self._frozen_because = because

    # ---- lookups ------------------------------------------------------------------------

    def __getitem__(self, name: str) -> type[Payload]:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def schema_of(self, event_type: str) -> type[Payload]:
        try:
            return self._types[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def opening(self) -> type[Payload]:
        """The type that opens a case."""
        for schema in self._types.values():
            if schema.opens_case:
                return schema
        raise LookupError("no registered event type opens a case")

    def control_fields(self, event_type: str) -> tuple[str, ...]:
        return self.schema_of(event_type).control_fields()

    def content_fields(self, event_type: str) -> tuple[str, ...]:
        return self.schema_of(event_type).content_fields()

    # ---- payloads -----------------------------------------------------------------------

    def parse(self, event_type: str, data: Any, *, today: date) -> Payload:
        """Validate raw payload data; every problem is reported with its field path."""
        schema = self.schema_of(event_type)
        if not isinstance(data, dict):
            raise PayloadInvalid(event_type, [FieldProblem("payload", "must be an object")])
        try:
            return schema.model_validate(data, context={"today": today})
        except ValidationError as exc:
            problems = [
                FieldProblem(".".join(str(p) for p in err["loc"]) or "payload", _message(err))
                for err in exc.errors(include_input=False, include_url=False)
            ]
            raise PayloadInvalid(event_type, problems) from None

    def describe(self) -> dict[str, Any]:
        """The types as data: per event type its summary, fields (control, content, owned,
        free-text, BSN) and JSON schema."""
        return {
            event_type: {
                "summary": schema.summary,
                "control_fields": list(schema.control_fields()),
                "content_fields": list(schema.content_fields()),
                "owned_fields": schema.owned_fields(),
                "free_text_fields": list(schema.free_text_fields()),
                "bsn_fields": list(schema.bsn_fields()),
                "json_schema": schema.model_json_schema(),
            }
            for event_type, schema in self._types.items()
        }


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required"
    return str(err["msg"]).removeprefix("Value error, ")


EVENT_TYPES = EventTypes()
"""The event types of the levensloop process; `casestore.domain.events` fills it."""

event_type = EVENT_TYPES.event_type
