"""A policy's own tests: expected allow/deny cases kept beside it as `<name>.tests.yaml`.

A case asks whether an organisation, in a given case, receives an event type by an author
(no `field`: the header) or one content field, and states the expected answer. A case is a
network of members, or a named network with case roles and conditions in force
(toestemming, conflict van plichten, kaders). Running the cases also tells which rules no
allowed case exercised: a rule nobody can show working is a rule nobody has reviewed. A
rule with fields is exercised by an allowed field case it grants; an header-only rule
(`fields: []`) by an allowed header case.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from sharing.errors import PolicyError
from sharing.policy.context import (
    CaseContext,
    Condition,
    ConflictVanPlichten,
    KaderInForce,
    Toestemming,
)
from sharing.policy.engine import AccessMatrix
from sharing.policy.law import Slug, Text
from sharing.policy.model import Name, Scope
from sharing.policy.yamlmarks import read_marked


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)


class _Record(_Strict):
    id: Text
    valid_from: AwareDatetime | None = Field(default=None, alias="from")
    valid_until: AwareDatetime | None = Field(default=None, alias="until")


class ToestemmingSpec(_Record):
    recipients: tuple[Slug, ...] = Field(min_length=1)
    authors: tuple[Slug, ...] | None = None
    event_types: tuple[Name, ...] | None = None

    def condition(self) -> Toestemming:
        return Toestemming(
            id=self.id,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            recipients=frozenset(self.recipients),
            authors=frozenset(self.authors) if self.authors is not None else None,
            event_types=frozenset(self.event_types) if self.event_types is not None else None,
        )


class ConflictSpec(_Record):
    author: Slug
    recipients: tuple[Slug, ...] = Field(min_length=1)
    event_types: tuple[Name, ...] | None = None

    def condition(self) -> ConflictVanPlichten:
        return ConflictVanPlichten(
            id=self.id,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            author=self.author,
            recipients=frozenset(self.recipients),
            event_types=frozenset(self.event_types) if self.event_types is not None else None,
        )


class KaderSpec(_Record):
    kader: Slug

    def condition(self) -> KaderInForce:
        return KaderInForce(
            id=self.id, valid_from=self.valid_from, valid_until=self.valid_until, kader=self.kader
        )


class CaseSpec(_Strict):
    """A case beyond its members: who holds which case role, which conditions are recorded."""

    members: Slug | tuple[Slug, ...]
    """A list of organisation ids, or the name of a plain network."""
    roles: dict[Slug, Slug | tuple[Slug, ...]] = Field(default_factory=dict)
    toestemming: tuple[ToestemmingSpec, ...] = ()
    conflict_van_plichten: tuple[ConflictSpec, ...] = ()
    kaders: tuple[KaderSpec, ...] = ()

    def conditions(self) -> tuple[Condition, ...]:
        records: list[Condition] = [t.condition() for t in self.toestemming]
        records += [c.condition() for c in self.conflict_van_plichten]
        records += [k.condition() for k in self.kaders]
        return tuple(records)


class PolicyCase(_Strict):
    name: Text | None = None
    org: Slug
    event_type: Name
    field: Name | None = None
    network: Slug | tuple[Slug, ...]
    """A list of organisation ids, or the name of a network defined in `networks`."""
    author: Slug | None = None
    now: AwareDatetime | None = None
    expect: Literal["allow", "deny"]
    scope: Scope | None = None
    """For an allowed field: whether the organisation reads all entries or only its own."""
    rule: Slug | None = None
    """For an allowed case: a rule that must be among those granting it."""


class PolicyCases(_Strict):
    now: AwareDatetime
    networks: dict[Slug, tuple[Slug, ...] | CaseSpec] = Field(default_factory=dict)
    cases: tuple[PolicyCase, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class CaseFailure:
    line: int | None
    case: PolicyCase
    actual: str

    def __str__(self) -> str:
        what = (
            f"{self.case.event_type}.{self.case.field}"
            if self.case.field
            else (f"{self.case.event_type} (header)")
        )
        expected = self.case.expect + (f" ({self.case.scope})" if self.case.scope else "")
        expected += f" by rule {self.case.rule}" if self.case.rule else ""
        return f"line {self.line}: {self.case.org} / {what}: expected {expected}, got {self.actual}"


@dataclass(frozen=True, slots=True)
class CaseReport:
    source: str
    cases: int
    failures: tuple[CaseFailure, ...]
    unexercised_rules: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unexercised_rules


@dataclass(frozen=True, slots=True)
class _Loaded:
    source: str
    cases: PolicyCases
    lines: Mapping[int, int | None]


def run_case_file(path: str | os.PathLike[str], matrix: AccessMatrix) -> CaseReport:
    """Run every case in the file at `path` against `matrix`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy cases: {exc}") from None
    return run_case_text(text, matrix, str(path))


def run_case_text(text: str, matrix: AccessMatrix, source: str = "<cases>") -> CaseReport:
    """Run every case of a cases document (YAML text) against `matrix`."""
    loaded = _load(text, source, matrix)
    failures: list[CaseFailure] = []
    exercised: set[str] = set()
    for index, case in enumerate(loaded.cases.cases):
        context = _context(loaded.cases, case)
        now = case.now or loaded.cases.now
        actual, rules = _outcome(matrix, case, context, now)
        if case.rule and actual == _expected(case) and case.rule not in rules:
            actual += f" by rules {', '.join(sorted(rules)) or 'none'}"
        if actual != _expected(case):
            failures.append(CaseFailure(loaded.lines[index], case, actual))
        elif case.expect == "allow" and case.author != case.org:
            exercised |= rules
    unexercised = tuple(r.id for r in matrix.policy.rules if r.id not in exercised)
    return CaseReport(loaded.source, len(loaded.cases.cases), tuple(failures), unexercised)


