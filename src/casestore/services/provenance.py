"""What authors sign and what the service countersigns, so provenance survives every copy.

An author organisation signs the submission as it sent it (plaintext payload, its
idempotency key, the case it writes to). The service verifies that signature on append,
then signs the event as stored — sealed fields and all — together with the author's
signature. The stored form names each sealed field by a digest of its *ciphertext*, so
every recipient — whatever fields it may read — receives all digests, checks the service's
signature over them and checks its own sealed fields against them; nothing about a
withheld plaintext is revealed. A reader with the full payload can verify the author's.
"""

from __future__ import annotations

from typing import Any, Protocol

from sharing.canonical import b64encode, canonical_json
from sharing.keys import SigningKey, format_time
from sharing.primitives import blake2b
from sharing.signing import sign

SUBMISSION = "casestore/submission"
STORED = "casestore/stored-event"


class SubmissionLike(Protocol):
    @property
    def event_type(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> Any: ...
    @property
    def idempotency_key(self) -> str | None: ...


def submission_document(
    region: str, case_id: str | None, author_org: str, submission: SubmissionLike
) -> dict[str, Any]:
    """The document an author signs; `case_id` is None for the aanmelding that opens one."""
    return {
        "region": region,
        "case_id": case_id,
        "author": author_org,
        "event_type": submission.event_type,
        "payload": submission.payload,
        "occurred_at": format_time(submission.occurred_at) if submission.occurred_at else None,
        "idempotency_key": submission.idempotency_key,
    }


def sign_submission(
    region: str, case_id: str | None, submission: SubmissionLike, key: SigningKey
) -> dict[str, Any]:
    """A partner-side helper: the signature to send with a submission."""
    document = submission_document(region, case_id, key.org_id, submission)
    return sign(document, key, purpose=SUBMISSION).to_json()


def stored_document(
    *,
    region: str,
    case_id: str,
    version: int,
    event_id: str,
    event_type: str,
    author_org: str,
    occurred_at: Any,
    recorded_at: Any,
    control: dict[str, Any],
    content_digests: dict[str, str],
    author_signature: dict[str, Any] | None,
) -> dict[str, Any]:
    """The document the service countersigns: the event as stored, fields by digest."""
    return {
        "region": region,
        "case_id": case_id,
        "version": version,
        "event_id": event_id,
        "event_type": event_type,
        "author": author_org,
        "occurred_at": format_time(occurred_at),
        "recorded_at": format_time(recorded_at),
        "control": control,
        "content_digests": content_digests,
        "author_signature": author_signature,
    }


def content_digests(sealed_content: dict[str, Any]) -> dict[str, str]:
    """BLAKE2b-256 of each sealed field's canonical JSON (ciphertext, nonce, commitment)."""
    return {
        name: b64encode(blake2b(canonical_json(sealed), 32, b"casestore/field"))
        for name, sealed in sealed_content.items()
    }
