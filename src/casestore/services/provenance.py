"""Who vouches for an event: its author's signed document, checked (or made, for the
organisations the service hosts) before the event is sealed, and the custodian's
countersignature over the event as stored.

The author signs salted digests of the content as the catalogue normalises it, never the
content (`sharing.disclosures`), so every recipient can check the fields it opens and
learns nothing of the others; the disclosures themselves become the sealed plaintexts. A
partner signs with `sign_submission` and sends the document, the signature and the salts
with the payload. The service takes nothing on trust that it can compute: it normalises
the payload, rebuilds each disclosure from the salts, and compares every member of the
document with what it derived, naming the member that differs, before the signature is
checked. The formats are specified in docs/provenance.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

from casestore.adapters.keyring import Keyring
from casestore.domain.catalogue import Payload, parse_payload
from casestore.domain.errors import FieldProblem, PayloadInvalid
from sharing.canonical import b64decode, b64encode
from sharing.directory import directory_document, sign_directory
from sharing.disclosures import (
    SALT_BYTES,
    Disclosure,
    digest,
    digests_of,
    disclose,
    is_digest_list,
)
from sharing.errors import SignatureInvalid
from sharing.keys import Randomness, SigningKey, format_time, parse_time
from sharing.owned import parts
from sharing.provenance import (
    AUTHOR_DOCUMENT,
    AUTHOR_MEMBERS,
    STORED_EVENT,
    author_document,
)
from sharing.signing import Signature, sign, verify

__all__ = [
    "AUTHOR_DOCUMENT",
    "STORED_EVENT",
    "Attested",
    "Provenance",
    "sealed_values",
    "sign_submission",
]

NORMAL_FORM = "sign the payload as the catalogue normalises it (docs/provenance.md)"


class SubmissionLike(Protocol):
    @property
    def event_type(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> datetime | None: ...
    @property
    def idempotency_key(self) -> str | None: ...


class SignedSubmission(SubmissionLike, Protocol):
    @property
    def author_document(self) -> dict[str, Any] | None: ...
    @property
    def salts(self) -> dict[str, Any] | None: ...
    @property
    def signature(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Attested:
    """A submission ready to seal: its id and time, who vouches for it, and the
    disclosures (sealed name -> bytes) that become its sealed plaintexts."""

    submission_id: str
    occurred_at: datetime
    document: dict[str, Any]
    signature: dict[str, Any] | None
    plaintexts: dict[str, bytes]


def sealed_values(payload: Payload) -> dict[str, Any]:
    """The content as it is sealed: a value per field, an owned field split per owner
    (`sharing.owned`), an absent optional field as None."""
    owned = payload.owned_fields()
    values: dict[str, Any] = {}
    for name, value in payload.content_values().items():
        owner_key = owned.get(name)
        if owner_key is None:
            values[name] = value
        else:
            values.update(parts(name, value, owner_key))
    return values


def sign_submission(
    region: str,
    case_id: str | None,
    submission: SubmissionLike,
    key: SigningKey,
    *,
    now: datetime | None = None,
    rng: Randomness = os.urandom,
) -> dict[str, Any]:
    """A partner-side helper: what to send beside the payload of a submission, as
    ``{"author_document", "signature", "salts"}`` (the body members of the same names).

    The payload is normalised as the service will normalise it, salted and digested; the
    submission's idempotency key is the submission id the author signs, so it is required.
    Without ``occurred_at`` the submission happened ``now``, as the document says.
    """
    if submission.idempotency_key is None:
        raise ValueError("a signed submission needs an idempotency key: its submission id")
    now = now or datetime.now(UTC)
    occurred_at = submission.occurred_at or now
    payload = parse_payload(submission.event_type, submission.payload, today=now.date())
    disclosures = disclose(sealed_values(payload), rng)
    document = author_document(
        region=region,
        case_id=case_id,
        author=key.org_id,
        event_type=submission.event_type,
        submission_id=submission.idempotency_key,
        occurred_at=format_time(occurred_at),
        control=payload.control_values(),
        digests=_digests(disclosures, payload, rng),
    )
    return {
        "author_document": document,
        "signature": sign(document, key, purpose=AUTHOR_DOCUMENT).to_json(),
        "salts": {name: b64encode(d.salt) for name, d in disclosures.items()},
    }


def _digests(disclosures: Mapping[str, Disclosure], payload: Payload, rng: Randomness) -> Any:
    encoded = {name: d.encode() for name, d in disclosures.items()}
    return digests_of(encoded, payload.owned_fields(), rng)


class Provenance:
    """The service's part in provenance: checking or making the author's document,
    countersigning as the custodian, and publishing the keys it all verifies with."""

    def __init__(
        self,
        *,
        region: str,
        custodian: str,
        keyring: Keyring,
        require_signatures: bool = True,
        rng: Randomness = os.urandom,
    ) -> None:
        self.region = region
        self.custodian = custodian
        self.keyring = keyring
        self.require_signatures = require_signatures
        self._rng = rng

    def attest(
        self,
        submission: SignedSubmission,
        payload: Payload,
        *,
        author: str,
        case_id: str | None,
        now: datetime,
    ) -> Attested:
        """The submission's disclosures and author's document, checked if the author
        signed it; signed here for a hosted author; unsigned only where the settings let
        partners write without signatures (else SignatureInvalid)."""
        signed = (submission.signature, submission.author_document, submission.salts)
        if any(part is not None for part in signed):
            return self._check(submission, payload, author, case_id, now)
        if author not in self.keyring.hosted and self.require_signatures:
            raise SignatureInvalid()
        submission_id = submission.idempotency_key or str(uuid4())
        occurred_at = submission.occurred_at or now
        disclosures = disclose(sealed_values(payload), self._rng)
        document = author_document(
            region=self.region,
            case_id=case_id,
            author=author,
            event_type=submission.event_type,
            submission_id=submission_id,
            occurred_at=format_time(occurred_at),
            control=payload.control_values(),
            digests=_digests(disclosures, payload, self._rng),
        )
        signature = None
        if author in self.keyring.hosted:
            key = self.keyring.signing_key(author, now)
            signature = sign(document, key, purpose=AUTHOR_DOCUMENT).to_json()
        plaintexts = {name: d.encode() for name, d in disclosures.items()}
        return Attested(submission_id, occurred_at, document, signature, plaintexts)

    def countersign(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The custodian's signature over `sharing.provenance.stored_document`."""
        key = self.keyring.signing_key(self.custodian)
        return sign(stored, key, purpose=STORED_EVENT).to_json()

    def key_directory(self, now: datetime) -> dict[str, Any]:
        """Every organisation's published key generations, signed by the custodian."""
        document = directory_document(self.region, self.custodian, now, self.keyring.records())
        return sign_directory(document, self.keyring.signing_key(self.custodian))

    # ---- a partner's signed submission ----------------------------------------------------

    def _check(
        self,
        submission: SignedSubmission,
        payload: Payload,
        author: str,
        case_id: str | None,
        now: datetime,
    ) -> Attested:
        """Rebuild what the author should have signed and name every member that differs;
        only then check the signature, over the document as sent."""
        event_type = submission.event_type
        document, salts = submission.author_document, submission.salts
        problems = _missing(submission)
        if problems:
            raise PayloadInvalid(event_type, problems)
        assert document is not None and salts is not None  # noqa: S101 - checked above
        assert submission.idempotency_key is not None  # noqa: S101 - checked above
        occurred_at = submission.occurred_at or _signed_time(event_type, document)
        disclosures, problems = _disclosures(sealed_values(payload), salts)
        expected = author_document(
            region=self.region,
            case_id=case_id,
            author=author,
            event_type=event_type,
            submission_id=submission.idempotency_key,
            occurred_at=format_time(occurred_at),
            control=payload.control_values(),
            digests={},
        )
        problems += _differences(document, expected)
        problems += _digest_problems(document.get("digests"), disclosures, payload)
        if problems:
            raise PayloadInvalid(event_type, problems)
        signature = Signature.from_json(submission.signature or {})
        if signature.org_id != author:
            raise SignatureInvalid()
        verify(document, signature, self.keyring.records(), purpose=AUTHOR_DOCUMENT, at=now)
        plaintexts = {name: d.encode() for name, d in disclosures.items()}
        # Stored as derived: the same canonical JSON as what was signed, so the signature
        # holds, without an author's spelling of a value (3.0 for 3) carried along.
        stored = {**expected, "digests": document["digests"]}
        return Attested(
            submission.idempotency_key, occurred_at, stored, signature.to_json(), plaintexts
        )