def _expected(case: PolicyCase) -> str:
    return f"allow ({case.scope})" if case.scope else case.expect


def _outcome(
    matrix: AccessMatrix, case: PolicyCase, context: CaseContext, now: datetime
) -> tuple[str, set[str]]:
    """The answer in the same words as the expectation, and the rules that gave it (for a
    header: the header-only rules, which no field case can show)."""
    decision = matrix.decide(case.org, case.event_type, context, now, author=case.author)
    if case.field is None:
        receiving = set(decision.receiving_rules)
        if case.rule is None:
            receiving &= {rule.id for rule in matrix.policy.rules if not rule.fields}
        return ("allow" if decision.receives else "deny"), receiving
    access = decision.fields.get(case.field)
    if access is None:
        return "deny", set()
    actual = f"allow ({access.scope})" if case.scope else "allow"
    return actual, set(access.rules)


def _members(cases: PolicyCases, members: str | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(members, str):
        named = cases.networks[members]
        return _members(cases, named.members) if isinstance(named, CaseSpec) else named
    return members


def _context(cases: PolicyCases, case: PolicyCase) -> CaseContext:
    if not isinstance(case.network, str):
        return CaseContext.of(case.network)
    named = cases.networks[case.network]
    if not isinstance(named, CaseSpec):
        return CaseContext.of(named)
    return CaseContext.of(_members(cases, named.members), named.roles, named.conditions())


def _load(text: str, source: str, matrix: AccessMatrix) -> _Loaded:
    try:
        marked = read_marked(text, source)
    except ValueError as exc:
        raise PolicyError(f"{source}: cannot read policy cases: {exc}") from None
    try:
        cases = PolicyCases.model_validate(marked.data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        line = marked.line(tuple(err["loc"]))
        raise PolicyError(f"{source}:{line}: {err['msg']} (at {_dotted(err['loc'])})") from None
    for name, spec in cases.networks.items():
        if problem := _network_problem(matrix, cases, name, spec):
            line = marked.line(("networks", name))
            raise PolicyError(f"{source}:{line}: network {name!r}: {problem}")
    for index, case in enumerate(cases.cases):
        if problem := _case_problem(matrix, cases, case):
            line = marked.line(("cases", index))
            raise PolicyError(f"{source}:{line}: case {index + 1}: {problem}")
    lines = {index: marked.line(("cases", index)) for index in range(len(cases.cases))}
    return _Loaded(source, cases, lines)


def _network_problem(
    matrix: AccessMatrix, cases: PolicyCases, name: str, spec: tuple[str, ...] | CaseSpec
) -> str | None:
    """A named case that cannot exist: unknown members, a base network that is itself a
    case, or a case role held by an organisation whose roles may not hold it."""
    if not isinstance(spec, CaseSpec):
        unknown = sorted(set(spec) - matrix.organisations)
        return f"unknown organisation(s) {', '.join(unknown)}" if unknown else None
    if isinstance(spec.members, str):
        base = cases.networks.get(spec.members)
        if base is None or isinstance(base, CaseSpec):
            return f"members names no plain network {spec.members!r}"
    named = set(_members(cases, spec.members))
    for toestemming in spec.toestemming:
        named |= set(toestemming.recipients) | set(toestemming.authors or ())
    for conflict in spec.conflict_van_plichten:
        named |= {*conflict.recipients, conflict.author}
    for holders in spec.roles.values():
        named |= {holders} if isinstance(holders, str) else set(holders)
    if unknown := sorted(named - matrix.organisations):
        return f"unknown organisation(s) {', '.join(unknown)}"
    kaders = {k.id for k in matrix.policy.kaders}
    if stray := sorted({k.kader for k in spec.kaders} - kaders):
        return f"unknown kader(s) {', '.join(stray)}"
    for role, holders in spec.roles.items():
        case_role = matrix.policy.case_role(role)
        if case_role is None:
            return f"unknown case role {role!r}"
        for org_id in (holders,) if isinstance(holders, str) else holders:
            org = matrix.policy.organisation(org_id)
            if org is not None and set(org.roles).isdisjoint(case_role.held_by):
                return (
                    f"case role {role!r} is held by {org_id} (roles {', '.join(org.roles)}), "
                    f"but the policy lets only roles {', '.join(case_role.held_by)} hold it"
                )
    return None


def _case_problem(matrix: AccessMatrix, cases: PolicyCases, case: PolicyCase) -> str | None:
    if isinstance(case.network, str) and case.network not in cases.networks:
        return f"no network named {case.network!r}"
    members = _context(cases, case).members
    named = {case.org, *members, *([case.author] if case.author else [])}
    if unknown := sorted(named - matrix.organisations):
        return f"unknown organisation(s) {', '.join(unknown)}"
    if case.event_type not in matrix.event_types:
        return f"unknown event type {case.event_type!r}"
    if case.field is not None and case.field not in matrix.content_fields(case.event_type):
        return f"{case.event_type} has no content field {case.field!r}"
    if case.scope is not None and (case.expect != "allow" or case.field is None):
        return "scope belongs only to an allowed field"
    if case.rule is not None:
        if case.expect != "allow":
            return "rule belongs only to an allowed case"
        if matrix.policy.rule(case.rule) is None:
            return f"unknown rule {case.rule!r}"
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)
