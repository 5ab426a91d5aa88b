"""The diff of two policy versions as a privacy officer reads it: rules, access cells in
Dutch sentences, and the DPIA annex delta."""

from __future__ import annotations

from typing import Any

import yaml

from casestore.domain.catalogue import describe
from sharing.policy import Policy, catalogue_from_description, parse_policy
from sharing.policy.diff import HEADER, Cell, cells, diff, flows
from tests.factories import POLICY

CATALOGUE = catalogue_from_description(describe())
POLITIE = "politie-amsterdam"


def region(edit: Any = None) -> Policy:
    document = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    if edit is not None:
        edit(document)
    return parse_policy(yaml.safe_dump(document, allow_unicode=True), CATALOGUE)


def rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in document["rules"] if r["id"] == rule_id)
    return found


def test_the_same_policy_has_no_diff() -> None:
    same = diff(region(), region(), CATALOGUE)
    assert same.rules == () and same.cells == ()
    assert same.flows_added == () and same.flows_removed == ()


def test_a_narrowed_rule_loses_cells_said_in_dutch() -> None:
    def narrow(document: dict[str, Any]) -> None:
        rule(document, "signalering-politie")["fields"] = ["categorie"]

    found = diff(region(), region(narrow), CATALOGUE)
    assert [(r.rule, r.change) for r in found.rules] == [("signalering-politie", "changed")]
    police = {c.cell: c for c in found.cells if c.cell.organisation == POLITIE}
    assert police, found.cells
    for cell, change in police.items():
        assert cell.event_type == "signalering" and cell.field not in (HEADER, "categorie")
        assert change.change in ("lost", "changed")
        assert change.sentence.startswith("Politie")


def test_every_cell_names_the_rules_that_grant_it_and_the_annex_its_flows() -> None:
    policy = region()
    granted = cells(policy)
    assert Cell(POLITIE, "signalering", HEADER) in granted
    assert all(rules for rules in granted.values())
    annex = flows(policy, CATALOGUE)
    assert {f.organisation for f in annex} >= {POLITIE}
    assert all(f.retention and f.ground for f in annex)


def test_a_dropped_rule_removes_its_flows_unless_another_rule_keeps_them() -> None:
    def drop(document: dict[str, Any]) -> None:
        document["rules"].remove(rule(document, "signalering-politie"))

    before, after = region(), region(drop)
    found = diff(before, after, CATALOGUE)
    assert set(found.flows_removed) == flows(before, CATALOGUE) - flows(after, CATALOGUE)
    assert found.flows_added == ()
