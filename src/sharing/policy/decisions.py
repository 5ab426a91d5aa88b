"""What the engine answers: decisions for one organisation, audiences for one event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sharing.policy.law import Retention
from sharing.policy.model import ConditionKind, OnJoin, OnLeave, Scope


@dataclass(frozen=True, slots=True)
class ConditionUse:
    """The condition a grant rested on: its kind and the record (event, form) in the case
    that satisfied it. Withdrawing that record takes the grant away."""

    kind: ConditionKind
    record: str
    until: datetime | None = None
    """When the record ends (expiry or withdrawal) as far as known: what rested on it
    must be revoked then."""


@dataclass(frozen=True, slots=True)
class RuleGrant:
    """One rule's grant of a field: on which grounds on each side, under which agreements,
    for what, for how long, how much, and on which condition in the case.

    `providing` holds the rule's providing grounds that serve the author's regime (and any
    door), `receiving` those that serve the recipient's.
    """

    rule: str
    providing: tuple[str, ...]
    receiving: tuple[str, ...]
    agreements: tuple[str, ...]
    purpose: str
    retention: Retention
    scope: Scope
    condition: ConditionUse | None = None
    on_join: OnJoin = OnJoin.none
    on_leave: OnLeave = OnLeave.revoke

    @property
    def grounds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.providing, *self.receiving)))


@dataclass(frozen=True, slots=True)
class FieldAccess:
    """An organisation may read this content field: by rules, by authorship, or both."""

    field: str
    scope: Scope
    grants: tuple[RuleGrant, ...] = ()
    as_author: bool = False

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(grant.rule for grant in self.grants)

    @property
    def grounds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g for grant in self.grants for g in grant.grounds))

    @property
    def conditions(self) -> tuple[ConditionUse, ...]:
        return tuple(dict.fromkeys(g.condition for g in self.grants if g.condition is not None))

    @property
    def kept_on_leaving(self) -> bool:
        """Whether a recipient that leaves the network keeps the field (until retention)."""
        return any(grant.on_leave is OnLeave.keep for grant in self.grants)


class Basis(StrEnum):
    """Why an organisation does or does not receive an event."""

    author = "author"
    """It wrote the event and reads it in full, whatever the policy says."""
    policy = "policy"
    """It is in the case network and some rule in force grants it the event type."""
    not_in_network = "not-in-network"
    no_rule = "no-rule"


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an organisation receives an event, and which content fields it may read.

    Receiving an event means its header and control attributes; `fields` holds only the
    content fields granted, each with the rules, grounds, condition and scope that grant it.
    """

    organisation: str
    event_type: str
    basis: Basis
    receiving_rules: tuple[str, ...]
    fields: Mapping[str, FieldAccess]
    rule_grants: tuple[RuleGrant, ...] = ()
    """One grant per receiving rule, whatever fields it grants: the basis of the header."""

    @property
    def receives(self) -> bool:
        return self.basis in (Basis.author, Basis.policy)

    def grants(self, field: str) -> bool:
        return field in self.fields

    def scope(self, field: str) -> Scope | None:
        access = self.fields.get(field)
        return access.scope if access is not None else None


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who receives one new event: the header, and per content field who reads it (and how much).

    `fields` has every content field of the event type; a field that no one may read maps
    to an empty mapping, so a sealer can tell "nobody" from "forgotten".
    """

    event_type: str
    receivers: frozenset[str]
    fields: Mapping[str, Mapping[str, Scope]]

    def of(self, field: str) -> frozenset[str]:
        return frozenset(self.fields.get(field, {}))

    def own_only(self, field: str) -> frozenset[str]:
        """The recipients of `field` that read only the entries they own."""
        return frozenset(o for o, s in self.fields.get(field, {}).items() if s is Scope.own)
