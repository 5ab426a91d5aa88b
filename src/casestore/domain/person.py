"""Persons are known to the store only by a pseudonym: a keyed hash of the BSN, or, for a
referral without one (not every referrer may process the BSN), of the normalised name and
the birth date.

The key is a regional secret, so the same BSN yields the same pseudonym within a region
(a second referral finds the open case) but pseudonyms cannot be recomputed from a list
of all BSNs, or of names and birth dates, by anyone without the secret. The two kinds are
hashed under different personalisations, so one can never equal the other.

A person known by both leads from both to one index: the index stream of the other
pseudonym is an *alias* (`Person.Aliased`) of the person's own. So a referral with the
BSN and the name, and a later one with the name alone (or the reverse, the BSN added
later), find the same person; `casestore.services.person_index` decides it.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from casestore.domain.errors import CannotReopen, InvalidBsn, PersonHasOpenCase

_PERSON = b"casestore.bsn1"  # BLAKE2b personalisation: 16 bytes at most
_PERSON_BY_NAME = b"casestore.naam1"


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


def normalised_name(naam: str) -> str:
    """A name as the referrers' spellings of it agree: letters only, without accents or
    case, so "J. de Vries", "j de vries" and "J.de-Vriës" are one name."""
    decomposed = unicodedata.normalize("NFKD", naam)
    return "".join(c for c in decomposed.casefold() if c.isalnum() and c.isascii())


def pseudonym_by_name(naam: str, geboortedatum: date, secret: bytes) -> str:
    """The pseudonym of a person referred without a BSN, under the regional secret."""
    name = normalised_name(naam)
    if not name:
        raise ValueError("a name without letters identifies no one")
    if len(secret) < 16:
        raise ValueError("the pseudonym secret must be at least 16 bytes")
    digest: bytes = blake2b(
        f"{name}\n{geboortedatum.isoformat()}".encode("ascii"),
        digest_size=32,
        key=secret[:64],
        person=_PERSON_BY_NAME,
        encoder=RawEncoder,
    )
    return digest.hex()


DESTROYED = "vernietigd"
"""What a person's index holds in place of a case that was destroyed: the index keeps its
version (two referrals still collide on it) but leads to the case no more."""

PERSON_NAMESPACE = UUID("6f1e0f8c-3c5e-4f0b-9a57-2f0c0c6f6a01")


def person_id(pseudonym_hex: str) -> UUID:
    """The id of a person's index stream, derived from the pseudonym alone."""
    return uuid5(PERSON_NAMESPACE, pseudonym_hex)


