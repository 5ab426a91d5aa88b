"""Persons are known to the store only by a pseudonym: a keyed hash of the BSN.

The key is a regional secret, so the same BSN yields the same pseudonym within a region
(a second referral finds the open case) but pseudonyms cannot be recomputed from a list
of all BSNs by anyone without the secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from casestore.domain.errors import InvalidBsn, PersonHasOpenCase

_PERSON = b"casestore.bsn1"  # BLAKE2b personalisation: 16 bytes at most


def check_bsn(bsn: str) -> None:
    """Nine digits passing the elfproef: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11)."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        raise InvalidBsn()
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(w * int(d) for w, d in zip(weights, bsn, strict=True))
    if total % 11 != 0 or bsn == "000000000":
        raise InvalidBsn()


def pseudonym(bsn: str, secret: bytes) -> str:
    """The person's pseudonym under the regional secret (hex, 32 bytes)."""
    check_bsn(bsn)
    if len(secret) < 16:
        raise ValueError("the pseudonym secret must be at least 16 bytes")
    digest: bytes = blake2b(
        bsn.encode("ascii"), digest_size=32, key=secret[:64], person=_PERSON, encoder=RawEncoder
    )
    return digest.hex()


PERSON_NAMESPACE = UUID("6f1e0f8c-3c5e-4f0b-9a57-2f0c0c6f6a01")


def person_id(pseudonym_hex: str) -> UUID:
    """The id of a person's index stream, derived from the pseudonym alone."""
    return uuid5(PERSON_NAMESPACE, pseudonym_hex)


class Person(Aggregate):
    """Which case of a person is open, so a second aanmelding finds it.

    Kept as its own small stream and saved in the same transaction as the case event
    that opens or ends a case: two simultaneous referrals of one person then collide on
    this stream's version, and exactly one of them opens a case.
    """

    TOPIC = "casestore.person"

    class Created(Aggregate.Created):
        TOPIC = "casestore.person.registered"

        def apply(self, aggregate: Any) -> None:
            aggregate.open_case = None
            aggregate.cases = []

    class CaseOpened(Aggregate.Event):
        TOPIC = "casestore.person.case-opened"
        case_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.open_case = self.case_id
            aggregate.cases = [*aggregate.cases, self.case_id]

    class CaseEnded(Aggregate.Event):
        TOPIC = "casestore.person.case-ended"
        case_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.open_case = None

    if TYPE_CHECKING:  # state set by events; class-level annotations would become __init__ args
        open_case: str | None
        cases: list[str]

    @classmethod
    def register(cls, pid: UUID, when: datetime) -> Person:
        return cls._create(cls.Created, id=pid, timestamp=when)

    def start(self, case_id: UUID, when: datetime) -> None:
        if self.open_case is not None and self.open_case != str(case_id):
            raise PersonHasOpenCase(self.open_case)
        self.trigger_event(self.CaseOpened, case_id=str(case_id), timestamp=when)

    def end(self, case_id: UUID, when: datetime) -> None:
        if self.open_case == str(case_id):
            self.trigger_event(self.CaseEnded, case_id=str(case_id), timestamp=when)
