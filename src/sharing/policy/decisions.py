"""What the engine answers: decisions for one organisation, audiences for one event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sharing.policy.model import Retention, Scope


@dataclass(frozen=True, slots=True)
class RuleGrant:
    """One rule's grant of a field: on which grounds, for what, for how long, how much."""

    rule: str
    grounds: tuple[str, ...]
    purpose: str
    retention: Retention
    scope: Scope


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
    content fields granted, each with the rules, grounds and scope that grant it.
    """

    organisation: str
    event_type: str
    basis: Basis
    receiving_rules: tuple[str, ...]
    fields: Mapping[str, FieldAccess]

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
