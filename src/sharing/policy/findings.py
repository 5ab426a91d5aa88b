"""One problem found in a policy, where it stands in the document, and the law behind it."""

from __future__ import annotations

from dataclasses import dataclass

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    message: str
    rule: str | None = None
    law: str | None = None
    """The law a legal finding rests on, as the message cites it."""
