"""Which person a referral is about: the person index reached by the BSN pseudonym, the
name-and-birth-date pseudonym, or both.

Every aanmelding names the person and the birth date; some give the BSN too. Whenever both
pseudonyms of one referral are known, both lead to one person index: the index stream of
the one that is not the person's own becomes an alias of it (`Person.Aliased`), saved in
the transaction that opens the case. So a referral by name alone finds the person a
referral with the BSN registered, and a BSN given later joins the person first referred
by name (if no BSN was known for that person yet).

Two pseudonyms that already lead to two different persons are never merged: the BSN,
which identifies one person, decides, and the referral's case is flagged in the BSN
person's index (`Person.NameLeadsElsewhere`) for the ZVH's bekendheid check, which names
the other person's cases. The referrer is not told: refusing it would tell a partner
outside the cases that both are known, which the index never does. The cause is for the
ZVH to find (two persons with one name and birth date, a typo in either, a person
referred by name before the BSN was known and by BSN elsewhere since).

Each referral reads the BSN's index and the name's whatever it finds (one more read where
an alias leads on), so the answer takes about as long for a known person as for an
unknown one, as `CaseStore.open_case` wants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from casestore.domain import errors
from casestore.domain.catalogue import Aanmelding
from casestore.domain.person import Person, person_id, pseudonym, pseudonym_by_name

Reader = Callable[[UUID], Person | None]


@dataclass
class Resolved:
    """The person a referral is about, the alias indexes to save with it, and another
    person its name leads to (flagged, not joined)."""

    person: Person
    aliases: list[Person] = field(default_factory=list)
    elsewhere: UUID | None = None

    @property
    def to_save(self) -> list[Person]:
        return [self.person, *self.aliases]


class PersonIndex:
    """Finds persons by their pseudonyms under the regional secret."""

    def __init__(self, secret: bytes, read: Reader) -> None:
        self._secret = secret
        self._read = read

    def read(self, pid: UUID) -> Person | None:
        """A person index by its id (an alias followed)."""
        return self._follow(self._read(pid))

    def by_bsn(self, bsn: str) -> Person | None:
        """The person a BSN leads to (None: never referred). Neither stored nor logged."""
        return self._follow(self._read(person_id(pseudonym(bsn, self._secret))))

    def by_name(self, naam: str, geboortedatum: date) -> Person | None:
        """The person a name and birth date lead to (None: never referred)."""
        return self._follow(self._read(person_id(self._by_name(naam, geboortedatum))))

    def resolve(self, referral: Aanmelding, now: datetime) -> Resolved:
        """The person `referral` is about, registering what it makes known."""
        name_id = person_id(self._by_name(referral.naam, referral.geboortedatum))
        name_stream = self._read(name_id)
        by_name = self._follow(name_stream)
        if referral.bsn is None:
            return Resolved(by_name or Person.register(name_id, now))
        bsn_id = person_id(pseudonym(referral.bsn, self._secret))
        bsn_stream = self._read(bsn_id)
        by_bsn = self._follow(bsn_stream)
        if by_bsn is None and by_name is not None and not by_name.with_bsn:
            # A BSN given later: the person first referred by name alone gains it.
            alias = Person.register(bsn_id, now)
            alias.alias(by_name.id, now)
            by_name.known_by_bsn(now)
            return Resolved(by_name, [alias])
        person = by_bsn or Person.register(bsn_id, now)
        person.known_by_bsn(now)
        if by_name is None:
            if name_stream is None:  # the name leads nowhere yet: from now on, here
                alias = Person.register(name_id, now)
                alias.alias(person.id, now)
                return Resolved(person, [alias])
            return Resolved(person)
        if by_name.id != person.id:
            return Resolved(person, elsewhere=by_name.id)
        return Resolved(person)

    def _by_name(self, naam: str, geboortedatum: date) -> str:
        try:
            return pseudonym_by_name(naam, geboortedatum, self._secret)
        except ValueError:
            problem = errors.FieldProblem("naam", "must hold letters: it identifies the person")
            raise errors.PayloadInvalid("aanmelding", [problem]) from None

    def _follow(self, stream: Person | None) -> Person | None:
        """The person an index stream is, or is an alias of."""
        if stream is None or stream.alias_of is None:
            return stream
        return self._read(UUID(stream.alias_of))
