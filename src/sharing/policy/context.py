"""What the engine needs to know of one case at one moment: who is in its network, who
holds which case role, and which conditions are in force.

The policy speaks of "the levensloopaanbieder" and "with toestemming"; whether a given
organisation is the levensloopaanbieder of this case, and whether the betrokkene consented
to this recipient, are facts of the case. The caller (the case record) states them here;
the engine never looks them up. A condition record carries the id of whatever recorded it
(an event, a form), so a grant that rested on it can say so, and withdrawing or expiring it
takes exactly those grants away.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType


@dataclass(frozen=True, slots=True, kw_only=True)
class _Condition:
    id: str
    """What recorded it: an event id, a document reference."""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    """Exclusive: the moment it expired or was withdrawn."""

    def in_force(self, now: datetime) -> bool:
        starts = self.valid_from is None or self.valid_from <= now
        return starts and (self.valid_until is None or now < self.valid_until)


@dataclass(frozen=True, slots=True, kw_only=True)
class Toestemming(_Condition):
    """The betrokkene (or their representative) consented to `recipients` receiving what
    `authors` share (any author when None), perhaps only of some event types."""

    recipients: frozenset[str]
    authors: frozenset[str] | None = None
    event_types: frozenset[str] | None = None
    rules: frozenset[str] | None = None
    """Only these rules of the policy may rest on it (any rule with the condition if None)."""

    def allows(
        self, author: str | None, recipient: str, event_type: str, rule: str | None = None
    ) -> bool:
        return (
            recipient in self.recipients
            and (self.authors is None or author in self.authors)
            and (self.event_types is None or event_type in self.event_types)
            and (self.rules is None or rule is None or rule in self.rules)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictVanPlichten(_Condition):
    """`author` weighed its duty of confidentiality against the danger in this case and
    recorded that it must share with `recipients`."""

    author: str
    recipients: frozenset[str]
    event_types: frozenset[str] | None = None
    rules: frozenset[str] | None = None
    """Only these rules of the policy may rest on it (any rule with the condition if None)."""

    def allows(
        self, author: str | None, recipient: str, event_type: str, rule: str | None = None
    ) -> bool:
        return (
            author == self.author
            and recipient in self.recipients
            and (self.event_types is None or event_type in self.event_types)
            and (self.rules is None or rule is None or rule in self.rules)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KaderInForce(_Condition):
    """A juridisch kader (its id in the policy's `kaders`) applies in this case."""

    kader: str


Condition = Toestemming | ConflictVanPlichten | KaderInForce


@dataclass(frozen=True, slots=True, eq=False)
class CaseContext:
    """One case as the policy sees it at one moment.

    `roles` maps a case role to the organisations holding it. A holder counts only while it
    is a member and only if the policy lets its organisation roles hold the role.
    """

    members: frozenset[str]
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    _key: tuple[object, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        roles = tuple(sorted((role, frozenset(orgs)) for role, orgs in self.roles.items()))
        object.__setattr__(self, "roles", MappingProxyType(dict(roles)))
        object.__setattr__(self, "_key", (self.members, roles, self.conditions))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CaseContext) and self._key == other._key

    @classmethod
    def of(
        cls,
        members: Iterable[str],
        roles: Mapping[str, str | Iterable[str]] | None = None,
        conditions: Iterable[Condition] = (),
    ) -> CaseContext:
        """A context from plain values; a role may name one organisation or several."""
        held = {
            role: frozenset((orgs,) if isinstance(orgs, str) else orgs)
            for role, orgs in (roles or {}).items()
        }
        return cls(frozenset(members), held, tuple(conditions))

    def holders(self, role: str) -> frozenset[str]:
        return self.roles.get(role, frozenset()) & self.members

    def at(self, now: datetime) -> CaseContext:
        """The case with only the conditions in force at `now`."""
        if not self.conditions:
            return self
        live = tuple(c for c in self.conditions if c.in_force(now))
        return self if len(live) == len(self.conditions) else replace(self, conditions=live)

    def without(self, condition: Condition) -> CaseContext:
        return CaseContext(
            self.members, self.roles, tuple(c for c in self.conditions if c != condition)
        )

    def toestemming(self) -> tuple[Toestemming, ...]:
        return tuple(c for c in self.conditions if isinstance(c, Toestemming))

    def conflicts(self) -> tuple[ConflictVanPlichten, ...]:
        return tuple(c for c in self.conditions if isinstance(c, ConflictVanPlichten))

    def kaders(self) -> tuple[KaderInForce, ...]:
        return tuple(c for c in self.conditions if isinstance(c, KaderInForce))


def as_context(network: CaseContext | Collection[str]) -> CaseContext:
    """A plain collection of members is a case with no case roles and no conditions."""
    if isinstance(network, CaseContext):
        return network
    return CaseContext(frozenset(network))
