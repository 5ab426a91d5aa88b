"""The data-subject report (AVG art. 15) over HTTP: what the trail says happened to one
person's data, the referrer withheld, and the search itself in the trail under the
pseudonym. Both backends."""

from __future__ import annotations

from uuid import UUID, uuid4

from casestore.services.audit import (
    RESTRICTION_LIFTED,
    RESTRICTION_RECORDED,
    SEARCH_BSN,
    SEARCH_CASE,
    SEARCH_NAME,
)
from casestore.services.subject_report import REFERRER
from tests.e2e.api import Api
from tests.factories import GGZ, ZVH, aanmelding, fresh_bsn, include, signalering


def test_the_report_matches_the_grants_and_reads_that_happened(api: Api) -> None:
    bsn = fresh_bsn()
    with api.client(GGZ) as ggz:
        opened = ggz.post("/v1/cases", json={"payload": aanmelding(bsn)}).json()
    case_id = opened["case_id"]
    include(api.services.store, UUID(case_id))
    with api.client(ZVH) as zvh:
        signal = zvh.post(
            f"/v1/cases/{case_id}/events", json={"type": "signalering", "payload": signalering()}
        )
        assert signal.status_code == 201
        assert zvh.get(f"/v1/cases/{case_id}/events").status_code == 200
    officer = api.client(ZVH, "privacy-officer")
    answer = officer.post("/v1/audit/subject-report", json={"bsn": bsn})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["zaken"] == [case_id]

    tables = api.services.store.records.tables
    granted = {g.org_id for g in tables.grants_of_case(case_id)}
    shown = {REFERRER if org == GGZ else org for org in granted}
    assert set(report["ontvangers"]) == shown
    assert GGZ not in answer.text  # the referrer is withheld everywhere
    reads = [a for a in report["verwerkingsacties"] if a["actie"] == "ingezien"]
    assert [r["organisatie"] for r in reads] == [ZVH]
    zvh_fields = set(report["ontvangers"][ZVH]["gegevens"])
    assert zvh_fields == {
        name for g in tables.grants_of_case(case_id) if g.org_id == ZVH for name in g.fields
    }
    provided = [a for a in report["verwerkingsacties"] if a["actie"] == "verstrekt"]
    assert provided
    rules = {r.id: r for r in api.services.sealer.matrix.policy.rules}
    for action in provided:  # on a rule of the policy, with its grounds (an author: its own)
        if not all(a.startswith("author@") for a in action["verwerkingsactiviteiten"]):
            assert action["grondslagen"], action
            named = {a.split("@", 1)[0] for a in action["verwerkingsactiviteiten"]}
            assert set(action["doelen"]) == {rules[r].purpose for r in named if r in rules}
            assert action["bewaartermijnen"] and all(
                " vanaf " in t for t in action["bewaartermijnen"]
            )
    assert report["ontvangers"][ZVH]["doelen"]

    searches = [
        item["entry"]
        for item in api.services.audit.export()
        if item["entry"]["action"] == SEARCH_BSN
    ]
    assert len(searches) == 1 and searches[0]["person"] is not None
    assert bsn not in str(list(api.services.audit.export()))


def test_a_person_never_referred_is_not_found_and_others_may_not_ask(api: Api) -> None:
    officer = api.client(ZVH, "privacy-officer")
    unknown = officer.post("/v1/audit/subject-report", json={"bsn": fresh_bsn()})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    invalid = officer.post("/v1/audit/subject-report", json={"bsn": "123456789"})
    assert invalid.status_code == 422
    partner = api.client(ZVH).post("/v1/audit/subject-report", json={"bsn": fresh_bsn()})
    assert partner.status_code == 403


