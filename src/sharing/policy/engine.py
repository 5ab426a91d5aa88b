"""The compiled access matrix: who receives which event types and fields, decided cheaply.

Compiling splits time at every rule's validity boundary; within each period the set of
rules in force is fixed, so every (organisation, event type) decision is computed once.
`decide` is then a bisect on the date and a dictionary lookup: it runs for every event
stored and every event read.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import NoReturn

from sharing.errors import PolicyError, UnknownOrganisation
from sharing.policy.catalogue import Catalogue, EventTypeSpec
from sharing.policy.decisions import Basis, Decision, FieldAccess, Recipients, RuleGrant
from sharing.policy.digest import policy_digest
from sharing.policy.explain import Explanation, explain_access
from sharing.policy.loader import validate_policy
from sharing.policy.model import Organisation, Policy, Rule, Scope

Key = tuple[str, str]
"""(organisation id, event type)"""


@dataclass(frozen=True, slots=True)
class _Audience:
    """For one event type in one period: who gets the header, and each field at which scope."""

    receivers: frozenset[str]
    fields: Mapping[str, Mapping[str, Scope]]


@dataclass(frozen=True, slots=True)
class _Period:
    member: Mapping[Key, Decision]
    author_member: Mapping[Key, Decision]
    audiences: Mapping[str, _Audience]


def compile_policy(policy: Policy, catalogue: Catalogue) -> AccessMatrix:
    """Check `policy` against `catalogue` and precompute every decision it implies."""
    return AccessMatrix(policy, catalogue)


class AccessMatrix:
    """Organisation × event type × field → granted?, by which rules, on which grounds, scope.

    Building it checks the policy against the catalogue (PolicyError if unsound). Every
    answer takes `now` (timezone-aware); the engine
    never reads the clock. Validity dates are read in the policy's timezone.
    """

    def __init__(self, policy: Policy, catalogue: Catalogue) -> None:
        validate_policy(policy, catalogue)
        self.policy = policy
        self.digest = policy_digest(policy)
        self._catalogue: dict[str, EventTypeSpec] = dict(catalogue)
        self._organisations = {o.id: o for o in policy.organisations}
        self._zone = policy.zone
        self._boundaries = _boundaries(policy.rules)
        starts = [date.min, *self._boundaries]
        self._periods = tuple(self._period_from(start) for start in starts)
        self._authors = _authors(policy, self._catalogue)
        self._outsider = self._fixed(Basis.not_in_network)
        self._author_outsider = self._fixed(Basis.author)

    @property
    def version(self) -> int | str:
        return self.policy.version

    @property
    def organisations(self) -> frozenset[str]:
        return frozenset(self._organisations)

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._catalogue)

    def content_fields(self, event_type: str) -> frozenset[str]:
        spec = self._catalogue.get(event_type)
        if spec is None:
            raise _unknown_event_type(event_type)
        return spec.content_fields

    def may_author(self, org_id: str, event_type: str) -> bool:
        """Whether the policy lets `org_id` write events of `event_type` (default deny)."""
        if event_type not in self._catalogue:
            raise _unknown_event_type(event_type)
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        return org_id in self._authors[event_type]

    def decide(
        self,
        org_id: str,
        event_type: str,
        network: Collection[str],
        now: datetime,
        author: str | None = None,
    ) -> Decision:
        """Whether `org_id` receives an event of `event_type` in a case with `network`, and what.

        Only network members receive a case's events, and only what rules in force grant;
        the author of the event always reads it in full.
        """
        key = (org_id, event_type)
        period = self._period_at(now)
        decision = period.member.get(key)
        if decision is None:
            self._reject(org_id, event_type)
        if author is not None and author not in self._organisations:
            raise UnknownOrganisation(author)
        in_network = org_id in network
        if author == org_id:
            return period.author_member[key] if in_network else self._author_outsider[key]
        return decision if in_network else self._outsider[key]

    def recipients(
        self,
        event_type: str,
        network: Collection[str],
        now: datetime,
        author: str | None = None,
    ) -> Recipients:
        """Who receives a new event, per content field — the inverse of `decide`."""
        audience = self._period_at(now).audiences.get(event_type)
        if audience is None:
            raise _unknown_event_type(event_type)
        if author is not None and author not in self._organisations:
            raise UnknownOrganisation(author)
        members = frozenset(network)
        author_scope = {author: Scope.all} if author is not None else {}
        fields = {
            field: MappingProxyType(
                {o: s for o, s in grants.items() if o in members} | author_scope
            )
            for field, grants in audience.fields.items()
        }
        header = (audience.receivers & members) | frozenset(author_scope)
        return Recipients(event_type, header, MappingProxyType(fields))

    def view(self, org_id: str, now: datetime) -> Mapping[str, Decision]:
        """What `org_id` receives of each event type as a network member (not the author)."""
        period = self._period_at(now)
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        return {et: period.member[(org_id, et)] for et in sorted(self._catalogue)}

    def explain(
        self, org_id: str, event_type: str, field: str | None, now: datetime
    ) -> Explanation:
        """Why `org_id`, as a network member, may or may not read `field` (None: the header)."""
        day = self._day(now)
        period = self._periods[bisect_right(self._boundaries, day)]
        decision = period.member.get((org_id, event_type))
        if decision is None:
            self._reject(org_id, event_type)
        if field is not None and field not in self._catalogue[event_type].content_fields:
            if field not in self._catalogue[event_type].control_fields:
                raise PolicyError(f"event type {event_type!r} has no field {field!r}")
            field = None
        return explain_access(self.policy, decision, field, day)

    def _period_at(self, now: datetime) -> _Period:
        return self._periods[bisect_right(self._boundaries, self._day(now))]

    def _day(self, now: datetime) -> date:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(self._zone).date()

    def _reject(self, org_id: str, event_type: str) -> NoReturn:
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        raise _unknown_event_type(event_type)

    def _period_from(self, start: date) -> _Period:
        rules = [rule for rule in self.policy.rules if rule.in_force(start)]
        member = {
            (org.id, event_type): _decision(org, event_type, spec, rules)
            for org in self.policy.organisations
            for event_type, spec in self._catalogue.items()
        }
        author_member = {
            key: _as_author(decision, self._catalogue[key[1]]) for key, decision in member.items()
        }
        audiences = {
            et: _audience(et, spec, member.values()) for et, spec in self._catalogue.items()
        }
        return _Period(
            MappingProxyType(member), MappingProxyType(author_member), MappingProxyType(audiences)
        )

    def _fixed(self, basis: Basis) -> Mapping[Key, Decision]:
        """Decisions that do not depend on the period: for outsiders, and outsider authors."""
        return MappingProxyType(
            {
                (org_id, et): _as_author(_nothing(org_id, et, basis), spec)
                if basis is Basis.author
                else _nothing(org_id, et, basis)
                for org_id in self._organisations
                for et, spec in self._catalogue.items()
            }
        )


def _unknown_event_type(event_type: str) -> PolicyError:
    return PolicyError(
        f"event type {event_type!r} is not in the catalogue this policy was compiled against"
    )


def _authors(policy: Policy, catalogue: Mapping[str, EventTypeSpec]) -> dict[str, frozenset[str]]:
    authors: dict[str, set[str]] = {event_type: set() for event_type in catalogue}
    for entry in policy.authorship:
        orgs = {
            o.id
            for o in policy.organisations
            if o.id in entry.authors.organisations or set(o.roles) & set(entry.authors.roles)
        }
        for event_type in entry.event_types:
            authors[event_type] |= orgs
    return {event_type: frozenset(orgs) for event_type, orgs in authors.items()}


def _boundaries(rules: Iterable[Rule]) -> tuple[date, ...]:
    """The first days on which the set of rules in force may change."""
    days = {rule.valid_from for rule in rules if rule.valid_from is not None}
    days |= {
        rule.valid_until + timedelta(days=1)
        for rule in rules
        if rule.valid_until is not None and rule.valid_until < date.max
    }
    return tuple(sorted(days))


def _applies_to(rule: Rule, org: Organisation) -> bool:
    return org.id in rule.recipients.organisations or not set(org.roles).isdisjoint(
        rule.recipients.roles
    )


def _decision(
    org: Organisation, event_type: str, spec: EventTypeSpec, rules: list[Rule]
) -> Decision:
    relevant = [r for r in rules if event_type in r.event_types and _applies_to(r, org)]
    fields: dict[str, FieldAccess] = {}
    for field in sorted(spec.content_fields):
        grants = tuple(_grant(rule) for rule in relevant if field in rule.fields)
        if grants:
            scope = Scope.all if any(g.scope is Scope.all for g in grants) else Scope.own
            fields[field] = FieldAccess(field, scope, grants)
    basis = Basis.policy if relevant else Basis.no_rule
    return Decision(
        org.id, event_type, basis, tuple(r.id for r in relevant), MappingProxyType(fields)
    )


def _grant(rule: Rule) -> RuleGrant:
    return RuleGrant(rule.id, rule.grounds, rule.purpose, rule.retention, rule.scope)


def _nothing(org_id: str, event_type: str, basis: Basis) -> Decision:
    return Decision(org_id, event_type, basis, (), MappingProxyType({}))


def _as_author(decision: Decision, spec: EventTypeSpec) -> Decision:
    """The author reads its own event in full; any grants it also has are kept for the record."""
    fields = {
        field: FieldAccess(
            field,
            Scope.all,
            decision.fields[field].grants if field in decision.fields else (),
            as_author=True,
        )
        for field in sorted(spec.content_fields)
    }
    return Decision(
        decision.organisation,
        decision.event_type,
        Basis.author,
        decision.receiving_rules,
        MappingProxyType(fields),
    )


def _audience(event_type: str, spec: EventTypeSpec, decisions: Iterable[Decision]) -> _Audience:
    ours = [d for d in decisions if d.event_type == event_type]
    header = frozenset(d.organisation for d in ours if d.receives)
    fields = {
        field: MappingProxyType(
            {d.organisation: d.fields[field].scope for d in ours if field in d.fields}
        )
        for field in sorted(spec.content_fields)
    }
    return _Audience(header, MappingProxyType(fields))
