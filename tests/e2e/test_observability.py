"""What an operator sees of a running API process: in JSON mode every line on stderr is
one JSON object (uvicorn's included), one line per request names its request id, client,
organisation, route, status and duration; metrics on the probe port; readiness that tells
an anonymous caller nothing of the region's records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.api import Api
from tests.e2e.server import free_port, wait_until_ready
from tests.factories import TRIAGE, aanmelding, fresh_bsn

CLI = [sys.executable, "-m", "casestore.entrypoints.cli"]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_served_process_logs_json_lines_and_serves_metrics_and_readiness(
    tmp_path: Path,
) -> None:
    port, probe_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env |= {
        "CASESTORE_DEMO": "1",
        "CASESTORE_LOG_FORMAT": "json",
        "CASESTORE_METRICS_PORT": str(probe_port),
        "CASESTORE_REQUIRE_SIGNATURES": "0",
    }
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [*CLI, "serve", "--demo", "--with-worker", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(base, timeout=60)
            tokens = json.loads((tmp_path / "var" / "demo" / "tokens.json").read_text())
            token = tokens["arkin"]["partner-system"]
            headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                opened = client.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
                assert opened.status_code == 201, opened.text
                assert opened.headers["x-request-id"] == "req-42"
                assert client.get("/v1/feed", params={"limit": 5}).status_code == 200
                ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ready"}  # no position, no count

            probes = f"http://127.0.0.1:{probe_port}"
            assert httpx.get(f"{probes}/readyz", timeout=10).json() == {"status": "ready"}
            scraped = samples(httpx.get(f"{probes}/metrics", timeout=10).text)
        finally:
            process.terminate()
            process.wait(timeout=30)

    assert out.read_text() == ""
    lines = [json.loads(line) for line in err.read_text().splitlines()]  # every line JSON
    assert any(line["event"].startswith("Application startup complete") for line in lines)
    request = next(
        line for line in lines if line["event"] == "request" and line.get("route") == "/v1/cases"
    )
    assert request["request_id"] == "req-42"
    assert (request["client"], request["organisation"]) == (
        token.removeprefix("cs_").split("_")[0],
        "arkin",
    )
    assert request["status"] == 201 and request["duration_ms"] > 0
    recorded = next(
        line
        for line in lines
        if line["event"] == "event recorded" and line["case_id"] == opened.json()["case_id"]
    )
    assert recorded["request_id"] == "req-42"  # the write thread carries the context
    assert token not in err.read_text()

    key = (
        "casestore_http_requests_total",
        (("method", "POST"), ("route", "/v1/cases"), ("status", "201")),
    )
    assert scraped[key] == 1
    assert scraped[("casestore_appends_total", (("event_type", "aanmelding"),))] >= 1
    assert scraped[("casestore_seal_seconds_count", ())] >= 1
    assert ("casestore_webhook_parked_subscriptions", ()) in scraped
    assert ("casestore_webhook_delivery_lag_positions", ()) in scraped
    assert scraped[("casestore_worker_passes_total", ())] >= 1


def test_policy_denials_and_token_cache_lookups_are_counted(api: Api) -> None:
    def value(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return samples(generate_latest().decode()).get(key, 0.0)

    before = value("casestore_policy_denials_total", reason="author-not-permitted")
    with api.client("arkin") as ggz:
        opened = ggz.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
        triage = {"type": "triagebesluit", "payload": TRIAGE}  # only the ZVH triages
        refused = ggz.post(f"/v1/cases/{opened.json()['case_id']}/events", json=triage)
    assert refused.status_code == 403, refused.text
    after = value("casestore_policy_denials_total", reason="author-not-permitted")
    assert after == before + 1
    if api.services.clients.broadcasts_revocations:  # PostgreSQL: a cache per process
        lookups = value("casestore_token_cache_lookups_total", result="hit") + value(
            "casestore_token_cache_lookups_total", result="miss"
        )
        assert lookups >= 1


def test_a_worker_process_answers_readiness_and_metrics_on_its_probe_port(
    tmp_path: Path,
) -> None:
    probe_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env |= {"CASESTORE_DEMO": "1", "CASESTORE_METRICS_PORT": str(probe_port)}
    probes = f"http://127.0.0.1:{probe_port}"
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [*CLI, "worker", "--poll", "0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"{probes}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the worker's probe port never answered"
            time.sleep(0.1)
        assert ready.json() == {"status": "ready"}
        scraped = samples(httpx.get(f"{probes}/metrics", timeout=10).text)
        assert scraped[("casestore_worker_passes_total", ())] >= 1
        assert httpx.get(f"{probes}/healthz", timeout=10).status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
