"""The compiled access matrix: who receives which event types and fields, decided cheaply.

Compiling splits time at every rule's validity boundary; within each period the set of
rules in force is fixed and each rule is reduced to sets to test against: the organisations
its roles reach, the case roles it names, its condition. Deciding for one event then needs
the case: who holds which case role, which conditions are in force. The audience of an event
(every organisation's decision at once) is computed once per period, event type, author and
case context as it stands at that moment, and kept in a small cache: the store seals many
events of the same case in a row, and asks for the audience and then each recipient's
decision. Decisions with the same content are the same object, so whatever callers derive
from one (the stored basis of a grant) they derive once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Generic, TypeVar

from sharing.errors import PolicyError, UnknownOrganisation
from sharing.policy.catalogue import Catalogue, EventTypeSpec
from sharing.policy.context import CaseContext, Condition, as_context
from sharing.policy.decisions import (
    Basis,
    ConditionUse,
    Decision,
    FieldAccess,
    Recipients,
    RuleGrant,
)
from sharing.policy.digest import policy_digest
from sharing.policy.explain import Explanation, explain_access
from sharing.policy.law import Regime
from sharing.policy.loader import validate_policy
from sharing.policy.model import (
    ConditionKind,
    KaderCondition,
    OnJoin,
    Parties,
    Policy,
    Rule,
    Scope,
)

Network = CaseContext | Collection[str]
"""A case as the engine sees it; a plain collection of members has no case roles and no
conditions, which is all callers without a case at hand can say."""

AUDIENCES = 4096
DECISIONS = 16384

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value


@dataclass(frozen=True, slots=True)
class PastEvent:
    """An event recorded before an organisation joined, as the startdossier weighs it."""

    key: Hashable
    event_type: str
    author: str | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One rule reduced to what deciding tests."""

    index: int
    rule: Rule
    authors: frozenset[str] | None
    """Organisations named by id or role; None when the rule names no authors at all."""
    author_case_roles: tuple[str, ...]
    recipients: frozenset[str]
    recipient_case_roles: tuple[str, ...]
    condition: ConditionKind | None
    kaders: frozenset[str]
    providing: Mapping[Regime | None, tuple[str, ...]]
    receiving: Mapping[Regime, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Audience:
    decisions: Mapping[str, Decision]
    recipients: Recipients


class AccessMatrix:
    """Organisation × event type × field → granted?, by which rules, on which grounds, scope.

    Building it checks the policy against the catalogue (PolicyError if unsound or
    unlawful). Every answer takes `now` (timezone-aware); the engine never reads the clock.
    Validity dates are read in the policy's timezone; conditions are in force by the instant.
    """

    def __init__(self, policy: Policy, catalogue: Catalogue) -> None:
        validate_policy(policy, catalogue)
        self.policy = policy
        self.digest = policy_digest(policy)
        self._catalogue: dict[str, EventTypeSpec] = dict(catalogue)
        self._organisations = {o.id: o for o in policy.organisations}
        self._zone = policy.zone
        self._holdable = {
            r.id: frozenset(o.id for o in policy.organisations if set(o.roles) & set(r.held_by))
            for r in policy.case_roles
        }
        compiled = [self._compile(index, rule) for index, rule in enumerate(policy.rules)]
        self._boundaries = _boundaries(policy.rules)
        self._periods = tuple(
            _by_event_type(c for c in compiled if c.rule.in_force(start))
            for start in (date.min, *self._boundaries)
        )
        self._authors = _authorship(policy, self._catalogue, self._holdable)
        self._audiences: _Lru[Hashable, _Audience] = _Lru(AUDIENCES)
        self._decisions: _Lru[Hashable, Decision] = _Lru(DECISIONS)

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
        return self._spec(event_type).content_fields

    def rule(self, rule_id: str) -> Rule:
        rule = self.policy.rule(rule_id)
        if rule is None:
            raise PolicyError(f"policy {self.policy.region.id} has no rule {rule_id!r}")
        return rule

    # ---- authorship ------------------------------------------------------------------

    def may_author(self, org_id: str, event_type: str, network: Network = ()) -> bool:
        """Whether the policy lets `org_id` write events of `event_type` in this case
        (default deny): by its id or roles, or by a case role it holds there."""
        static, case_roles = self._authorship_of(org_id, event_type)
        if org_id in static:
            return True
        context = as_context(network)
        return any(org_id in self._holders(context, role) for role in case_roles)

    def may_ever_author(self, org_id: str, event_type: str) -> bool:
        """Whether `org_id` could write `event_type` in some case: by id or role, or by a
        case role its roles let it hold. Lets a caller refuse before it has the case."""
        static, case_roles = self._authorship_of(org_id, event_type)
        return org_id in static or any(org_id in self._holdable[r] for r in case_roles)

    def _authorship_of(
        self, org_id: str, event_type: str
    ) -> tuple[frozenset[str], tuple[str, ...]]:
        if event_type not in self._catalogue:
            raise _unknown_event_type(event_type)
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        return self._authors[event_type]

    # ---- deciding --------------------------------------------------------------------

    def decide(
        self,
        org_id: str,
        event_type: str,
        network: Network,
        now: datetime,
        author: str | None = None,
    ) -> Decision:
        """Whether `org_id` receives an event of `event_type` in this case, and what.

        Only network members receive a case's events, and only what rules in force grant
        for this author, these case roles and the conditions in force; the author of the
        event always reads it in full.
        """
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        return self._audience(event_type, network, now, author).decisions[org_id]

    def recipients(
        self,
        event_type: str,
        network: Network,
        now: datetime,
        author: str | None = None,
    ) -> Recipients:
        """Who receives a new event, per content field — the inverse of `decide`."""
        return self._audience(event_type, network, now, author).recipients

    def view(
        self, org_id: str, now: datetime, network: Network = (), author: str | None = None
    ) -> Mapping[str, Decision]:
        """What `org_id` receives of each event type as a network member (not the author)."""
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        context = as_context(network)
        context = CaseContext(context.members | {org_id}, context.roles, context.conditions)
        return {et: self.decide(org_id, et, context, now, author) for et in sorted(self._catalogue)}

    def explain(
        self,
        org_id: str,
        event_type: str,
        field: str | None,
        now: datetime,
        *,
        network: Network = (),
        author: str | None = None,
    ) -> Explanation:
        """Why `org_id`, as a network member, may or may not read `field` (None: the header)
        of an event by `author` in this case; without them, what it would need."""
        spec = self._spec(event_type)
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        if field is not None and field not in spec.content_fields:
            if field not in spec.control_fields:
                raise PolicyError(f"event type {event_type!r} has no field {field!r}")
            field = None
        context = as_context(network)
        context = CaseContext(context.members | {org_id}, context.roles, context.conditions)
        decision = self._audience(event_type, context, now, author).decisions[org_id]
        return explain_access(
            self.policy, decision, field, self._day(now), now, context, author, self._holdable
        )

    def startdossier(
        self, org_id: str, past: Sequence[PastEvent], network: Network, now: datetime
    ) -> dict[Hashable, Decision]:
        """What `org_id`, joining now, receives of events recorded before it joined: what
        rules in force now with `on_join` grant it, the latest event of each of such a
        rule's types (`latest`) or every one (`all`), as the case stands now."""
        if org_id not in self._organisations:
            raise UnknownOrganisation(org_id)
        context = as_context(network).at(now)
        chosen: dict[Hashable, list[tuple[_Compiled, ConditionUse | None]]] = {}
        for compiled in self._all_in_force(now):
            mode = compiled.rule.on_join
            if mode is OnJoin.none or not self._reaches(compiled, org_id, context):
                continue
            granted: dict[str, list[tuple[PastEvent, ConditionUse | None]]] = {}
            for event in past:
                if event.event_type not in compiled.rule.event_types:
                    continue
                if not self._by_author(compiled, event.author, context):
                    continue
                held, use = self._condition(
                    compiled, event.author, org_id, event.event_type, context
                )
                if held:
                    granted.setdefault(event.event_type, []).append((event, use))
            for events in granted.values():
                for event, use in events[-1:] if mode is OnJoin.latest else events:
                    chosen.setdefault(event.key, []).append((compiled, use))
        types = {event.key: event for event in past}
        return {
            key: self._decision(org_id, types[key].event_type, rules, types[key].author)
            for key, rules in chosen.items()
        }

    # ---- the audience of one event ------------------------------------------------------

    def _audience(
        self, event_type: str, network: Network, now: datetime, author: str | None
    ) -> _Audience:
        spec = self._spec(event_type)
        if author is not None and author not in self._organisations:
            raise UnknownOrganisation(author)
        period = bisect_right(self._boundaries, self._day(now))
        context = as_context(network).at(now)
        key = (period, event_type, author, context)
        cached = self._audiences.get(key)
        if cached is not None:
            return cached
        rules = self._periods[period].get(event_type, ())
        decisions: dict[str, Decision] = {}
        for org_id in self._organisations:
            if org_id not in context.members:
                decisions[org_id] = self._outsider(org_id, event_type)
                continue
            applied = []
            for compiled in rules:
                if not self._reaches(compiled, org_id, context):
                    continue
                if not self._by_author(compiled, author, context):
                    continue
                held, use = self._condition(compiled, author, org_id, event_type, context)
                if held:
                    applied.append((compiled, use))
            decisions[org_id] = self._decision(org_id, event_type, applied, author)
        if author is not None:
            decisions[author] = self._as_author(decisions[author], spec, author, event_type)
        return self._audiences.put(
            key, _Audience(decisions, _recipients(event_type, spec, decisions))
        )

    def _reaches(self, compiled: _Compiled, org_id: str, context: CaseContext) -> bool:
        return org_id in compiled.recipients or any(
            org_id in self._holders(context, role) for role in compiled.recipient_case_roles
        )

    def _by_author(self, compiled: _Compiled, author: str | None, context: CaseContext) -> bool:
        if compiled.authors is None:
            return True
        if author is None:
            return False
        return author in compiled.authors or any(
            author in self._holders(context, role) for role in compiled.author_case_roles
        )

    def _condition(
        self,
        compiled: _Compiled,
        author: str | None,
        org_id: str,
        event_type: str,
        context: CaseContext,
    ) -> tuple[bool, ConditionUse | None]:
        """Whether the rule's condition holds for this recipient; the record it rests on.
        The context holds only conditions in force; the first that satisfies counts."""
        kind = compiled.condition
        if kind is None:
            return True, None
        records: Iterable[Condition]
        rule = compiled.rule.id
        if kind is ConditionKind.toestemming:
            records = (
                c for c in context.toestemming() if c.allows(author, org_id, event_type, rule)
            )
        elif kind is ConditionKind.conflict_van_plichten:
            records = (c for c in context.conflicts() if c.allows(author, org_id, event_type, rule))
        else:
            records = (c for c in context.kaders() if c.kader in compiled.kaders)
        first = next(iter(records), None)
        if first is None:
            return False, None
        return True, ConditionUse(kind, first.id, first.valid_until)

    def _holders(self, context: CaseContext, role: str) -> frozenset[str]:
        return context.holders(role) & self._holdable.get(role, frozenset())

    def _decision(
        self,
        org_id: str,
        event_type: str,
        applied: Sequence[tuple[_Compiled, ConditionUse | None]],
        author: str | None,
    ) -> Decision:
        author_regime = self._organisations[author].regime if author else None
        key = (
            event_type,
            org_id,
            author_regime,
            tuple((compiled.index, use) for compiled, use in applied),
        )
        cached = self._decisions.get(key)
        if cached is not None:
            return cached
        regime = self._organisations[org_id].regime
        grants_of: dict[str, list[RuleGrant]] = {}
        header: list[RuleGrant] = []
        for compiled, use in applied:
            grant = _grant(compiled, author_regime, regime, use)
            header.append(grant)
            for name in compiled.rule.fields:
                grants_of.setdefault(name, []).append(grant)
        fields = {
            name: FieldAccess(name, _scope(grants), tuple(grants))
            for name, grants in sorted(grants_of.items())
        }
        basis = Basis.policy if applied else Basis.no_rule
        rule_ids = tuple(dict.fromkeys(grant.rule for grant in header))
        decision = Decision(
            org_id, event_type, basis, rule_ids, MappingProxyType(fields), tuple(header)
        )
        return self._decisions.put(key, decision)

    def _as_author(
        self, decision: Decision, spec: EventTypeSpec, author: str, event_type: str
    ) -> Decision:
        """The author reads its own event in full; any grants it also has are kept for the
        record (only a member has any)."""
        key = ("author", author, event_type, decision.rule_grants)
        cached = self._decisions.get(key)
        if cached is not None:
            return cached
        fields = {
            name: FieldAccess(
                name,
                Scope.all,
                decision.fields[name].grants if name in decision.fields else (),
                as_author=True,
            )
            for name in sorted(spec.content_fields)
        }
        authored = Decision(
            author,
            event_type,
            Basis.author,
            decision.receiving_rules,
            MappingProxyType(fields),
            decision.rule_grants,
        )
        return self._decisions.put(key, authored)

    def _outsider(self, org_id: str, event_type: str) -> Decision:
        key = ("outsider", org_id, event_type)
        cached = self._decisions.get(key)
        if cached is not None:
            return cached
        decision = Decision(org_id, event_type, Basis.not_in_network, (), MappingProxyType({}))
        return self._decisions.put(key, decision)

    def _all_in_force(self, now: datetime) -> Iterable[_Compiled]:
        period = self._periods[bisect_right(self._boundaries, self._day(now))]
        seen: set[int] = set()
        for compiled_rules in period.values():
            for compiled in compiled_rules:
                if compiled.index not in seen:
                    seen.add(compiled.index)
                    yield compiled

    # ---- compiling ---------------------------------------------------------------------

    def _compile(self, index: int, rule: Rule) -> _Compiled:
        def grounds(ids: Iterable[str], regime: Regime | None) -> tuple[str, ...]:
            found = [self.policy.ground(i) for i in ids]
            return tuple(
                g.id
                for g in found
                if g is not None and (regime is None or g.regime in (None, regime))
            )

        condition = rule.condition
        kaders = (
            frozenset(condition.kader) if isinstance(condition, KaderCondition) else frozenset()
        )
        return _Compiled(
            index=index,
            rule=rule,
            authors=self._static(rule.authors) if rule.authors is not None else None,
            author_case_roles=rule.authors.case_roles if rule.authors is not None else (),
            recipients=self._static(rule.recipients),
            recipient_case_roles=rule.recipients.case_roles,
            condition=rule.condition_kind,
            kaders=kaders,
            providing=MappingProxyType(
                {regime: grounds(rule.providing, regime) for regime in (None, *Regime)}
            ),
            receiving=MappingProxyType(
                {regime: grounds(rule.receiving, regime) for regime in Regime}
            ),
        )

    def _static(self, parties: Parties) -> frozenset[str]:
        return frozenset(
            o.id
            for o in self.policy.organisations
            if o.id in parties.organisations or not set(o.roles).isdisjoint(parties.roles)
        )

    # ---- small helpers -----------------------------------------------------------------

    def _spec(self, event_type: str) -> EventTypeSpec:
        spec = self._catalogue.get(event_type)
        if spec is None:
            raise _unknown_event_type(event_type)
        return spec

    def _day(self, now: datetime) -> date:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(self._zone).date()


def compile_policy(policy: Policy, catalogue: Catalogue) -> AccessMatrix:
    """Check `policy` against `catalogue` and precompute every decision it implies."""
    return AccessMatrix(policy, catalogue)


def _unknown_event_type(event_type: str) -> PolicyError:
    return PolicyError(
        f"event type {event_type!r} is not in the catalogue this policy was compiled against"
    )


def _grant(
    compiled: _Compiled, author: Regime | None, recipient: Regime, use: ConditionUse | None
) -> RuleGrant:
    rule = compiled.rule
    return RuleGrant(
        rule.id,
        compiled.providing[author],
        compiled.receiving[recipient],
        rule.agreements,
        rule.purpose,
        rule.retention,
        rule.scope,
        use,
        rule.on_join,
        rule.on_leave,
    )


def _scope(grants: Iterable[RuleGrant]) -> Scope:
    return Scope.all if any(g.scope is Scope.all for g in grants) else Scope.own


def _recipients(
    event_type: str, spec: EventTypeSpec, decisions: Mapping[str, Decision]
) -> Recipients:
    receivers = frozenset(o for o, d in decisions.items() if d.receives)
    fields = {
        name: MappingProxyType(
            {o: d.fields[name].scope for o, d in decisions.items() if name in d.fields}
        )
        for name in sorted(spec.content_fields)
    }
    return Recipients(event_type, receivers, MappingProxyType(fields))


def _by_event_type(rules: Iterable[_Compiled]) -> Mapping[str, tuple[_Compiled, ...]]:
    by_type: dict[str, list[_Compiled]] = {}
    for compiled in rules:
        for event_type in compiled.rule.event_types:
            by_type.setdefault(event_type, []).append(compiled)
    return MappingProxyType({et: tuple(rules) for et, rules in by_type.items()})


def _authorship(
    policy: Policy,
    catalogue: Mapping[str, EventTypeSpec],
    holdable: Mapping[str, frozenset[str]],
) -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """Per event type: the organisations that may author it by id or role, and the case
    roles whose holders may."""
    static: dict[str, set[str]] = {event_type: set() for event_type in catalogue}
    roles: dict[str, list[str]] = {event_type: [] for event_type in catalogue}
    for entry in policy.authorship:
        orgs = {
            o.id
            for o in policy.organisations
            if o.id in entry.authors.organisations or set(o.roles) & set(entry.authors.roles)
        }
        for event_type in entry.event_types:
            static[event_type] |= orgs
            roles[event_type] += [r for r in entry.authors.case_roles if r in holdable]
    return {et: (frozenset(static[et]), tuple(dict.fromkeys(roles[et]))) for et in catalogue}


def _boundaries(rules: Iterable[Rule]) -> tuple[date, ...]:
    """The first days on which the set of rules in force may change."""
    days = {rule.valid_from for rule in rules if rule.valid_from is not None}
    days |= {
        rule.valid_until + timedelta(days=1)
        for rule in rules
        if rule.valid_until is not None and rule.valid_until < date.max
    }
    return tuple(sorted(days))
