"""Human explanations of a decision, for coordinators and privacy officers.

An explanation answers for an organisation *as a member of the case network* (outsiders
receive nothing, authors everything), for an event by a given author in a case as it
stands: who holds which case role, which conditions are in force. A grant names its rules
with their providing and receiving grounds, agreements and the condition it rested on. A
denial names the *nearest* rule that would have granted, searched in this order, each in
document order:

1. a rule in force for this organisation, event type and field that needs something the
   situation lacks: another author, a case role, a toestemming, a conflict van plichten, a
   kader in force;
2. a rule for this organisation, event type and field that is not in force on the day;
3. a rule in force for this event type and field, granting other recipients;
4. a rule in force for this event type and organisation, granting other fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sharing.errors import UnknownOrganisation
from sharing.policy.context import CaseContext
from sharing.policy.decisions import Basis, Decision, RuleGrant
from sharing.policy.model import (
    ConditionKind,
    KaderCondition,
    Organisation,
    Parties,
    Policy,
    Rule,
    Scope,
)

_AUTHOR_NEED = "an author among"


class NearestKind(StrEnum):
    needs = "needs"
    not_in_force = "not-in-force"
    other_recipients = "other-recipients"
    other_fields = "other-fields"


@dataclass(frozen=True, slots=True)
class Nearest:
    """The rule closest to granting what was denied, what it does grant, and (for a rule
    in force for this organisation) what the situation lacks."""

    rule: str
    kind: NearestKind
    recipients: Parties
    fields: tuple[str, ...]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    organisation: str
    event_type: str
    field: str | None
    """A content field, or None for the event's header and control attributes."""
    granted: bool
    scope: Scope | None
    grants: tuple[RuleGrant, ...]
    nearest: Nearest | None
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class _Situation:
    policy: Policy
    day: date
    context: CaseContext
    author: str | None
    holdable: Mapping[str, frozenset[str]]

    def organisation(self, org_id: str | None) -> Organisation | None:
        return self.policy.organisation(org_id) if org_id else None


def explain_access(
    policy: Policy,
    decision: Decision,
    field: str | None,
    day: date,
    now: datetime,
    context: CaseContext,
    author: str | None,
    holdable: Mapping[str, frozenset[str]],
) -> Explanation:
    """Explain `decision` (for a network member, at `now`) as it concerns `field`."""
    org = _organisation(policy, decision.organisation)
    subject = f"{decision.event_type}.{field}" if field else f"{decision.event_type} (header)"
    if decision.basis is Basis.author:
        text = f"{subject} → {org.id}: granted: it authored the event and reads it in full"
        return Explanation(org.id, decision.event_type, field, True, Scope.all, (), None, text)
    grants = _grants(decision, field)
    if grants:
        scope = Scope.all if any(g.scope is Scope.all for g in grants) else Scope.own
        text = f"{subject} → {org.id}: {_granted_text(policy, grants, scope)}"
        text += f", while {org.id} is in the case network"
        return Explanation(org.id, decision.event_type, field, True, scope, grants, None, text)
    situation = _Situation(policy, day, context.at(now), author, holdable)
    nearest = _nearest(policy, org, decision.event_type, field, situation)
    text = f"{subject} → {org.id}: denied: no rule in force grants it to {_who(org)}"
    text += f" for this {_situation_text(author)}; "
    text += _nearest_text(policy, org, nearest, day) if nearest else "no rule would grant it"
    return Explanation(org.id, decision.event_type, field, False, None, (), nearest, text)


def _organisation(policy: Policy, org_id: str) -> Organisation:
    org = policy.organisation(org_id)
    if org is None:  # the engine decides only for listed organisations
        raise UnknownOrganisation(org_id)
    return org


def _rule(policy: Policy, rule_id: str) -> Rule:
    return next(rule for rule in policy.rules if rule.id == rule_id)


def _grants(decision: Decision, field: str | None) -> tuple[RuleGrant, ...]:
    if field is not None:
        access = decision.fields.get(field)
        return access.grants if access is not None else ()
    return decision.rule_grants if decision.basis is Basis.policy else ()


def _granted_text(policy: Policy, grants: tuple[RuleGrant, ...], scope: Scope) -> str:
    prefix = "granted for its own entries only" if scope is Scope.own else "granted"
    parts = [_grant_text(policy, g) for g in grants]
    return f"{prefix} by " + "; and by ".join(parts)


def _grant_text(policy: Policy, grant: RuleGrant) -> str:
    text = f"rule {grant.rule} on providing {_grounds_text(policy, grant.providing)}"
    text += f" and receiving {_grounds_text(policy, grant.receiving)}"
    if grant.agreements:
        text += f", under {', '.join(grant.agreements)}"
    if grant.condition is not None:
        text += f", resting on {_condition_name(grant.condition.kind)} {grant.condition.record}"
    return text


def _grounds_text(policy: Policy, ground_ids: tuple[str, ...]) -> str:
    named = []
    for ground_id in ground_ids:
        ground = policy.ground(ground_id)
        named.append(f"{ground_id} ({ground.reference})" if ground else ground_id)
    return ("grounds " if len(named) > 1 else "ground ") + ", ".join(named)


