"""Rule-level edits keep every other line of the document as written."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
import yaml

from sharing.errors import PolicyError
from sharing.policy.edit import RuleEdit, apply_rule_edit

POLICY = Path(__file__).resolve().parents[2] / "policies" / "amsterdam-amstelland.yaml"
RULE = "signalering-politie"


def rule_of(document: str, rule_id: str) -> dict[str, Any]:
    rules: list[dict[str, Any]] = yaml.safe_load(document)["rules"]
    return next(r for r in rules if r["id"] == rule_id)


def changed_lines(old: str, new: str) -> list[str]:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.mark.parametrize("op", ["add", "change", "remove"])
def test_an_edit_changes_that_rule_and_nothing_else(op: str) -> None:
    document = POLICY.read_text(encoding="utf-8")
    data = yaml.safe_load(document)
    rule_id = "signalering-politie-beperkt" if op == "add" else RULE
    rule = {**rule_of(document, RULE), "id": rule_id, "fields": ["categorie"]}
    edited = apply_rule_edit(document, RuleEdit(op, rule_id, None if op == "remove" else rule))  # type: ignore[arg-type]
    after = yaml.safe_load(edited)
    others = [r for r in data["rules"] if r["id"] != rule_id]
    assert [r for r in after["rules"] if r["id"] != rule_id] == others
    assert {k: v for k, v in after.items() if k != "rules"} == {
        k: v for k, v in data.items() if k != "rules"
    }
    if op == "remove":
        assert RULE not in {r["id"] for r in after["rules"]}
    else:
        assert rule_of(edited, rule_id) == rule
    # In the text too: the lines that changed all belong to the rule.
    changed = changed_lines(document, edited)
    assert changed and all(not line[1:].startswith("#") for line in changed)
    assert document.count("\n  # ") == edited.count("\n  # ")  # every comment kept


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (RuleEdit("change", "bestaat-niet", {"fields": []}), "no rule bestaat-niet"),
        (RuleEdit("remove", "bestaat-niet"), "no rule bestaat-niet"),
        (RuleEdit("add", RULE, {"fields": []}), "already there"),
        (RuleEdit("change", RULE), "give the whole rule"),
        (RuleEdit("remove", RULE, {"fields": []}), "its id only"),
        (RuleEdit("change", RULE, {"id": "ander", "fields": []}), "not signalering-politie"),
    ],
)
def test_an_edit_that_does_not_fit_is_refused(edit: RuleEdit, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        apply_rule_edit(POLICY.read_text(encoding="utf-8"), edit)
