"""What every event payload is: fields, and which of them the process may read.

Each field is either a *control attribute* — one of the few values the process itself
needs (status, level, plan version, network), which therefore stays readable in the
header — or *content*, which the sharing layer seals per recipient. `control()` marks
the first kind; everything unmarked is content.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from pydantic import Field

from casestore.domain.events.fields import Strict

CONTROL = "x-casestore-control"
OWNED_BY = "x-casestore-owned-by"


def control(**kwargs: Any) -> Any:
    """Mark a field as a control attribute: readable header, used by the process."""
    return Field(json_schema_extra={CONTROL: True}, **kwargs)


class Payload(Strict):
    """Base of every event payload."""

    event_type: ClassVar[str]
    summary: ClassVar[str]

    @classmethod
    def control_fields(cls) -> tuple[str, ...]:
        return _split(cls)[0]

    @classmethod
    def content_fields(cls) -> tuple[str, ...]:
        return _split(cls)[1]

    def control_values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(self.control_fields()))

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


def _is_control(extra: Any) -> bool:
    return isinstance(extra, dict) and bool(extra.get(CONTROL))