def _missing(submission: SignedSubmission) -> list[FieldProblem]:
    problems = []
    if submission.idempotency_key is None:
        problems.append(
            FieldProblem(
                "event_id",
                "a signed submission needs an Idempotency-Key header or event_id: "
                "the submission_id its author signs",
            )
        )
    for name in ("signature", "author_document", "salts"):
        if not isinstance(getattr(submission, name), dict):
            problems.append(
                FieldProblem(name, "a signed submission sends signature, author_document, salts")
            )
    return problems


def _signed_time(event_type: str, document: Mapping[str, Any]) -> datetime:
    try:
        return parse_time(document["occurred_at"])
    except (KeyError, TypeError, ValueError):
        problem = FieldProblem("author_document.occurred_at", "not an RFC 3339 time with zone")
        raise PayloadInvalid(event_type, [problem]) from None


def _disclosures(
    values: Mapping[str, Any], salts: Mapping[str, Any]
) -> tuple[dict[str, Disclosure], list[FieldProblem]]:
    disclosures, problems = {}, []
    for name, value in values.items():
        try:
            salt = b64decode(salts[name])
            if len(salt) != SALT_BYTES:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            problems.append(FieldProblem(f"salts.{name}", "needs 16 random bytes, base64url"))
            continue
        disclosures[name] = Disclosure(salt, name, value)
    for name in sorted(set(salts) - set(values)):
        problems.append(FieldProblem(f"salts.{name}", "the payload seals no such value"))
    return disclosures, problems


