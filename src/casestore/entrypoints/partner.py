"""The partner's side of a delivery: open what the service sent with one's own key.

Pure functions over the wire form (`SharedEvent.to_json()`), so a partner system, the
`casestore decrypt` command and the tests all open events the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from casestore.services.sealing import reassemble
from sharing.client import open_fields
from sharing.keys import DecryptionKey


def open_event(event: Mapping[str, Any], keys: Iterable[DecryptionKey]) -> dict[str, Any]:
    """The plaintext fields this partner was granted, owned parts put back in order."""
    return reassemble(open_fields(event, event["sealed"], event["grants"], keys))
