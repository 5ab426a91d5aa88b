"""Policy versions across processes: a re-seal job killed halfway resumes to the grants an
uninterrupted run makes, and a running server seals under the version a CLI activates."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import yaml
from psycopg import sql

from casestore.bootstrap import Services
from casestore.entrypoints import demo
from casestore.settings import Settings
from tests.e2e.api import Api
from tests.factories import POSTGRES_URL, load_signed_demo, officer, open_case, signalering

CLI = [sys.executable, "-m", "casestore.entrypoints.cli"]


def resume(settings: Settings, job_id: str, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env.update(
        CASESTORE_VAR_DIR=str(settings.var_dir),
        CASESTORE_DATABASE_URL=str(settings.database_url),
        CASESTORE_POLICY_FILE=str(settings.policy_path),
        CASESTORE_REQUIRE_SIGNATURES="false",
    )
    return subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, "policy", "resume", job_id, "--demo", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def jobs_locked(settings: Settings) -> Iterator[None]:
    """Hold the jobs table so that the job's next progress write waits."""
    url = str(settings.database_url)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    with psycopg.connect(POSTGRES_URL) as pg, pg.transaction():
        table = sql.Identifier(schema, "casestore_policy_jobs")
        pg.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        yield


def wanted(services: Services) -> dict[tuple[str, str, int], frozenset[str]]:
    """Every case's fields per organisation and event, as the policy in force wants."""
    tables = services.store.records.tables
    found = {}
    for cid in tables.case_ids():
        for (org, version), names in services.grants.plan(UUID(cid)).fields(True).items():
            found[(cid, org, version)] = names
    return found


def stored(services: Services) -> dict[tuple[str, str, int], frozenset[str]]:
    tables = services.store.records.tables
    found: dict[tuple[str, str, int], frozenset[str]] = {}
    for cid in tables.case_ids():
        for g in tables.grants_of_case(cid):
            key = (cid, g.org_id, g.version)
            found[key] = found.get(key, frozenset()) | frozenset(g.fields)
    return found


def test_a_killed_reseal_job_resumes_to_the_same_grants(
    services: Services, settings: Settings
) -> None:
    load_signed_demo(services)
    for _ in range(40):
        open_case(services.store)
    book = services.policy
    document = yaml.safe_load(book.in_force().document)
    document["rules"] = [r for r in document["rules"] if r["id"] != "signalering-politie"]
    proposal = book.propose(
        officer(services, demo.ZVH),
        base_version=1,
        document=yaml.safe_dump(document, allow_unicode=True),
        reason="minder delen",
        dpia_reference="DPIA-7",
        vastgesteld_on=date(2026, 11, 20),
    )
    _, job = book.approve(proposal.proposal_id, officer(services, demo.GEMEENTE), reason="akkoord")
    assert job is not None
    expected = wanted(services)
    assert stored(services) != expected

    worker = resume(settings, job.job_id)
    try:
        deadline = time.monotonic() + 60
        while book.job(job.job_id).done < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        with jobs_locked(settings):
            time.sleep(0.3)
            worker.kill()
            worker.wait(timeout=30)
    finally:
        worker.kill()
        worker.communicate(timeout=30)
    halfway = book.job(job.job_id)
    assert halfway.status == "running" and 3 <= halfway.done < halfway.total

    again = resume(settings, job.job_id, "--take-over")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    finished = book.job(job.job_id)
    assert finished.status == "done" and finished.done == finished.total
    assert stored(services) == expected


def approve_in_cli(settings: Settings, proposal_id: str, token: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env.update(
        CASESTORE_VAR_DIR=str(settings.var_dir),
        CASESTORE_DATABASE_URL=str(settings.database_url),
        CASESTORE_POLICY_FILE=str(settings.policy_path),
        CASESTORE_REQUIRE_SIGNATURES="false",
        CASESTORE_TOKEN=token,
    )
    done = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, "policy", "approve", proposal_id, "--reason", "akkoord", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_running_server_seals_under_the_version_a_cli_activates(api: Api) -> None:
    """The server process holds version 1; the CLI, another process, activates version 2;
    the server's next event is sealed under version 2 with the police rule gone."""
    services = api.services
    case_id = [r.case_id for r in load_signed_demo(services) if r.version == 1][1]
    held = services.sealer.policy_version
    book = services.policy
    document = yaml.safe_load(book.in_force().document)
    document["rules"] = [r for r in document["rules"] if r["id"] != "signalering-politie"]
    proposal = book.propose(
        officer(services, demo.ZVH),
        base_version=1,
        document=yaml.safe_dump(document, allow_unicode=True),
        reason="minder delen",
        dpia_reference="DPIA-7",
        vastgesteld_on=date(2026, 11, 20),
    )
    token = services.clients.add(demo.GEMEENTE, "privacy-officer", "FG").token
    assert "version 2 in force" in approve_in_cli(services.settings, proposal.proposal_id, token)
    assert services.sealer.policy_version == held  # the server has not looked yet

    with api.client(demo.ZVH) as zvh:
        written = zvh.post(
            f"/v1/cases/{case_id}/events", json={"type": "signalering", "payload": signalering()}
        )
    assert written.status_code == 201, written.text
    version = written.json()["version"]
    rows = services.store.records.tables.grants_of_case(str(case_id))
    latest = [r for r in rows if r.version == version]
    assert latest and {r.policy_version for r in latest} == {book.in_force().label}
    assert book.in_force().label != held
    assert demo.POLITIE not in {r.org_id for r in latest}
