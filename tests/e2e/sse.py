"""Server-sent events as a partner's client reads them off the wire: the stream's path,
how long a test waits for a line, and a parser for the lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

STREAM = "/v1/feed/stream"
READ_TIMEOUT = 10.0  # longest wait for one line; pings come every 15 s, events sooner


@dataclass(frozen=True)
class Sse:
    id: str | None
    event: str | None
    data: str

    @property
    def item(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed


def parse_sse(lines: Iterator[str]) -> Iterator[Sse]:
    """Server-sent events from a stream of lines; comments (pings) are skipped."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if not line:
            if data or fields:
                yield Sse(fields.get("id"), fields.get("event"), "\n".join(data))
            fields, data = {}, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
