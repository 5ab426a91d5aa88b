"""The parts of an event's header the write path derives from a submission: its id, the
id of the case an aanmelding opens, the check of the time the author told, and the keyed
digest by which a retried submission is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from casestore.domain import errors
from casestore.domain.errors import FieldProblem
from casestore.services.submissions import Submission
from sharing.canonical import canonical_json, length_prefixed

EVENT_NAMESPACE = UUID("0b8f3c52-5a7e-4d0e-8a0c-7d8a51f1c9e3")
CASE_NAMESPACE = UUID("a3f4e1d2-9b8c-4c7d-8e6f-5a4b3c2d1e0f")
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # nothing in a case happened before


def new_case_id(event_id: str) -> UUID:
    """The id of the case an aanmelding opens: fixed by its event id, so a retry finds it."""
    return uuid5(CASE_NAMESPACE, event_id)


def event_id_for(submission_id: str, author: str, case_id: UUID | None) -> str:
    """A submission id becomes a stable id scoped to its author (and case), so retries
    find their first attempt and two organisations' ids never collide."""
    scope = f"{case_id or 'new-case'}\x1f{author}"
    return str(uuid5(EVENT_NAMESPACE, f"{scope}\x1f{submission_id}"))


def check_occurred_at(event_type: str, occurred_at: datetime, now: datetime) -> None:
    """When the event happened, checked before anything formats or compares it: in
    UTC it must be a time Python can hold (an offset may push year 1 or 9999 out of
    range), after `EARLIEST` and not in the future."""
    problem = None
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        problem = "needs a time zone"
    else:
        try:
            in_utc: datetime | None = occurred_at.astimezone(UTC)
        except OverflowError:
            in_utc = None
        if in_utc is None or in_utc < EARLIEST:
            problem = f"must lie after {EARLIEST.date().isoformat()}"
        elif in_utc > now + CLOCK_SKEW:
            problem = "may not lie in the future"
    if problem is not None:
        raise errors.PayloadInvalid(event_type, [FieldProblem("occurred_at", problem)])


def payload_digest(
    secret: bytes, submission: Submission, told: datetime | None, case_id: UUID
) -> str:
    """A digest keyed per case: a plain hash of a low-entropy field would reveal its
    value, and one key for every case would show the same payload sent to two."""
    key = blake2b(
        length_prefixed("payload-digest", str(case_id)),
        key=secret[:64],
        digest_size=32,
        encoder=RawEncoder,
    )
    document = {
        "type": submission.event_type,
        "payload": submission.payload,
        "occurred_at": told.isoformat() if told else None,
        "author": submission.author.organisation,
    }
    digest: bytes = blake2b(canonical_json(document), key=key, digest_size=16)
    return digest.decode("ascii")
