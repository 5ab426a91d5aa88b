"""Retention over HTTP, for privacy officers: the custodian's officer places and releases
legal holds and reads verklaringen van vernietiging; the figures are every officer's and
auditor's. Both backends, through a real server."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import httpx

from casestore.services.retention import Verklaring
from tests.e2e.api import Api
from tests.factories import ELSEWHERE, GEMEENTE, GGZ, ZVH, Clock, aanmelding, fresh_bsn, submit

PROBLEM = "application/problem+json"


def closed_at_triage(api: Api) -> UUID:
    store = api.services.store
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    store.append(opened.case_id, submit("triagebesluit", ELSEWHERE, ZVH))
    return opened.case_id


def test_the_custodians_officer_holds_releases_and_reads_the_verklaring(
    api: Api, clock: Clock
) -> None:
    kept, destroyed = closed_at_triage(api), closed_at_triage(api)
    with api.client(ZVH, "privacy-officer") as officer:
        placed = officer.post(
            f"/v1/cases/{kept}/legal-holds", json={"reason": "verzoek rechter-commissaris"}
        )
        assert placed.status_code == 201, placed.text
        assert placed.json()["released_at"] is None
    clock.now = datetime(2031, 6, 1, tzinfo=UTC)
    report = api.services.retention.run()
    assert report.held == [kept] and [d.case_id for d in report.destroyed] == [destroyed]

    token = api.services.clients.add(ZVH, "privacy-officer", "after five years").token
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api.base_url, headers=headers, timeout=30) as officer:
        verklaring = officer.get(f"/v1/verklaringen/{destroyed}")
        assert verklaring.status_code == 200, verklaring.text
        body = verklaring.json()
        assert api.services.retention.verify(Verklaring(body["document"], body["signature"]))
        not_destroyed = officer.get(f"/v1/verklaringen/{kept}")
        assert not_destroyed.status_code == 404
        assert not_destroyed.headers["content-type"] == PROBLEM

        released = officer.post(f"/v1/cases/{kept}/legal-holds/release")
        assert released.status_code == 200, released.text
        assert [h["released_at"] is not None for h in released.json()] == [True]
        assert len(officer.get(f"/v1/cases/{kept}/legal-holds").json()) == 1

    for org, role in ((GEMEENTE, "privacy-officer"), (GEMEENTE, "auditor")):
        token = api.services.clients.add(org, role, "after five years").token
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=api.base_url, headers=headers, timeout=30) as client:
            if role == "privacy-officer":
                assert client.get(f"/v1/verklaringen/{destroyed}").status_code == 404
            else:
                figures = client.get("/v1/figures")
    assert figures.status_code == 200, figures.text
    cells = {(c["quarter"], c["measure"]): c["count"] for c in figures.json()["cells"]}
    assert cells[("2026-Q1", "aanmelding")] is None  # two cases: suppressed, not zero
