"""The service `make run` starts (`casestore serve --demo --with-worker`), as a newcomer
meets it: documented at /docs, demo tokens written for them, demo cases readable, a
webhook delivered by the worker inside the process, and the same tokens and cases after a
restart. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import yaml

from casestore.adapters.keyring import demo_signers
from casestore.services.provenance import sign_submission
from sharing.client import load_decryption_key, load_key_directory, open_fields, verify_event
from tests.e2e.receiver import receiving
from tests.e2e.server import free_port, wait_until_ready
from tests.factories import GGZ, POLICY, POLITIE, ZVH, aanmelding, fresh_bsn

ROOT = Path(__file__).resolve().parents[2]
REGION = "amsterdam-amstelland"
SERVE = [
    sys.executable,
    "-m",
    "casestore.entrypoints.cli",
    "serve",
    "--demo",
    "--with-worker",
]  # make run


@contextmanager
def demo_service(database_url: str, var_dir: Path) -> Iterator[tuple[str, str]]:
    """`casestore serve --demo --with-worker` on a free port: its base URL, and what it
    printed by the time it was ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env |= {
        "CASESTORE_DATABASE_URL": database_url,
        "CASESTORE_VAR_DIR": str(var_dir),
        "CASESTORE_POLICY_FILE": str(POLICY),
    }
    port = free_port()
    log = var_dir.parent / f"serve-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [*SERVE, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_ready(base_url, timeout=60)
            except RuntimeError:
                raise AssertionError(log.read_text()[-3000:]) from None
            yield base_url, log.read_text()
        finally:
            process.terminate()
            process.wait(timeout=30)


def tokens_of(var_dir: Path) -> dict[str, dict[str, str]]:
    path = var_dir / "demo" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # secrets: the owner's alone
    tokens: dict[str, dict[str, str]] = json.loads(path.read_text())
    return tokens


def feed(base_url: str, token: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{base_url}/v1/feed", params={"limit": 1000}, headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_demo_service_is_ready_to_try_and_survives_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    var_dir = tmp_path / "var"
    organisations = {o["id"] for o in yaml.safe_load(POLICY.read_text())["organisations"]}

    with demo_service(database_url, var_dir) as (base_url, started):
        assert "demo region loaded" in started and "tokens.json" in started
        docs = httpx.get(f"{base_url}/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert httpx.get(f"{base_url}/openapi.json").json()["paths"]["/v1/cases"]

        tokens = tokens_of(var_dir)
        assert set(tokens) == organisations
        assert all("partner-system" in roles for roles in tokens.values())
        assert {"coordinator", "privacy-officer", "auditor"} <= set(tokens[ZVH])
        police = feed(base_url, tokens[POLITIE]["partner-system"])
        assert police, "the demo cases give the police something to read"
        cases = {e["case_id"] for e in feed(base_url, tokens[ZVH]["partner-system"])}
        assert len(cases) >= 2

        # A webhook, delivered by the worker that runs inside the demo process.
        partner = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {tokens[GGZ]['partner-system']}"},
            timeout=30,
        )
        with receiving() as receiver, partner:
            created = partner.post("/v1/subscriptions", json={"url": receiver.url()})
            assert created.status_code == 201, created.text
            receiver.secrets["/hook"] = created.json()["secret"]
            submission = SimpleNamespace(
                event_type="aanmelding",
                payload=aanmelding(fresh_bsn()),
                occurred_at=None,
                idempotency_key="demo-try-1",
            )
            key = demo_signers(var_dir / "demo" / "keys")[GGZ]
            body = {
                "type": submission.event_type,
                "payload": submission.payload,
                "event_id": submission.idempotency_key,
                **sign_submission(REGION, None, submission, key),
            }
            opened = partner.post("/v1/cases", json=body)
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["case_id"]
            receiver.wait_for(lambda: len(receiver.acknowledged()) >= 1, timeout=20)
            [delivered] = receiver.acknowledged()
            assert delivered.error is None and delivered.event is not None
            assert delivered.event["subject"] == case_id
            assert delivered.event["type"] == "nl.levensloop.case.aanmelding"
            # What the webhook carries verifies against the published keys, as the feed does.
            custodian = var_dir / "demo" / "keys" / "public" / f"{ZVH}.json"
            pinned = json.loads(custodian.read_text())[0]["sign_key_id"]
            published = partner.get("/v1/keys").json()
            directory = load_key_directory(published, custodian_key_id=pinned)
            data = delivered.event["data"]
            assert data["submission_id"] == "demo-try-1"
            private = var_dir / "demo" / "keys" / "private" / f"{GGZ}.json"
            mine = load_decryption_key(json.loads(private.read_text()))
            got = open_fields(data, data["sealed"], data["grants"], [mine])
            assert verify_event(data, directory, got).keys() == got.keys() != set()
        seen_by_zvh = [e["event_id"] for e in feed(base_url, tokens[ZVH]["partner-system"])]

    with demo_service(database_url, var_dir) as (base_url, _):
        assert tokens_of(var_dir) == tokens  # a restart keeps the tokens that still work
        again = feed(base_url, tokens[POLITIE]["partner-system"])
        assert [e["event_id"] for e in again] == [e["event_id"] for e in police]
        # The demo cases are loaded once: a restart adds nothing to what is stored.
        assert [e["event_id"] for e in feed(base_url, tokens[ZVH]["partner-system"])] == (
            seen_by_zvh
        )
