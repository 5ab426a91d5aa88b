"""What a partner submits and what the store answers: plain values the write path takes
and returns, apart from the store itself so that callers need not load it to name them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from casestore.domain.case import Case

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Author:
    organisation: str
    user: str


@dataclass(frozen=True)
class Submission:
    """One event as a partner submits it. A signed submission carries the author's
    document, its signature and the salts of its disclosures (`sign_submission` makes
    them); its idempotency key is the submission id the document names."""

    event_type: str
    payload: dict[str, Any]
    author: Author
    occurred_at: datetime | None = None
    idempotency_key: str | None = None
    signature: dict[str, Any] | None = None
    author_document: dict[str, Any] | None = None
    salts: dict[str, Any] | None = None


@dataclass(frozen=True)
class Recorded:
    """Where an event landed; `replayed` is true when an idempotent retry found it."""

    case_id: UUID
    event_id: str
    version: int
    position: int
    replayed: bool = False


@dataclass(frozen=True)
class StoredCaseEvent:
    """One case event as stored: header, control attributes and (sealed) content."""

    position: int
    case_id: UUID
    version: int
    event: Case.Event

    @property
    def event_type(self) -> str:
        return self.event.event_type