def test_a_restriction_recorded_over_http_is_honoured_until_lifted(api: Api) -> None:
    bsn = fresh_bsn()
    with api.client(GGZ) as ggz:
        case_id = ggz.post("/v1/cases", json={"payload": aanmelding(bsn)}).json()["case_id"]
    include(api.services.store, UUID(case_id))
    with api.client(ZVH) as zvh:
        assert zvh.get(f"/v1/cases/{case_id}/events").status_code == 200
    officer = api.client(ZVH, "privacy-officer")
    body = {
        "bsn": bsn,
        "case": case_id,
        "organisation": ZVH,
        "ground": "UAVG art. 41 lid 1 sub d: lopend opsporingsonderzoek",
        "requested_by": "politie-amsterdam",
        "may_mention": True,
    }
    start = len(list(api.services.audit.export()))
    made = officer.post("/v1/audit/restrictions", json=body)
    assert made.status_code == 201, made.text
    left = [item["entry"] for item in list(api.services.audit.export())[start:]]
    assert [e["action"] for e in left] == [RESTRICTION_RECORDED]
    assert bsn not in str(left)
    report = officer.post("/v1/audit/subject-report", json={"bsn": bsn}).json()
    assert [a for a in report["verwerkingsacties"] if a["organisatie"] == ZVH] == []
    assert report["beperkingen"][0]["grond"] == body["ground"]

    restriction = made.json()["restriction_id"]
    assert (
        api.client(ZVH, "auditor").post(f"/v1/audit/restrictions/{restriction}/lift").status_code
        == 403
    )
    assert api.client(ZVH).post("/v1/audit/restrictions", json=body).status_code == 403
    lifted = officer.post(f"/v1/audit/restrictions/{restriction}/lift")
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] is not None
    assert RESTRICTION_LIFTED in str(list(api.services.audit.export())[-2:])
    again = officer.post("/v1/audit/subject-report", json={"bsn": bsn}).json()
    assert [a for a in again["verwerkingsacties"] if a["organisatie"] == ZVH]
    assert again["beperkingen"] == []
    missing = officer.post("/v1/audit/restrictions/nope/lift")
    assert missing.status_code == 404
    elsewhere = officer.post("/v1/audit/restrictions", json={**body, "bsn": fresh_bsn()})
    assert elsewhere.status_code == 404


def test_a_person_without_a_bsn_gets_the_report_by_name_or_by_case(api: Api) -> None:
    """A person registered without a BSN: found by name and birth date (spelled as any
    referrer may) or by a case id, each search in the trail under the pseudonymous id."""
    payload = {k: v for k, v in aanmelding(fresh_bsn(), "Ö. van Zonder-Bsn").items() if k != "bsn"}
    with api.client(GGZ) as ggz:
        case_id = ggz.post("/v1/cases", json={"payload": payload}).json()["case_id"]
    officer = api.client(ZVH, "privacy-officer")
    by_name = officer.post(
        "/v1/audit/subject-report",
        json={"naam": "o van zonder bsn", "geboortedatum": payload["geboortedatum"]},
    )
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["zaken"] == [case_id]
    by_case = officer.post("/v1/audit/subject-report", json={"zaak": case_id})
    assert by_case.status_code == 200 and by_case.json()["zaken"] == [case_id]
    searches = [
        item["entry"]
        for item in api.services.audit.export()
        if item["entry"]["action"] in (SEARCH_NAME, SEARCH_CASE)
        and item["entry"].get("reason") == "inzage art. 15"
    ]
    assert [s["action"] for s in searches] == [SEARCH_NAME, SEARCH_CASE]
    assert len({s["person"] for s in searches}) == 1 and searches[0]["person"]
    assert "zonder" not in str(list(api.services.audit.export())).lower()

    unknown = officer.post(
        "/v1/audit/subject-report", json={"naam": "Niemand", "geboortedatum": "1990-01-01"}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    for body in (
        {"naam": "Alleen een naam"},
        {"bsn": fresh_bsn(), "zaak": case_id},
        {},
    ):
        refused = officer.post("/v1/audit/subject-report", json=body)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"].startswith("application/problem+json")
    missing = officer.post("/v1/audit/subject-report", json={"zaak": str(uuid4())})
    assert missing.status_code == 404
