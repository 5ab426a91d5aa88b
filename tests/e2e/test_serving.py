"""How the API process serves: writes queue for its few write threads rather than fail,
and `casestore serve` writes a line per request (the app's own, structured) unless told
not to. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from casestore.entrypoints.api.app import WRITE_THREADS
from tests.e2e.api import Api
from tests.e2e.server import free_port, wait_until_ready
from tests.factories import POLICY, aanmelding, fresh_bsn, signalering

ROOT = Path(__file__).resolve().parents[2]
ORG = "gemeente-amsterdam"


def test_more_writes_at_once_than_write_threads_all_land(api: Api) -> None:
    with api.client(ORG) as client:
        cases = []
        for _ in range(3):
            opened = client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
            assert opened.status_code == 201, opened.text
            cases.append(opened.json()["case_id"])

    def append(i: int) -> httpx.Response:
        with api.client(ORG) as own:  # a connection per writer, all at once
            body = {"type": "signalering", "payload": signalering()}
            return own.post(f"/v1/cases/{cases[i % len(cases)]}/events", json=body)

    writers = 4 * WRITE_THREADS
    with ThreadPoolExecutor(writers) as pool:
        answers = list(pool.map(append, range(writers)))
    assert [a.status_code for a in answers] == [201] * writers, [a.text for a in answers]
    positions = [a.json()["position"] for a in answers]
    assert len(set(positions)) == writers
    for case_id in cases:
        versions = sorted(a.json()["version"] for a in answers if a.json()["case_id"] == case_id)
        assert versions == list(range(2, 2 + len(versions)))  # after the aanmelding, no gap


@pytest.mark.parametrize("access_log", [None, "0"], ids=["default", "off"])
def test_serve_logs_each_request_unless_the_access_log_is_off(
    database_url: str, tmp_path: Path, access_log: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env |= {
        "CASESTORE_DATABASE_URL": database_url,
        "CASESTORE_DEMO": "1",
        "CASESTORE_VAR_DIR": str(tmp_path / "var"),
        "CASESTORE_POLICY_FILE": str(POLICY),
    }
    if access_log is not None:
        env["CASESTORE_ACCESS_LOG"] = access_log
    port = free_port()
    out = tmp_path / "serve.out"
    with out.open("w") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "casestore.entrypoints.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_ready(base_url)
            assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
    logged = out.read_text()
    assert "Application startup complete" in logged  # the process's own lines go on
    assert ("route=/healthz status=200" in logged) is (access_log is None), logged
