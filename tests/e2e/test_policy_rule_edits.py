"""Rule-level proposals over HTTP and in the CLI: one rule added, changed or removed by its
id, applied by the service to the base version; a stale base is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.factories import POLICY
from tests.factories import run_demo as run

RULE = "signalering-politie"
PROBLEM = "application/problem+json"


def police_rule(document: str) -> dict[str, Any]:
    rules: list[dict[str, Any]] = yaml.safe_load(document)["rules"]
    return next(r for r in rules if r["id"] == RULE)


def edit(base: int, op: str, rule: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    return {
        "base_version": base,
        "op": op,
        "rule_id": more.pop("rule_id", RULE),
        "rule": rule,
        "reason": "alleen de categorie",
        "dpia_reference": "DPIA-2026-08",
        "vastgesteld_on": "2026-11-27",
        **more,
    }


def test_rule_edits_over_http(api: Api) -> None:
    with (
        api.client(demo.ZVH, "privacy-officer") as proposer,
        api.client(demo.GEMEENTE, "privacy-officer") as approver,
    ):
        base = proposer.get("/v1/policy/versions/1").json()["document"]
        narrower = {**police_rule(base), "fields": ["categorie"]}
        narrower["valid_from"] = str(narrower["valid_from"])  # JSON has no dates
        created = proposer.post("/v1/policy/proposals/rule-edits", json=edit(1, "change", narrower))
        assert created.status_code == 201, created.text
        answer = created.json()
        assert answer["base_version"] == 1
        assert [r["rule"] for r in answer["analysis"]["rules"]] == [RULE]
        # The police keeps those two fields only where a toestemming or a conflict van
        # plichten grants them.
        cells = answer["analysis"]["cells"]
        assert {(c["organisation"], c["field"], c["change"]) for c in cells} == {
            (demo.POLITIE, "ernst", "changed"),
            (demo.POLITIE, "gevraagde_actie", "changed"),
        }
        assert police_rule(answer["document"])["fields"] == ["categorie"]
        assert answer["document"].count("#") == base.count("#")  # every comment of the base

        # Edits that do not fit the base are refused with the reason, and nothing is stored.
        for body, problem in (
            (edit(1, "remove", rule_id="bestaat-niet"), "no rule bestaat-niet"),
            (edit(1, "add", narrower), "already there"),
            (edit(1, "change", {**narrower, "fields": ["geen_veld"]}), "geen_veld"),
        ):
            refused = proposer.post("/v1/policy/proposals/rule-edits", json=body)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == PROBLEM
            assert problem in refused.json()["detail"]
        assert len(proposer.get("/v1/policy/proposals").json()["proposals"]) == 1

        approved = approver.post(
            f"/v1/policy/proposals/{answer['proposal_id']}/approve",
            json={"reason": "akkoord", "history": "new"},
        )
        assert approved.status_code == 200, approved.text
        # An edit against version 1 is now stale: 409, whatever the edit.
        stale = proposer.post("/v1/policy/proposals/rule-edits", json=edit(1, "remove"))
        assert stale.status_code == 409, stale.text
        assert stale.json()["type"].endswith("stale-base-version")
        removed = proposer.post("/v1/policy/proposals/rule-edits", json=edit(2, "remove"))
        assert removed.status_code == 201, removed.text
        assert RULE not in {r["id"] for r in yaml.safe_load(removed.json()["document"])["rules"]}
        # Partners may not propose.
        with api.client(demo.ZVH) as partner:
            assert (
                partner.post("/v1/policy/proposals/rule-edits", json=edit(2, "remove")).status_code
                == 403
            )


def test_a_rule_edit_in_the_cli(tmp_path: Path) -> None:
    assert run(["demo"], tmp_path).returncode == 0
    added = run(
        ["clients", "add", "--org", demo.ZVH, "--role", "privacy-officer", "--name", "fg"],
        tmp_path,
    )
    token = added.stdout.strip().splitlines()[-1]
    rule_file = tmp_path / "rule.yaml"
    rule_file.write_text(
        yaml.safe_dump({**police_rule(POLICY.read_text(encoding="utf-8")), "fields": ["ernst"]})
    )
    common = ["--reason", "minder", "--dpia", "DPIA-8", "--vastgesteld", "2026-11-27"]
    proposed = run(
        ["policy", "propose-rule", "change", RULE, "--rule", str(rule_file), *common,
         "--token", token],
        tmp_path,
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    assert proposed.stdout.startswith("proposal ") and "against version 1" in proposed.stdout
    assert "houdt `signalering.categorie` alleen nog op grond van" in proposed.stdout
    missing = run(
        ["policy", "propose-rule", "remove", "bestaat-niet", *common, "--token", token], tmp_path
    )
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    assert "no rule bestaat-niet" in missing.stderr
    stale = run(
        ["policy", "propose-rule", "remove", RULE, "--base", "7", *common, "--token", token],
        tmp_path,
    )
    assert stale.returncode == 1 and "not the newest" in stale.stderr
