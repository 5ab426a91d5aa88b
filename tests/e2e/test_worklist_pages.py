"""The coordinators' pages in a real browser: the worklist sorted and filtered, a
casusoverleg planned, the housing corporation's pack opened (and its PDF), the minutes
recorded. Screenshots; axe finds nothing serious. Both backends."""

from __future__ import annotations

import io

from playwright.sync_api import Page
from pypdf import PdfReader

from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.e2e.browser import screenshot, serious_violations
from tests.factories import load_signed_demo


def sign_in(page: Page, api: Api, org: str) -> None:
    page.goto(f"{api.base_url}/ui/login")
    page.fill("#token", api.token(org, "coordinator"))
    page.click("button[type=submit]")
    assert page.url.endswith("/ui/")


def levels(page: Page) -> list[int]:
    texts = page.locator("table.worklist tbody tr td:nth-child(2)").all_inner_texts()
    return [int(t) for t in texts if t.isdigit()]


def test_a_coordinator_works_the_list_and_prepares_a_meeting(api: Api, page: Page) -> None:
    load_signed_demo(api.services)
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    sign_in(page, api, demo.ZVH)

    page.click("nav >> text=Werklijst")
    rows = page.locator("table.worklist tbody tr")
    assert rows.count() >= 2
    links = page.locator("table.worklist tbody tr td:first-child a")
    href = links.first.get_attribute("href") or ""
    assert href.startswith("/ui/cases/") and href.endswith("/timeline")
    assert serious_violations(page) == []
    screenshot(page, f"worklist-{backend}")

    page.click("thead >> text=Niveau")  # descending first
    numbers = levels(page)
    assert numbers and numbers == sorted(numbers, reverse=True)
    page.click("thead >> text=Niveau")  # and back
    assert levels(page) == sorted(numbers)
    screenshot(page, f"worklist-sorted-{backend}")

    page.select_option("#level", "2")
    page.click("button:has-text('Toon')")
    assert set(page.locator("tbody tr td:nth-child(2)").all_inner_texts()) <= {"2"}
    page.select_option("#level", "")
    page.select_option("#signal", "monitoring_achterstallig")
    page.click("button:has-text('Toon')")
    signals = page.locator("tbody tr td:last-child").all_inner_texts()
    assert signals and all("monitoring achterstallig" in s for s in signals)
    assert serious_violations(page) == []
    screenshot(page, f"worklist-filtered-{backend}")

    page.goto(f"{api.base_url}/ui/worklist")
    case_ids = page.locator("table.worklist tbody tr td:first-child a").all_inner_texts()[:2]
    page.click("nav >> text=Casusoverleg")
    page.fill("#title", "Levenslooptafel")
    page.select_option("#soort", "levenslooptafel")
    page.check(f"input[value='{demo.WONEN}']")
    page.check(f"input[value='{demo.GEMEENTE}']")
    page.fill("#cases", "\n".join(case_ids))
    assert serious_violations(page) == []
    page.click("button:has-text('Overleg plannen')")
    assert "/ui/meetings/" in page.url, page.locator(".error").all_inner_texts()
    meeting_url = page.url
    assert serious_violations(page) == []
    screenshot(page, f"meeting-{backend}")

    page.click(f"text=vergaderstuk van {demo.WONEN}")
    assert page.locator("h1").inner_text() == f"Vergaderstuk voor {demo.WONEN}"
    assert page.locator("section.pack-case").count() == len(case_ids)
    assert serious_violations(page) == []
    screenshot(page, f"meeting-pack-{backend}")
    pdf = page.request.get(f"{meeting_url}/packs/{demo.WONEN}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert demo.WONEN in text and case_ids[0] in text.replace("\n", "")

    page.goto(meeting_url)
    page.fill("#besluiten", "Huisbezoek samen met de corporatie.")
    page.fill("#actiepunten", f"{demo.WONEN} | Gesprek over de huurachterstand | 2030-01-01")
    page.click("button:has-text('Verslag vastleggen')")
    assert "Verslag vastgelegd" in page.locator("[role=status]").inner_text()
    screenshot(page, f"meeting-minutes-{backend}")
    exported = [
        line["entry"]["receiver"]
        for line in api.services.audit.export()
        if line["entry"]["action"] == "meeting.pack-exported"
    ]
    assert exported.count(demo.WONEN) >= 2  # the page and the PDF


def test_a_partner_system_has_no_worklist(api: Api) -> None:
    assert api.client(demo.GEMEENTE).get("/v1/worklist").status_code == 403
    with api.client(demo.GEMEENTE, "coordinator") as coordinator:
        answer = coordinator.get("/v1/worklist", params={"sort": "niveau"})
    assert answer.status_code == 200
    assert answer.json() == {"cases": []}
