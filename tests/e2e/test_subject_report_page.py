"""The data-subject report as a printable page in a real browser: a privacy officer posts
the BSN, sees who received or read what, the referrer withheld, and prints it; the BSN
stays out of the address and the trail; a coordinator is refused. Screenshots and a PDF;
axe finds nothing serious. Both backends."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page

from casestore.services.audit import SEARCH_BSN
from casestore.services.subject_report import REFERRER
from tests.e2e.api import Api
from tests.e2e.browser import ARTIFACTS, screenshot, serious_violations
from tests.factories import GGZ, ZVH, aanmelding, fresh_bsn, include, signalering


def sign_in(page: Page, api: Api, role: str) -> None:
    page.goto(f"{api.base_url}/ui/login")
    page.fill("#token", api.token(ZVH, role))
    page.click("button[type=submit]")
    assert page.url.endswith("/ui/")


def test_an_officer_prints_the_report_of_what_happened(api: Api, page: Page) -> None:
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    bsn = fresh_bsn()
    with api.client(GGZ) as ggz:
        case_id = ggz.post("/v1/cases", json={"payload": aanmelding(bsn)}).json()["case_id"]
    include(api.services.store, UUID(case_id))
    with api.client(ZVH) as zvh:
        zvh.post(
            f"/v1/cases/{case_id}/events", json={"type": "signalering", "payload": signalering()}
        )
        assert zvh.get(f"/v1/cases/{case_id}/events").status_code == 200

    sign_in(page, api, "privacy-officer")
    page.click("text=Inzage")
    assert page.url.endswith("/ui/audit/subject-report")
    assert serious_violations(page) == []
    page.fill("#bsn", bsn)
    page.click("button:has-text('Inzage opstellen')")
    assert bsn not in page.url
    report = page.locator("#report")
    assert report.is_visible()
    text = report.inner_text()
    assert GGZ not in page.content() and REFERRER in text  # the referrer is withheld
    receivers = page.locator("#ontvangers tbody tr td:first-child").all_inner_texts()
    granted = {g.org_id for g in api.services.store.records.tables.grants_of_case(case_id)}
    assert set(receivers) == {REFERRER if org == GGZ else org for org in granted}
    reads = page.locator("#acties tbody tr", has_text="ingezien")
    assert reads.count() == 1 and ZVH in reads.inner_text()
    assert page.locator("#bsn").input_value() == ""  # not echoed back
    assert serious_violations(page) == []
    screenshot(page, f"subject-report-{backend}")

    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible() and not page.locator("form.filters").is_visible()
    screenshot(page, f"subject-report-print-{backend}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / f"subject-report-{backend}.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 1000

    officer = api.services.clients.list(ZVH)
    searches = [
        item["entry"]
        for item in api.services.audit.export()
        if item["entry"]["action"] == SEARCH_BSN
    ]
    assert len(searches) == 1
    assert searches[0]["client"] in {
        c.client_id for c in officer if c.role.value == "privacy-officer"
    }
    assert bsn not in str(list(api.services.audit.export()))


def test_a_wrong_bsn_is_said_plainly_and_a_coordinator_is_refused(api: Api, page: Page) -> None:
    sign_in(page, api, "privacy-officer")
    page.goto(f"{api.base_url}/ui/audit/subject-report")
    page.fill("#bsn", "123456789")
    page.click("button:has-text('Inzage opstellen')")
    assert "geen geldig BSN" in page.locator("[role=alert]").inner_text()
    page.fill("#bsn", fresh_bsn())
    page.click("button:has-text('Inzage opstellen')")
    assert "niets vastgelegd" in page.locator("[role=alert]").inner_text()
    page.click("text=Uitloggen")
    sign_in(page, api, "coordinator")
    answer = page.goto(f"{api.base_url}/ui/audit/subject-report")
    assert answer is not None and answer.status == 403
    assert "Geen toegang" in page.content()


def test_the_page_says_a_restriction_applies_only_where_it_may(api: Api, page: Page) -> None:
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    bsn = fresh_bsn()
    with api.client(GGZ) as ggz:
        case_id = ggz.post("/v1/cases", json={"payload": aanmelding(bsn)}).json()["case_id"]
    include(api.services.store, UUID(case_id))
    ground = "UAVG art. 41 lid 1 sub d: lopend opsporingsonderzoek"
    reports = api.services.subject_reports
    silent = reports.restrict(
        bsn, case=None, organisation=ZVH, ground=ground, requested_by="om",
        may_mention=False, by="fg",
    )  # fmt: skip
    sign_in(page, api, "privacy-officer")
    page.goto(f"{api.base_url}/ui/audit/subject-report")
    page.fill("#bsn", bsn)
    page.click("button:has-text('Inzage opstellen')")
    assert page.locator("#beperkingen").count() == 0
    assert page.locator("#acties tbody tr", has_text=ZVH).count() == 0
    reports.lift(silent.restriction_id, by="fg")
    reports.restrict(
        bsn, case=None, organisation=ZVH, ground=ground, requested_by="om",
        may_mention=True, by="fg",
    )  # fmt: skip
    page.fill("#bsn", bsn)
    page.click("button:has-text('Inzage opstellen')")
    assert ground in page.locator("#beperkingen").inner_text()
    assert page.locator("#acties tbody tr", has_text=ZVH).count() == 0
    assert serious_violations(page) == []
    screenshot(page, f"subject-report-restricted-{backend}")


def test_an_officer_finds_a_person_without_a_bsn_by_name_or_case(api: Api, page: Page) -> None:
    payload = {k: v for k, v in aanmelding(fresh_bsn(), "P. Zonder Nummer").items() if k != "bsn"}
    with api.client(GGZ) as ggz:
        case_id = ggz.post("/v1/cases", json={"payload": payload}).json()["case_id"]
    sign_in(page, api, "privacy-officer")
    page.goto(f"{api.base_url}/ui/audit/subject-report")
    page.fill("#naam", "p zonder nummer")
    page.fill("#geboortedatum", payload["geboortedatum"])
    page.click("button:has-text('Inzage opstellen')")
    assert page.locator("#report").count() == 1
    assert "zonder" not in page.url.lower()
    page.goto(f"{api.base_url}/ui/audit/subject-report")
    page.fill("#zaak", case_id)
    page.click("button:has-text('Inzage opstellen')")
    assert page.locator("#report").count() == 1
    page.goto(f"{api.base_url}/ui/audit/subject-report")
    page.fill("#naam", "p zonder nummer")
    page.click("button:has-text('Inzage opstellen')")
    assert "naam en geboortedatum samen" in page.locator("[role=alert]").inner_text()
    page.goto(f"{api.base_url}/ui/audit/subject-report")
    page.click("button:has-text('Inzage opstellen')")
    assert "één zoekwijze" in page.locator("[role=alert]").inner_text()
    assert serious_violations(page) == []