def _differences(document: Mapping[str, Any], expected: Mapping[str, Any]) -> list[FieldProblem]:
    problems = []
    for member in sorted(set(document) - set(AUTHOR_MEMBERS)):
        problems.append(FieldProblem(f"author_document.{member}", "unknown member"))
    for member, value in expected.items():
        if member == "digests":
            continue
        given = document.get(member)
        if given != value or type(given) is not type(value):
            problems.append(FieldProblem(f"author_document.{member}", _expected(member, value)))
    return problems


def _expected(member: str, value: Any) -> str:
    if member == "control":
        return f"is not the payload's control attributes as normalised: {NORMAL_FORM}"
    return f"must be {value!r}" if value is not None else "must be null"


def _digest_problems(
    digests: Any, disclosures: Mapping[str, Disclosure], payload: Payload
) -> list[FieldProblem]:
    """Every content field's digest against the disclosure rebuilt from the payload; a
    disclosure whose salt was missing has been reported already and is not compared."""
    if not isinstance(digests, dict):
        return [FieldProblem("author_document.digests", "must be an object")]
    fields = payload.content_fields()
    problems = [
        FieldProblem(f"author_document.digests.{name}", "not a content field of the type")
        for name in sorted(set(digests) - set(fields))
    ]
    whole: dict[str, str] = {}
    owned: dict[str, set[str]] = {name: set() for name in payload.owned_fields()}
    for name, disclosure in disclosures.items():
        field, _, owner = name.partition("/")
        if owner:
            owned[field].add(digest(disclosure.encode()))
        else:
            whole[field] = digest(disclosure.encode())
    for field in fields:
        listed = digests.get(field)
        if field not in digests:
            problems.append(FieldProblem(f"author_document.digests.{field}", "required"))
        elif field in owned and not is_digest_list(listed):
            problems.append(
                FieldProblem(
                    f"author_document.digests.{field}",
                    "must list its parts' digests among decoys: sorted, distinct, a multiple of 16",
                )
            )
        elif (field in owned and not owned[field] <= set(digests[field])) or (
            field in whole and listed != whole[field]
        ):
            problems.append(_mismatch(field))
    return problems


def _mismatch(field: str) -> FieldProblem:
    return FieldProblem(
        f"author_document.digests.{field}",
        f"does not match payload.{field} with its salt: {NORMAL_FORM}",
    )
