"""The partner's side of a delivery: open what the service sent with one's own key.

Pure functions over the wire form (`SharedEvent.to_json()`), so a partner system, the
`casestore decrypt` command and the tests all open events the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from casestore.sealing import PART
from sharing.client import open_fields
from sharing.keys import DecryptionKey


def open_event(event: Mapping[str, Any], keys: Iterable[DecryptionKey]) -> dict[str, Any]:
    """The plaintext fields this partner was granted, owned parts put back in order."""
    raw = open_fields(event, event["sealed"], event["grants"], keys)
    values: dict[str, Any] = {}
    parts: dict[str, list[Any]] = {}
    for name, plaintext in raw.items():
        field, _, owner = name.partition(PART)
        if owner:
            parts.setdefault(field, []).extend(json.loads(plaintext))
        else:
            values[field] = json.loads(plaintext)
    for field, entries in parts.items():
        values[field] = [entry for _, entry in sorted(entries, key=lambda pair: int(pair[0]))]
    return values
