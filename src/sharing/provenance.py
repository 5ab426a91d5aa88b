"""The two signed documents behind every event: the author's, and the custodian's over it.

The author signs (purpose ``casestore/author-document``) what it tells: where the event
goes, its type, when it happened, its readable control attributes, the id of the submission,
and one salted digest per content field (``sharing.disclosures``), never a value. The
custodian countersigns (purpose ``casestore/stored-event``) the event as stored: its place
(case, version, event id), when and by which client it was recorded, the control
attributes every recipient sees, and the author's document and signature. Both documents
reach every recipient whole; what each recipient opens it checks against the digests.

docs/provenance.md specifies both; ``sharing.client.verify_event`` checks a delivered event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AUTHOR_DOCUMENT",
    "AUTHOR_MEMBERS",
    "DOCUMENT_VERSION",
    "STORED_EVENT",
    "author_document",
    "stored_document",
]

AUTHOR_DOCUMENT = "casestore/author-document"
STORED_EVENT = "casestore/stored-event"
DOCUMENT_VERSION = 2  # version 1 signed the plaintext payload, which no recipient receives

AUTHOR_MEMBERS = (
    "v",
    "region",
    "case_id",
    "author",
    "event_type",
    "submission_id",
    "occurred_at",
    "control",
    "digests",
)


def author_document(
    *,
    region: str,
    case_id: str | None,
    author: str,
    event_type: str,
    submission_id: str,
    occurred_at: str,
    control: Mapping[str, Any],
    digests: Mapping[str, Any],
) -> dict[str, Any]:
    """What the author signs; ``case_id`` is None for the event that opens a case (its id
    is the service's to give), ``occurred_at`` RFC 3339 in UTC as ``format_time`` writes it."""
    return {
        "v": DOCUMENT_VERSION,
        "region": region,
        "case_id": case_id,
        "author": author,
        "event_type": event_type,
        "submission_id": submission_id,
        "occurred_at": occurred_at,
        "control": dict(control),
        "digests": dict(digests),
    }


def stored_document(
    *,
    region: str,
    case_id: str,
    version: int,
    event_id: str,
    event_type: str,
    author_user: str,
    recorded_at: str,
    control: Mapping[str, Any],
    author_document: Mapping[str, Any],
    author_signature: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What the custodian countersigns: everything a recipient receives of the event in the
    clear, except its place in the feed (given out after signing) and what follows from
    the rest (``withheld``)."""
    return {
        "v": DOCUMENT_VERSION,
        "region": region,
        "case_id": case_id,
        "version": version,
        "event_id": event_id,
        "event_type": event_type,
        "author_user": author_user,
        "recorded_at": recorded_at,
        "control": dict(control),
        "author_document": dict(author_document),
        "author_signature": None if author_signature is None else dict(author_signature),
    }