def _condition_name(kind: ConditionKind) -> str:
    return {
        ConditionKind.toestemming: "toestemming",
        ConditionKind.conflict_van_plichten: "conflict van plichten",
        ConditionKind.kader: "kader",
    }[kind]


def _who(org: Organisation) -> str:
    return f"{org.id} (roles {', '.join(org.roles)})"


def _situation_text(author: str | None) -> str:
    return f"author ({author}) and case" if author else "case (no author given)"


def _applies_to(rule: Rule, org: Organisation, holdable: Mapping[str, frozenset[str]]) -> bool:
    """Whether the rule can reach the organisation at all: by id, role, or a case role it
    could hold."""
    recipients = rule.recipients
    return (
        org.id in recipients.organisations
        or not set(org.roles).isdisjoint(recipients.roles)
        or any(org.id in holdable.get(role, frozenset()) for role in recipients.case_roles)
    )


def _needs(
    rule: Rule, org: Organisation, event_type: str, situation: _Situation
) -> tuple[str, ...]:
    """What the situation lacks for the rule to grant the organisation."""
    context, author = situation.context, situation.author

    def holds(org_id: str | None, roles: tuple[str, ...]) -> bool:
        return org_id is not None and any(
            org_id in context.holders(r) & situation.holdable.get(r, frozenset()) for r in roles
        )

    def named(org_id: str | None, parties: Parties) -> bool:
        found = policy_org(org_id)
        return found is not None and (
            found.id in parties.organisations or not set(found.roles).isdisjoint(parties.roles)
        )

    policy_org = situation.organisation
    needs = []
    recipients = rule.recipients
    if not named(org.id, recipients) and not holds(org.id, recipients.case_roles):
        needs.append(f"{org.id} holding case role {' or '.join(recipients.case_roles)}")
    authors = rule.authors
    if authors is not None and not (named(author, authors) or holds(author, authors.case_roles)):
        needs.append(f"{_AUTHOR_NEED} {authors}")
    condition = rule.condition
    if condition is ConditionKind.toestemming:
        if not any(t.allows(author, org.id, event_type, rule.id) for t in context.toestemming()):
            needs.append(f"toestemming of the betrokkene for {org.id}")
    elif condition is ConditionKind.conflict_van_plichten:
        if not any(c.allows(author, org.id, event_type, rule.id) for c in context.conflicts()):
            needs.append(f"a conflict van plichten recorded by the author for {org.id}")
    elif isinstance(condition, KaderCondition) and not any(
        k.kader in condition.kader for k in context.kaders()
    ):
        needs.append(f"kader {' or '.join(condition.kader)} in force")
    return tuple(needs)


def _nearest(
    policy: Policy, org: Organisation, event_type: str, field: str | None, situation: _Situation
) -> Nearest | None:
    def covers(rule: Rule) -> bool:
        return event_type in rule.event_types and (field is None or field in rule.fields)

    def reaches(rule: Rule) -> bool:
        return _applies_to(rule, org, situation.holdable)

    day = situation.day
    in_force = [rule for rule in policy.rules if rule.in_force(day)]
    lacking = [
        (rule, _needs(rule, org, event_type, situation))
        for rule in in_force
        if covers(rule) and reaches(rule)
    ]
    if lacking:
        # An event's author is a given: first the rules that cover it, then the fewest needs.
        rule, needs = min(
            lacking, key=lambda found: (_AUTHOR_NEED in "".join(found[1]), len(found[1]))
        )
        return Nearest(rule.id, NearestKind.needs, rule.recipients, rule.fields, needs)
    ranked = [
        (
            NearestKind.not_in_force,
            [r for r in policy.rules if covers(r) and reaches(r) and not r.in_force(day)],
        ),
        (NearestKind.other_recipients, [r for r in in_force if covers(r)]),
        (
            NearestKind.other_fields,
            [r for r in in_force if event_type in r.event_types and reaches(r)]
            if field is not None
            else [],
        ),
    ]
    for kind, rules in ranked:
        if rules:
            return Nearest(rules[0].id, kind, rules[0].recipients, rules[0].fields)
    return None


def _nearest_text(policy: Policy, org: Organisation, nearest: Nearest, day: date) -> str:
    lead = f"nearest rule that would grant is {nearest.rule}"
    if nearest.kind is NearestKind.needs:
        return f"{lead}, given {' and '.join(nearest.needs)}"
    if nearest.kind is NearestKind.not_in_force:
        rule = _rule(policy, nearest.rule)
        return f"{lead} (it grants {org.id} this, but {_window(rule)}, not on {day})"
    if nearest.kind is NearestKind.other_recipients:
        return f"{lead} (it grants {nearest.recipients})"
    granted = f"fields {', '.join(nearest.fields)}" if nearest.fields else "the header only"
    return f"{lead} (it grants {org.id} {granted})"


def _window(rule: Rule) -> str:
    parts = [f"from {rule.valid_from}"] if rule.valid_from else []
    parts += [f"until {rule.valid_until}"] if rule.valid_until else []
    return "it is in force " + " ".join(parts)
