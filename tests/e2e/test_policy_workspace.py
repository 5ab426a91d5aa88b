"""Four eyes over HTTP and in the CLI: the proposer's organisation never approves."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import yaml

from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.factories import POLICY, load_signed_demo
from tests.factories import run_demo as run

CLI = [sys.executable, "-m", "casestore.entrypoints.cli"]


def without_police_rule(text: str) -> str:
    document = yaml.safe_load(text)
    document["rules"] = [r for r in document["rules"] if r["id"] != "signalering-politie"]
    return yaml.safe_dump(document, allow_unicode=True)


def wait_for(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while (progress := client.get(f"/v1/policy/jobs/{job_id}").json())[
        "status"
    ] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert progress["status"] == "done" and progress["percent"] == 100


def test_four_eyes_over_http(api: Api) -> None:
    load_signed_demo(api.services)
    colleague_token = api.services.clients.add(demo.ZVH, "privacy-officer", "FG 2").token
    with (
        api.client(demo.ZVH, "privacy-officer") as proposer,
        httpx.Client(
            base_url=api.base_url, headers={"Authorization": f"Bearer {colleague_token}"}
        ) as colleague,
        api.client(demo.GEMEENTE, "privacy-officer") as second,
    ):
        version = proposer.get("/v1/policy/versions").json()
        assert version["in_force"] == 1
        document = proposer.get("/v1/policy/versions/1").json()["document"]
        body = {
            "base_version": 1,
            "document": without_police_rule(document),
            "reason": "de politie hoeft de signaleringen niet meer",
            "dpia_reference": "DPIA-2026-07",
            "vastgesteld_on": "2026-11-20",
        }
        created = proposer.post("/v1/policy/proposals", json=body)
        assert created.status_code == 201, created.text
        proposal = created.json()
        assert proposal["analysis"]["rules"] == [
            {"rule": "signalering-politie", "change": "removed"}
        ]
        url = f"/v1/policy/proposals/{proposal['proposal_id']}"
        for same_org in (proposer, colleague):
            refused = same_org.post(f"{url}/approve", json={"reason": "eigen"})
            assert refused.status_code == 403
            assert refused.json()["type"].endswith("four-eyes")
        approved = second.post(f"{url}/approve", json={"reason": "akkoord"})
        assert approved.status_code == 200, approved.text
        job = approved.json()["job"]
        assert approved.json()["version"]["version"] == 2
        replayed = second.post(f"{url}/approve", json={"reason": "akkoord"})
        assert replayed.status_code == 409
        stale = proposer.post("/v1/policy/proposals", json=body)
        assert stale.status_code == 409
        wait_for(second, job["job_id"])
        # Rolling back is proposing the old version again: the police regain what they
        # lost, and their feed notices name the events behind their position.
        rollback = {**body, "base_version": 2, "document": document, "reason": "terug"}
        created = second.post("/v1/policy/proposals", json=rollback)
        assert created.status_code == 201, created.text
        url = f"/v1/policy/proposals/{created.json()['proposal_id']}"
        approved = proposer.post(f"{url}/approve", json={"reason": "akkoord", "history": "all"})
        assert approved.status_code == 200, approved.text
        wait_for(second, approved.json()["job"]["job_id"])
        with api.client(demo.POLITIE) as police:
            notices = police.get("/v1/feed/notices").json()["items"]
        assert notices and any("ernst" in n["fields"] for n in notices)
        history = second.get("/v1/policy/versions").json()
        assert history["in_force"] == 3
        assert [v["reason"] for v in history["versions"]][1:] == ["akkoord", "akkoord"]


def test_four_eyes_in_the_cli(tmp_path: Path) -> None:
    assert run(["demo"], tmp_path).returncode == 0
    tokens = {}
    for org, name in ((demo.ZVH, "a"), (demo.ZVH, "b"), (demo.GEMEENTE, "c")):
        added = run(
            ["clients", "add", "--org", org, "--role", "privacy-officer", "--name", name],
            tmp_path,
        )
        assert added.returncode == 0, added.stderr
        tokens[name] = added.stdout.strip().splitlines()[-1]
    exported = run(["policy", "export"], tmp_path)
    assert exported.stdout == POLICY.read_text(encoding="utf-8")
    proposed_file = tmp_path / "proposed.yaml"
    proposed_file.write_text(without_police_rule(exported.stdout))
    proposed = run(
        [
            "policy", "propose", str(proposed_file), "--reason", "minder", "--dpia", "DPIA-7",
            "--vastgesteld", "2026-11-20", "--token", tokens["a"],
        ],
        tmp_path,
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    assert "verliest" in proposed.stdout or "houdt" in proposed.stdout
    proposal_id = proposed.stdout.split()[1]
    for name in ("a", "b"):
        refused = run(
            ["policy", "approve", proposal_id, "--reason", "x", "--token", tokens[name]],
            tmp_path,
        )
        assert refused.returncode != 0
        assert refused.stderr.startswith("error: four eyes")
        assert len(refused.stderr.strip().splitlines()) == 1
    approved = run(
        ["policy", "approve", proposal_id, "--reason", "akkoord", "--token", tokens["c"]],
        tmp_path,
    )
    assert approved.returncode == 0, approved.stderr
    assert "version 2 in force" in approved.stdout
    again = run(
        ["policy", "approve", proposal_id, "--reason", "akkoord", "--token", tokens["c"]],
        tmp_path,
    )
    assert again.returncode != 0 and "already" in again.stderr
    assert "signalering-politie" not in run(["policy", "export"], tmp_path).stdout
