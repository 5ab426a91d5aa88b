"""A policy version scheduled over HTTP comes into force at its moment in two server
processes on one store: both seal under the old version until then and under the new one
after, by their own clocks, and no row is stored under the other."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casestore.bootstrap import Services
from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.e2e.server import serve_env, serve_process
from tests.factories import edited, load_signed_demo, propose, signalering, without_police_rule

ROOT = Path(__file__).resolve().parents[2]
LEAD = timedelta(seconds=4)  # from the approval to the moment: writes on both sides of it


def test_two_processes_switch_at_the_scheduled_moment(services: Services) -> None:
    case_id = str([r.case_id for r in load_signed_demo(services) if r.version == 1][1])
    book = services.policy
    v1 = book.in_force()
    proposal = propose(book, services, edited(services, without_police_rule))
    env = serve_env(services.settings)
    with serve_process(env, ROOT) as one, serve_process(env, ROOT) as two:
        first, second = Api(one, services), Api(two, services)
        try:
            moment = datetime.now(UTC) + LEAD
            with first.client(demo.GEMEENTE, "privacy-officer") as fg:
                approved = fg.post(
                    f"/v1/policy/proposals/{proposal}/approve",
                    json={
                        "reason": "per het afgesproken moment",
                        "effective_from": moment.isoformat(),
                        "history": "new",
                    },
                )
                assert approved.status_code == 200, approved.text
                versions = fg.get("/v1/policy/versions").json()
                assert versions["in_force"] == 1 and versions["scheduled"] == 2

            written: list[int] = []
            writers = [first.client(demo.ZVH), second.client(demo.ZVH)]
            while datetime.now(UTC) < moment + timedelta(seconds=2):
                for writer in writers:
                    event = {"type": "signalering", "payload": signalering()}
                    answer = writer.post(f"/v1/cases/{case_id}/events", json=event)
                    assert answer.status_code == 201, answer.text
                    written.append(int(answer.json()["version"]))
                time.sleep(0.1)
        finally:
            first.close()
            second.close()

    v2 = book.version(2)
    tables = services.store.records.tables
    grants = [g for g in tables.grants_of_case(case_id) if g.version in written]
    access = [a for a in tables.access_of_case(case_id) if a.version in written]
    assert {g.policy_version for g in grants} == {v1.label, v2.label}
    sealed = [(g.sealed_at, g.policy_version) for g in grants]
    sealed += [(a.sealed_at, a.policy_version) for a in access]
    for at, label in sealed:
        assert at is not None
        assert label == (v1.label if at < moment else v2.label)
    police = {a.version for a in access if a.org_id == demo.POLITIE}
    before = {a.version for a in access if a.sealed_at is not None and a.sealed_at < moment}
    assert police == before and police  # the police received signaleringen only until then
