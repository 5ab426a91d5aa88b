"""The event posts in the OpenAPI document as a discriminated union on `type`: per event
type the body with its own payload schema, so that a client generator makes one typed
class per type and a validator checks a payload before it is sent.

The handlers keep taking `payload` as an object and leave its validation to the event
registry, which knows what JSON Schema cannot say (no date in the future, the elfproef,
fields that depend on each other) and names each field in its 422. What is published
here is the registry's own schema of each payload, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi.openapi.constants import REF_PREFIX

from casestore.domain.events import EVENT_TYPES

EVENT_BODY = "EventCreate"
CASE_BODY = "CaseCreate"


def payload_components() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Per event type the name of its payload schema, and every schema they use."""
    names: dict[str, str] = {}
    components: dict[str, dict[str, Any]] = {}
    for event_type, payload in EVENT_TYPES.items():
        schema = payload.model_json_schema(ref_template=REF_PREFIX + "{model}")
        for name, part in schema.pop("$defs", {}).items():
            _add(components, name, part)
        name = f"{payload.__name__}Payload"
        _add(components, name, {**schema, "title": name})
        names[event_type] = name
    return names, components


def install(document: dict[str, Any]) -> None:
    """Publish each type's payload schema in `document` and make the event post's body
    the union of one body per type, told apart by `type`."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    names, components = payload_components()
    for name, part in components.items():
        _add(schemas, name, part)
    opening = EVENT_TYPES.opening().event_type
    base = schemas[EVENT_BODY]
    mapping: dict[str, str] = {}
    for event_type, payload_name in names.items():
        if event_type == opening:
            continue
        body = _body(base, event_type, payload_name)
        body_name = payload_name.removesuffix("Payload") + "Event"
        _add(schemas, body_name, body)
        mapping[event_type] = REF_PREFIX + body_name
    schemas[EVENT_BODY] = {
        "title": EVENT_BODY,
        "description": "An event of one of the types of docs/werkproces.md: `type` says which, "
        "and the payload follows that type's schema.",
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    schemas[CASE_BODY] = _body(schemas[CASE_BODY], opening, names[opening], required=False)


def _body(
    base: dict[str, Any], event_type: str, payload_name: str, *, required: bool = True
) -> dict[str, Any]:
    body = copy.deepcopy(base)
    body["title"] = payload_name.removesuffix("Payload") + "Event"
    body["properties"]["type"] = {"type": "string", "const": event_type, "title": "Type"}
    if not required:  # the aanmelding's post may leave its one type out
        body["properties"]["type"]["default"] = event_type
    body["properties"]["payload"] = {"$ref": REF_PREFIX + payload_name}
    body["required"] = sorted({*body.get("required", ()), "payload", *(["type"] * required)})
    return body


def _add(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two schemas of the API are both named {name}")
    schemas[name] = schema