class Person(Aggregate):
    """The person index: a person's cases, which are open, and who is in their networks.

    Kept as its own small stream and saved in the same transaction as the case event
    that opens a case, changes its network or ends it: two simultaneous referrals of one
    person then collide on this stream's version, and the loser decides again on what
    the winner wrote.

    A referral of a person with an open case must not tell a partner outside that case's
    network that the case exists (the answer would reveal that the person is in the
    levensloopaanpak). So only a member of an open case's network is told of it
    (`PersonHasOpenCase`); anyone else's referral opens a case of its own, as a referral
    of anyone else would, recorded here as an *aanmelding bij lopende casus*: the ZVH
    sees the link (the bekendheid check) and handles the referral in the open case. To
    decide that without reading the open case, whose size would show in the answer's
    time, the index keeps the network of each open case.
    """

    TOPIC = "casestore.person"

    class Created(Aggregate.Created):
        TOPIC = "casestore.person.registered"

        def apply(self, aggregate: Any) -> None:
            aggregate.open_case = None
            aggregate.cases = []
            aggregate.networks = {}
            aggregate.beside = {}
            aggregate.alias_of = None
            aggregate.with_bsn = False
            aggregate.name_elsewhere = {}

    class Aliased(Aggregate.Event):
        """This index is another pseudonym of the person whose index is `person`."""

        TOPIC = "casestore.person.aliased"
        person: str

        def apply(self, aggregate: Any) -> None:
            aggregate.alias_of = self.person

    class KnownByBsn(Aggregate.Event):
        """The person is known by a BSN too (its pseudonym leads here)."""

        TOPIC = "casestore.person.known-by-bsn"

        def apply(self, aggregate: Any) -> None:
            aggregate.with_bsn = True

    class NameLeadsElsewhere(Aggregate.Event):
        """A referral of this person (by BSN) gave a name and birth date that lead to
        another person's index: not joined, flagged for the ZVH's bekendheid check."""

        TOPIC = "casestore.person.name-leads-elsewhere"
        case_id: str
        other: str

        def apply(self, aggregate: Any) -> None:
            if self.case_id == DESTROYED:
                return
            aggregate.name_elsewhere = {**aggregate.name_elsewhere, self.case_id: self.other}

    class CaseOpened(Aggregate.Event):
        TOPIC = "casestore.person.case-opened"
        case_id: str
        network: list[str] | None = None  # None in events recorded before networks were kept

        def apply(self, aggregate: Any) -> None:
            if self.case_id == DESTROYED:
                return
            aggregate.open_case = self.case_id
            aggregate.cases = [*aggregate.cases, self.case_id]
            aggregate.networks = {**aggregate.networks, self.case_id: _network(self)}

    class ReferredBesideOpenCase(Aggregate.Event):
        """A referral by an organisation outside the open case's network: a case of its
        own, linked to the open one."""

        TOPIC = "casestore.person.referred-beside-open-case"
        case_id: str
        open_case: str
        network: list[str]

        def apply(self, aggregate: Any) -> None:
            if self.case_id == DESTROYED:
                return
            aggregate.cases = [*aggregate.cases, self.case_id]
            aggregate.networks = {**aggregate.networks, self.case_id: list(self.network)}
            if self.open_case != DESTROYED:
                aggregate.beside = {**aggregate.beside, self.case_id: self.open_case}

    class NetworkChanged(Aggregate.Event):
        TOPIC = "casestore.person.network-changed"
        case_id: str
        network: list[str]

        def apply(self, aggregate: Any) -> None:
            if self.case_id == DESTROYED:
                return
            aggregate.networks = {**aggregate.networks, self.case_id: list(self.network)}

    class CaseEnded(Aggregate.Event):
        TOPIC = "casestore.person.case-ended"
        case_id: str

        def apply(self, aggregate: Any) -> None:
            if self.case_id == DESTROYED:
                return
            if aggregate.open_case == self.case_id:
                aggregate.open_case = None
            aggregate.networks = {c: n for c, n in aggregate.networks.items() if c != self.case_id}

    class CaseReopened(Aggregate.Event):
        """A heraanmelding took the person back into an ended case."""

        TOPIC = "casestore.person.case-reopened"
        case_id: str
        network: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.open_case = self.case_id
            aggregate.networks = {**aggregate.networks, self.case_id: list(self.network)}

    if TYPE_CHECKING:  # state set by events; class-level annotations would become __init__ args
        open_case: str | None
        cases: list[str]
        networks: dict[str, list[str] | None]  # open cases (the person's and beside it)
        beside: dict[str, str]  # aanmelding bij lopende casus -> the case it was made beside
        alias_of: str | None  # this index is an alias: the person's own index id
        with_bsn: bool  # a BSN pseudonym leads here (recorded since aliases are kept)
        name_elsewhere: dict[str, str]  # case -> the other person its name leads to

    @classmethod
    def register(cls, pid: UUID, when: datetime) -> Person:
        return cls._create(cls.Created, id=pid, timestamp=when)

    def refer(self, case_id: UUID, referrer: str, network: list[str], when: datetime) -> str | None:
        """Record a referral by `referrer` that opens case `case_id` with `network`: the
        person's case, or, when the person has one open already, a case beside it (whose
        id is returned). A referrer in the network of an open case of the person is told
        of that case instead, the person's own before any beside it."""
        member_of = self.open_case_of(referrer)
        if member_of is not None and member_of != str(case_id):
            raise PersonHasOpenCase(member_of)
        if self.open_case is None or self.open_case == str(case_id):
            self.trigger_event(
                self.CaseOpened, case_id=str(case_id), network=sorted(network), timestamp=when
            )
            return None
        self.trigger_event(
            self.ReferredBesideOpenCase,
            case_id=str(case_id),
            open_case=self.open_case,
            network=sorted(network),
            timestamp=when,
        )
        return self.open_case

    def open_case_of(self, organisation: str) -> str | None:
        """The open case of the person whose network holds `organisation`, if any. A case
        whose network the index does not know (opened before it kept networks) counts as
        one the organisation is not in: a referral then opens a case beside it, which
        tells nothing."""
        ordered = sorted(self.networks, key=lambda case: case != self.open_case)
        return next((c for c in ordered if organisation in (self.networks[c] or ())), None)

    def network_changed(self, case_id: UUID, network: list[str], when: datetime) -> None:
        if str(case_id) in self.networks and self.networks[str(case_id)] != sorted(network):
            self.trigger_event(
                self.NetworkChanged, case_id=str(case_id), network=sorted(network), timestamp=when
            )

    def end(self, case_id: UUID, when: datetime) -> None:
        if self.open_case == str(case_id) or str(case_id) in self.networks:
            self.trigger_event(self.CaseEnded, case_id=str(case_id), timestamp=when)

    def reopen(self, case_id: UUID, network: list[str], when: datetime) -> None:
        """Take the person back into their ended case `case_id`. Refused while another
        case of the person is open, without saying so: that case may be one the writer
        is not in."""
        if self.open_case is not None and self.open_case != str(case_id):
            raise CannotReopen()
        self.trigger_event(
            self.CaseReopened, case_id=str(case_id), network=sorted(network), timestamp=when
        )

    def alias(self, person: UUID, when: datetime) -> None:
        self.trigger_event(self.Aliased, person=str(person), timestamp=when)

    def known_by_bsn(self, when: datetime) -> None:
        if not self.with_bsn:
            self.trigger_event(self.KnownByBsn, timestamp=when)

    def name_leads_elsewhere(self, case_id: UUID, other: UUID, when: datetime) -> None:
        self.trigger_event(
            self.NameLeadsElsewhere, case_id=str(case_id), other=str(other), timestamp=when
        )

    def beside_of(self, case_id: str) -> str | None:
        """The open case that `case_id` was an aanmelding bij lopende casus of, if it was."""
        return self.beside.get(case_id)


def forget_case(state: dict[str, Any], case_id: str) -> bool:
    """Put the destroyed-case marker in place of `case_id` in one stored event's state of
    a person's index; whether it named the case."""
    named = False
    for name in ("case_id", "open_case"):
        if state.get(name) == case_id:
            state[name] = DESTROYED
            named = True
    return named


def _network(event: Any) -> list[str] | None:
    network = getattr(event, "network", None)
    return None if network is None else list(network)
