"""Policy YAML → a checked `Policy`, with errors that name the file, the line and the rule."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path as FilePath
from typing import Any

from pydantic import ValidationError

from sharing.errors import PolicyError
from sharing.policy.catalogue import Catalogue
from sharing.policy.checks import Finding, check_policy
from sharing.policy.model import Policy
from sharing.policy.yamlmarks import Marked, read_marked


def load_policy(path: str | os.PathLike[str], catalogue: Catalogue) -> Policy:
    """Read and check the policy file at `path`; raise PolicyError naming every finding."""
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc.strerror}") from None
    return parse_policy(text, catalogue, source=str(path))


def parse_policy(text: str, catalogue: Catalogue, *, source: str = "<policy>") -> Policy:
    """Parse and check a policy document given as YAML text."""
    try:
        marked = read_marked(text, source)
    except ValueError as exc:
        raise PolicyError(str(exc)) from None
    if marked.duplicates:
        raise _error(
            source, marked, [Finding(path, "key given twice") for path, _ in marked.duplicates]
        )
    if not isinstance(marked.data, dict):
        raise PolicyError(f"{source}:1: a policy is a mapping with region, organisations, rules …")
    try:
        policy = Policy.model_validate(marked.data)
    except ValidationError as exc:
        raise _error(source, marked, _shape_problems(exc, marked.data)) from None
    if findings := check_policy(policy, catalogue):
        raise _error(source, marked, findings)
    return policy


def validate_policy(policy: Policy, catalogue: Catalogue) -> None:
    """Check a policy built in code; raise PolicyError naming every finding (no lines)."""
    if findings := check_policy(policy, catalogue):
        raise _error(f"policy {policy.region.id}", None, findings)


def _shape_problems(exc: ValidationError, data: dict[str, Any]) -> list[Finding]:
    findings = []
    for err in exc.errors(include_url=False, include_input=False):
        path = tuple(err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key missing"
        findings.append(Finding(path, message, _rule_id(data, path)))
    return findings


def _rule_id(data: dict[str, Any], path: tuple[str | int, ...]) -> str | None:
    if len(path) < 2 or path[0] != "rules" or not isinstance(path[1], int):
        return None
    rules = data.get("rules")
    if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
        rule_id = rules[path[1]].get("id")
        return str(rule_id) if rule_id is not None else f"#{path[1] + 1}"
    return None


def _error(source: str, marked: Marked | None, findings: Sequence[Finding]) -> PolicyError:
    lines = [_describe(source, marked, finding) for finding in findings]
    if len(lines) == 1:
        return PolicyError(lines[0])
    summary = f"{len(lines)} problems in {source}:\n" + "\n".join(lines)
    return PolicyError(summary, tuple(lines))


def _describe(source: str, marked: Marked | None, finding: Finding) -> str:
    line = marked.line(finding.path) if marked is not None else None
    where = f"{source}:{line}" if line is not None else source
    at = ".".join(str(p) for p in finding.path)
    rule = f"rule {finding.rule!r}: " if finding.rule else ""
    return (
        f"{where}: {rule}{finding.message} (at {at})" if at else f"{where}: {rule}{finding.message}"
    )
