"""Human explanations of a decision, for coordinators and privacy officers.

An explanation answers for an organisation *as a member of the case network* (outsiders
receive nothing, authors everything). A denial names the *nearest* rule that would have
granted, searched in this order, each in document order:

1. a rule for this organisation, event type and field that is not in force on the day;
2. a rule in force for this event type and field, granting other recipients;
3. a rule in force for this event type and organisation, granting other fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sharing.errors import UnknownOrganisation
from sharing.policy.decisions import Basis, Decision, RuleGrant
from sharing.policy.model import Organisation, Policy, Rule, RuleRecipients, Scope


class NearestKind(StrEnum):
    not_in_force = "not-in-force"
    other_recipients = "other-recipients"
    other_fields = "other-fields"


@dataclass(frozen=True, slots=True)
class Nearest:
    """The rule closest to granting what was denied, and what it does grant."""

    rule: str
    kind: NearestKind
    recipients: RuleRecipients
    fields: tuple[str, ...]


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


def explain_access(policy: Policy, decision: Decision, field: str | None, day: date) -> Explanation:
    """Explain `decision` (for a network member on `day`) as it concerns `field`."""
    org = _organisation(policy, decision.organisation)
    subject = f"{decision.event_type}.{field}" if field else f"{decision.event_type} (header)"
    grants = _grants(policy, decision, field)
    if grants:
        scope = Scope.all if any(g.scope is Scope.all for g in grants) else Scope.own
        text = f"{subject} → {org.id}: {_granted_text(policy, grants, scope)}"
        text += f", while {org.id} is in the case network"
        return Explanation(org.id, decision.event_type, field, True, scope, grants, None, text)
    nearest = _nearest(policy, org, decision.event_type, field, day)
    text = f"{subject} → {org.id}: denied: no rule in force grants it to {_who(org)}; "
    text += _nearest_text(policy, org, nearest, day) if nearest else "no rule would grant it"
    return Explanation(org.id, decision.event_type, field, False, None, (), nearest, text)


def _organisation(policy: Policy, org_id: str) -> Organisation:
    org = policy.organisation(org_id)
    if org is None:  # the engine decides only for listed organisations
        raise UnknownOrganisation(org_id)
    return org


def _rule(policy: Policy, rule_id: str) -> Rule:
    return next(rule for rule in policy.rules if rule.id == rule_id)


def _grants(policy: Policy, decision: Decision, field: str | None) -> tuple[RuleGrant, ...]:
    if field is not None:
        access = decision.fields.get(field)
        return access.grants if access is not None else ()
    if decision.basis is not Basis.policy:
        return ()
    rules = [_rule(policy, rule_id) for rule_id in decision.receiving_rules]
    return tuple(RuleGrant(r.id, r.grounds, r.purpose, r.retention, Scope.all) for r in rules)


def _granted_text(policy: Policy, grants: tuple[RuleGrant, ...], scope: Scope) -> str:
    prefix = "granted for its own entries only" if scope is Scope.own else "granted"
    parts = [f"rule {g.rule} on {_grounds_text(policy, g.grounds)}" for g in grants]
    return f"{prefix} by " + "; and by ".join(parts)


def _grounds_text(policy: Policy, ground_ids: tuple[str, ...]) -> str:
    named = []
    for ground_id in ground_ids:
        ground = policy.ground(ground_id)
        named.append(f"{ground_id} ({ground.reference})" if ground else ground_id)
    return ("grounds " if len(named) > 1 else "ground ") + ", ".join(named)


def _who(org: Organisation) -> str:
    return f"{org.id} (roles {', '.join(org.roles)})"


def _applies_to(rule: Rule, org: Organisation) -> bool:
    return org.id in rule.recipients.organisations or not set(org.roles).isdisjoint(
        rule.recipients.roles
    )


def _nearest(
    policy: Policy, org: Organisation, event_type: str, field: str | None, day: date
) -> Nearest | None:
    def covers(rule: Rule) -> bool:
        return event_type in rule.event_types and (field is None or field in rule.fields)

    in_force = [rule for rule in policy.rules if rule.in_force(day)]
    ranked = [
        (
            NearestKind.not_in_force,
            [r for r in policy.rules if covers(r) and _applies_to(r, org) and not r.in_force(day)],
        ),
        (NearestKind.other_recipients, [r for r in in_force if covers(r)]),
        (
            NearestKind.other_fields,
            [r for r in in_force if event_type in r.event_types and _applies_to(r, org)]
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
