"""A beperking and an upheld bezwaar over HTTP: the police's case read and feed carry the
envelopes, no sealed field and no grant, each naming what keeps the content back; the
custodian still reads it. Both backends."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from tests.e2e.api import Api
from tests.factories import GEMEENTE, POLITIE, ZVH, aanmelding, fresh_bsn, include, netwerk


def post(api: Api, org: str, case_id: str, event_type: str, payload: dict[str, Any]) -> str:
    with api.client(org) as client:
        answer = client.post(
            f"/v1/cases/{case_id}/events", json={"type": event_type, "payload": payload}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["event_id"])


def case_with_police(api: Api, marker: str) -> str:
    with api.client(GEMEENTE) as gemeente:
        opened = gemeente.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
    case_id = str(opened.json()["case_id"])
    include(api.services.store, UUID(case_id))
    post(api, ZVH, case_id, "netwerkwijziging", netwerk(POLITIE))
    signal = {"categorie": "terugval", "ernst": 3, "gevraagde_actie": f"Bellen {marker}."}
    post(api, GEMEENTE, case_id, "signalering", signal)
    return case_id


def held(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["author_org"] != POLITIE]


def test_the_police_read_envelopes_while_a_beperking_is_in_force(api: Api) -> None:
    case_id = case_with_police(api, uuid.uuid4().hex)
    police = api.client(POLITIE)
    before = police.get(f"/v1/cases/{case_id}/events").json()
    assert any(e["sealed"] for e in before), "the police opened something before"

    today = api.services.store.clock().date().isoformat()
    restriction = post(
        api, ZVH, case_id, "beperking", {"grond": "juistheid_betwist", "ingang": today}
    )
    read = police.get(f"/v1/cases/{case_id}/events")
    assert read.status_code == 200
    events = held(read.json())
    assert events and all(not e["sealed"] and not e["grants"] for e in events)
    assert all(e["restricted"] == [{"reason": "beperkt", "beperking": restriction}] for e in events)
    feed = [e for e in police.get("/v1/feed").json()["items"] if e["case_id"] == case_id]
    assert feed and all(not e["sealed"] and e["restricted"] for e in held(feed))
    custodian = api.client(ZVH).get(f"/v1/cases/{case_id}/events").json()
    assert any(e["sealed"] for e in custodian) and not any(e["restricted"] for e in custodian)

    post(
        api,
        ZVH,
        case_id,
        "beperking_opgeheven",
        {"beperking": restriction, "opgeheven_op": today, "betrokkene_geinformeerd_op": today},
    )
    again = police.get(f"/v1/cases/{case_id}/events").json()
    assert any(e["sealed"] for e in again) and not any(e["restricted"] for e in again)


def test_an_objection_upheld_against_the_police_over_http(api: Api) -> None:
    case_id = case_with_police(api, uuid.uuid4().hex)
    today = api.services.store.clock().date().isoformat()
    decided = {"ingediend_op": today, "besluit": "toegewezen", "besloten_op": today}
    objection = post(api, ZVH, case_id, "bezwaar", {**decided, "tegen": [POLITIE]})
    events = api.client(POLITIE).get(f"/v1/cases/{case_id}/events").json()
    assert all(
        e["restricted"] == [{"reason": "bezwaar_toegewezen", "bezwaar": objection}]
        for e in held(events)
    )
    assert not any(e["sealed"] for e in held(events))
    with api.client(GEMEENTE) as gemeente:
        assert not any(e["restricted"] for e in gemeente.get(f"/v1/cases/{case_id}/events").json())
