"""A policy's own tests: expected allow/deny cases kept beside it as `<name>.tests.yaml`.

A case asks whether an organisation, in a given case network, receives an event type
(no `field`: the header) or one content field, and states the expected answer. Running
the cases also tells which rules no allowed case exercised: a rule nobody can show working
is a rule nobody has reviewed. A rule with fields is exercised by an allowed field case it
grants; an header-only rule (`fields: []`) by an allowed header case.
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
from sharing.policy.engine import AccessMatrix
from sharing.policy.model import Name, Scope, Slug, Text
from sharing.policy.yamlmarks import read_marked


class PolicyCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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


class PolicyCases(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    now: AwareDatetime
    networks: dict[Slug, tuple[Slug, ...]] = Field(default_factory=dict)
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
    loaded = _load(path, matrix)
    failures: list[CaseFailure] = []
    exercised: set[str] = set()
    for index, case in enumerate(loaded.cases.cases):
        network = _network(loaded.cases, case)
        now = case.now or loaded.cases.now
        actual, rules = _outcome(matrix, case, network, now)
        if actual != _expected(case):
            failures.append(CaseFailure(loaded.lines[index], case, actual))
        elif case.expect == "allow" and case.author != case.org:
            exercised |= rules
    unexercised = tuple(r.id for r in matrix.policy.rules if r.id not in exercised)
    return CaseReport(loaded.source, len(loaded.cases.cases), tuple(failures), unexercised)


def _expected(case: PolicyCase) -> str:
    return f"allow ({case.scope})" if case.scope else case.expect


def _outcome(
    matrix: AccessMatrix, case: PolicyCase, network: tuple[str, ...], now: datetime
) -> tuple[str, set[str]]:
    """The answer in the same words as the expectation, and the rules that gave it."""
    decision = matrix.decide(case.org, case.event_type, network, now, author=case.author)
    if case.field is None:
        header_only = {rule.id for rule in matrix.policy.rules if not rule.fields} & set(
            decision.receiving_rules
        )
        return ("allow" if decision.receives else "deny"), header_only
    access = decision.fields.get(case.field)
    if access is None:
        return "deny", set()
    actual = f"allow ({access.scope})" if case.scope else "allow"
    return actual, set(access.rules)


def _network(cases: PolicyCases, case: PolicyCase) -> tuple[str, ...]:
    if isinstance(case.network, str):
        return cases.networks[case.network]
    return case.network


def _load(path: str | os.PathLike[str], matrix: AccessMatrix) -> _Loaded:
    source = str(path)
    try:
        marked = read_marked(Path(path).read_text(encoding="utf-8"), source)
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{source}: cannot read policy cases: {exc}") from None
    try:
        cases = PolicyCases.model_validate(marked.data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        line = marked.line(tuple(err["loc"]))
        raise PolicyError(f"{source}:{line}: {err['msg']} (at {_dotted(err['loc'])})") from None
    for index, case in enumerate(cases.cases):
        if problem := _case_problem(matrix, cases, case):
            line = marked.line(("cases", index))
            raise PolicyError(f"{source}:{line}: case {index + 1}: {problem}")
    lines = {index: marked.line(("cases", index)) for index in range(len(cases.cases))}
    return _Loaded(source, cases, lines)


def _case_problem(matrix: AccessMatrix, cases: PolicyCases, case: PolicyCase) -> str | None:
    if isinstance(case.network, str) and case.network not in cases.networks:
        return f"no network named {case.network!r}"
    named = {case.org, *_network(cases, case), *([case.author] if case.author else [])}
    if unknown := sorted(named - matrix.organisations):
        return f"unknown organisation(s) {', '.join(unknown)}"
    if case.event_type not in matrix.event_types:
        return f"unknown event type {case.event_type!r}"
    if case.field is not None and case.field not in matrix.content_fields(case.event_type):
        return f"{case.event_type} has no content field {case.field!r}"
    if case.scope is not None and (case.expect != "allow" or case.field is None):
        return "scope belongs only to an allowed field"
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)
