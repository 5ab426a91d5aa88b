"""The timeline over HTTP and in a real browser, both backends: the API answers a view of
another organisation only to whom it may (a partner system gets a problem+json 403), and
the page shows the earlier care level when the moment picker goes back before an
opschaling. Screenshots; axe finds nothing serious."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page

from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.e2e.browser import screenshot, serious_violations
from tests.factories import (
    INCLUSIE,
    TRIAGE,
    ZVH,
    Clock,
    aanmelding,
    fresh_bsn,
    load_signed_demo,
    submit,
)

PROBLEM = "application/problem+json"


def scaled_case(api: Api, clock: Clock) -> tuple[UUID, str]:
    """A case the custodian refers and includes at level 2; a week later a meeting decides
    level 3. Returns the case and a moment between inclusion and opschaling (UTC, minutes)."""
    store = api.services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), ZVH)).case_id
    clock.advance(days=1)
    store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    clock.advance(days=1)
    store.append(case_id, submit("inclusiebesluit", INCLUSIE, ZVH))
    between = clock.advance(days=3)
    clock.advance(days=4)
    meeting = store.append(
        case_id,
        submit(
            "casusoverleg",
            {"soort": "crisisoverleg", "deelnemers": [ZVH], "besluiten": "Opschalen naar 3."},
            ZVH,
        ),
    )
    store.append(
        case_id,
        submit(
            "opschaling",
            {"niveau": 3, "reden": "Terugval.", "casusoverleg": meeting.event_id},
            ZVH,
        ),
    )
    clock.advance(hours=1)
    return case_id, between.strftime("%Y-%m-%dT%H:%M")


def test_a_view_of_another_organisation_over_http(api: Api) -> None:
    case_id = next(r.case_id for r in load_signed_demo(api.services) if r.version == 1)
    url = f"/v1/cases/{case_id}/timeline"
    with api.client(ZVH, "coordinator") as coordinator:
        answer = coordinator.get(url, params={"view": demo.POLITIE})
        assert answer.status_code == 200, answer.text
        [signal] = [e for e in answer.json()["entries"] if e["event_type"] == "signalering"]
        assert signal["fields"]["toelichting"]["withheld"] is True
        assert signal["fields"]["toelichting"]["rule"].startswith("signalering-")
    for org in (demo.POLITIE, ZVH):
        with api.client(org) as partner:
            refused = partner.get(url, params={"view": demo.POLITIE})
            assert refused.status_code == 403
            assert refused.headers["content-type"].startswith(PROBLEM)
            assert "partner system" in refused.json()["detail"]
    rows = api.services.audit.page(case=str(case_id), limit=1000)
    assert [r.action for r in rows].count("case.timeline") == 1  # the refusals read nothing


def test_the_moment_picker_shows_the_level_before_an_opschaling(
    api: Api, page: Page, clock: Clock
) -> None:
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    case_id, before = scaled_case(api, clock)
    page.goto(f"{api.base_url}/ui/login")
    page.fill("#token", api.token(ZVH, "coordinator"))
    page.click("button[type=submit]")
    assert page.url.endswith("/ui/")

    page.goto(f"{api.base_url}/ui/cases/{case_id}/timeline")
    assert page.locator("#level").inner_text() == "3"
    assert page.locator("svg.chart path").count() == 1
    assert serious_violations(page) == []
    screenshot(page, f"timeline-now-{backend}")

    page.fill("#as_of", before)
    page.click("button:has-text('Tonen')")
    assert page.locator("#level").inner_text() == "2"
    assert "opschaling" not in page.locator("#entries").inner_text()
    assert serious_violations(page) == []
    screenshot(page, f"timeline-before-opschaling-{backend}")

    # As the casusregisseur would see it: the custodian's coordinator may choose the view;
    # the police, outside this case's network, receive nothing of it.
    page.select_option("#view", demo.GEMEENTE)
    page.click("button:has-text('Tonen')")
    assert page.locator("#view-org").inner_text() == demo.GEMEENTE
    assert serious_violations(page) == []
    screenshot(page, f"timeline-view-gemeente-{backend}")
    page.select_option("#view", demo.POLITIE)
    page.click("button:has-text('Tonen')")
    assert "ontvangt er niets van" in page.locator("[role=alert]").inner_text()
