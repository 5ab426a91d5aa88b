"""The event catalogue: one pydantic schema per event type, the single source of truth.

Each schema says which fields exist, their types and limits, and which of them are
*control attributes* versus *content* (see `casestore.domain.events.payload`). The
policy layer and the docs read the machine-readable form from `describe()`; nothing
else defines a field. The schemas themselves live in `casestore.domain.events`, one
module per phase of the process.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from casestore.domain.errors import FieldProblem, PayloadInvalid, UnknownEventType
from casestore.domain.events.care import (
    Afschaling,
    Casusoverleg,
    Monitoringsmoment,
    Opschaling,
    Signalering,
)
from casestore.domain.events.closing import Uitstroom
from casestore.domain.events.intake import Aanmelding, Inclusiebesluit, Triagebesluit
from casestore.domain.events.network import Netwerkwijziging
from casestore.domain.events.payload import CONTROL, OWNED_BY, Payload
from casestore.domain.events.plan import Planwijziging

__all__ = [
    "CATALOGUE",
    "CONTROL",
    "Aanmelding",
    "Payload",
    "content_fields",
    "control_fields",
    "describe",
    "parse_payload",
    "schema_of",
]

CATALOGUE: dict[str, type[Payload]] = {
    cls.event_type: cls
    for cls in (
        Aanmelding,
        Triagebesluit,
        Inclusiebesluit,
        Netwerkwijziging,
        Planwijziging,
        Signalering,
        Opschaling,
        Afschaling,
        Casusoverleg,
        Monitoringsmoment,
        Uitstroom,
    )
}


def schema_of(event_type: str) -> type[Payload]:
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def control_fields(event_type: str) -> tuple[str, ...]:
    return schema_of(event_type).control_fields()


def content_fields(event_type: str) -> tuple[str, ...]:
    return schema_of(event_type).content_fields()


def parse_payload(event_type: str, data: Any, *, today: date) -> Payload:
    """Validate raw payload data; every problem is reported with its field path."""
    schema = schema_of(event_type)
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


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required"
    return str(err["msg"]).removeprefix("Value error, ")


def describe() -> dict[str, Any]:
    """The catalogue as data: per event type its summary, fields and JSON schema."""
    return {
        event_type: {
            "summary": schema.summary,
            "control_fields": list(control_fields(event_type)),
            "content_fields": list(content_fields(event_type)),
            "owned_fields": {
                name: extra[OWNED_BY]
                for name, info in schema.model_fields.items()
                if isinstance(extra := info.json_schema_extra, dict) and OWNED_BY in extra
            },
            "json_schema": schema.model_json_schema(),
        }
        for event_type, schema in CATALOGUE.items()
    }
