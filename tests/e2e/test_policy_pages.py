"""The privacy officers' workspace in a real browser: officer A proposes and sees the
impact, cannot approve her own proposal, officer B of another organisation approves, and
the new version is in force with history re-sealed. Screenshots; axe finds nothing serious.
Both backends."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import yaml
from playwright.sync_api import Page

from casestore.entrypoints import demo
from tests.e2e.api import Api
from tests.e2e.browser import screenshot, serious_violations
from tests.factories import load_signed_demo, officer


def sign_in(page: Page, api: Api, org: str) -> None:
    page.goto(f"{api.base_url}/ui/login")
    page.fill("#token", api.token(org, "privacy-officer"))
    page.click("button[type=submit]")
    assert page.url.endswith("/ui/")


def without_police_rule(text: str) -> str:
    document = yaml.safe_load(text)
    document["rules"] = [r for r in document["rules"] if r["id"] != "signalering-politie"]
    return yaml.safe_dump(document, allow_unicode=True)


def test_two_officers_change_the_policy_with_four_eyes(api: Api, page: Page) -> None:
    load_signed_demo(api.services)
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    book = api.services.policy
    sign_in(page, api, demo.ZVH)

    page.goto(f"{api.base_url}/ui/policy?organisation={demo.POLITIE}")
    organisations = page.locator("tbody tr td:first-child").all_inner_texts()
    assert organisations and set(organisations) == {demo.POLITIE}
    assert serious_violations(page) == []
    screenshot(page, f"policy-matrix-{backend}")

    page.goto(f"{api.base_url}/ui/policy/proposals")
    page.fill("#reason", "De politie hoeft de signaleringen niet meer")
    page.fill("#dpia_reference", "DPIA-2026-07")
    page.fill("#vastgesteld_on", "2026-11-20")
    # The whole policy, as an officer pastes it (typing 80 kB key by key takes minutes).
    page.locator("#document").evaluate(
        "(area, text) => { area.value = text; }", without_police_rule(book.in_force().document)
    )
    page.click("button:has-text('Voorstellen')")
    assert "/ui/policy/proposals/" in page.url, page.locator(".error").all_inner_texts()
    proposal_url = page.url
    police = page.locator("#impact tr", has_text=demo.POLITIE)
    assert police.count() == 1
    assert "−0" not in police.locator(".fields").inner_text()  # fields lost
    assert serious_violations(page) == []
    screenshot(page, f"policy-proposal-{backend}")

    page.fill("#approve-reason", "eigen voorstel")
    page.click("text=Goedkeuren")
    assert "four eyes" in page.locator("[role=alert]").inner_text()
    assert page.locator("#status").inner_text().startswith("open")
    screenshot(page, f"policy-own-approval-refused-{backend}")

    page.click("text=Uitloggen")
    sign_in(page, api, demo.GEMEENTE)
    page.goto(proposal_url)
    page.fill("#approve-reason", "Akkoord, besproken in het regionaal overleg")
    page.click("text=Goedkeuren")
    assert page.url.endswith("/ui/policy/versions")
    deadline = time.monotonic() + 30
    while "klaar" not in page.locator(".job").inner_text() and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    assert "herverzegeling klaar" in page.locator(".job").inner_text()
    assert "2 (van kracht)" in page.locator("tr.granted td").first.inner_text()
    assert serious_violations(page) == []
    screenshot(page, f"policy-versions-{backend}")

    assert book.in_force().version == 2
    assert book.impact(api.services.sealer.matrix).organisations == {}  # history re-sealed
    tables = api.services.store.records.tables
    police_signaleringen = [
        g
        for cid in tables.case_ids()
        for g in tables.grants_of_case(cid)
        if g.org_id == demo.POLITIE and "signalering-politie" in g.basis
    ]
    assert police_signaleringen == []


def test_an_officer_proposes_one_rule_edit_on_the_page(api: Api, page: Page) -> None:
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    book = api.services.policy
    sign_in(page, api, demo.ZVH)
    page.goto(f"{api.base_url}/ui/policy/proposals")
    page.select_option("#rule-op", "change")
    page.fill("#rule-id", "signalering-politie")
    rule = next(r for r in yaml.safe_load(book.in_force().document)["rules"]
                if r["id"] == "signalering-politie")  # fmt: skip
    rule["fields"] = ["categorie"]
    page.fill("#rule-yaml", yaml.safe_dump(rule, allow_unicode=True))
    page.fill("#rule-reason", "De politie krijgt alleen nog de categorie")
    page.fill("#rule-dpia", "DPIA-2026-08")
    page.fill("#rule-vastgesteld", "2026-11-27")
    assert serious_violations(page) == []
    page.click("text=Regel voorleggen")
    assert "/ui/policy/proposals/" in page.url, page.locator(".error").all_inner_texts()
    assert "regel signalering-politie: gewijzigd" in page.content()
    assert serious_violations(page) == []
    screenshot(page, f"policy-rule-edit-{backend}")
    proposal = book.proposals()[-1]
    # The rest of the document is as the base version has it, comments and all.
    assert "# --- Aanmelding" in proposal.document
    assert proposal.document.count("\n- id:") == book.in_force().document.count("\n- id:")

    # A rule that is not there cannot be changed: the page says why.
    page.goto(f"{api.base_url}/ui/policy/proposals")
    page.select_option("#rule-op", "remove")
    page.fill("#rule-id", "bestaat-niet")
    page.fill("#rule-reason", "opruimen")
    page.fill("#rule-dpia", "DPIA-2026-08")
    page.fill("#rule-vastgesteld", "2026-11-27")
    page.click("text=Regel voorleggen")
    assert "no rule bestaat-niet" in page.locator("[role=alert]").inner_text()
    assert len(book.proposals()) == 1


def test_an_officer_approves_a_version_to_take_effect_later(api: Api, page: Page) -> None:
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    book = api.services.policy
    proposal = book.propose(
        officer(api.services, demo.ZVH),
        base_version=1,
        document=without_police_rule(book.in_force().document),
        reason="De politie hoeft de signaleringen niet meer",
        dpia_reference="DPIA-2026-09",
        vastgesteld_on=date(2026, 11, 20),
    )
    sign_in(page, api, demo.GEMEENTE)
    page.goto(f"{api.base_url}/ui/policy/proposals/{proposal.proposal_id}")

    # A moment already past is refused on the page, and nothing is decided.
    page.fill("#approve-reason", "Akkoord per 1 januari")
    page.fill("#effective_from", "2020-01-01T00:00")
    page.click("text=Goedkeuren")
    assert "ligt in het verleden" in page.locator("[role=alert]").inner_text()
    assert page.locator("#status").inner_text().startswith("open")
    assert book.scheduled() is None

    later = (datetime.now(UTC) + timedelta(days=30)).replace(second=0, microsecond=0)
    page.fill("#approve-reason", "Akkoord per volgende maand")
    page.fill("#effective_from", later.strftime("%Y-%m-%dT%H:%M"))
    assert serious_violations(page) == []
    page.click("text=Goedkeuren")
    assert page.url.endswith("/ui/policy/versions"), page.locator(".error").all_inner_texts()
    scheduled = page.locator("tr", has_text="(gepland)")
    assert scheduled.count() == 1
    assert f"gepland vanaf {later:%Y-%m-%d %H:%M} UTC" in scheduled.inner_text()
    assert "1 (van kracht)" in page.locator("tr.granted td").first.inner_text()
    screenshot(page, f"policy-scheduled-{backend}")
    waiting = book.scheduled()
    assert waiting is not None and waiting.version == 2 and waiting.effective_from == later
    assert book.in_force().version == 1
