"""The event catalogue as the other layers read it: the registered event types.

The types themselves — schema, control/content split, guard and how each changes the
case — are defined in `casestore.domain.events`, one class per type; this module is the
public face the services, the API, the policy layer and the docs use. `describe()` gives
the catalogue as data; nothing else defines a field.
"""

from __future__ import annotations

from casestore.domain.events import EVENT_TYPES, Payload
from casestore.domain.events.intake import Aanmelding

__all__ = [
    "Aanmelding",
    "Payload",
    "content_fields",
    "control_fields",
    "describe",
    "parse_payload",
    "schema_of",
]

schema_of = EVENT_TYPES.schema_of
control_fields = EVENT_TYPES.control_fields
content_fields = EVENT_TYPES.content_fields
parse_payload = EVENT_TYPES.parse
describe = EVENT_TYPES.describe
