"""The pages' foundation in a real browser: sign in with a token, a session cookie the page
cannot read, CSRF on every form, a strict content security policy, nothing from elsewhere,
and no serious accessibility violation. Both backends."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page

from tests.e2e.api import Api
from tests.e2e.browser import screenshot, serious_violations

ZVH = "zvh-amsterdam-amstelland"


def sign_in(page: Page, api: Api, role: str = "coordinator") -> None:
    page.goto(f"{api.base_url}/ui/")
    assert page.url.endswith("/ui/login")
    page.fill("#token", api.token(ZVH, role))
    page.click("button[type=submit]")


def test_a_coordinator_signs_in_and_out(api: Api, page: Page) -> None:
    sign_in(page, api)
    assert page.url.endswith("/ui/")
    assert page.locator("h1").inner_text() == "Werkplek"
    assert ZVH in page.locator(".who").inner_text()
    cookies = page.context.cookies()
    [session] = [c for c in cookies if c["name"] == "casestore_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/ui"
    assert page.evaluate("document.cookie") == ""
    backend = (api.services.settings.database_url or "sqlite").split(":")[0]
    screenshot(page, f"start-{backend}")

    page.click("text=Uitloggen")
    assert page.url.endswith("/ui/login")
    page.goto(f"{api.base_url}/ui/")
    assert page.url.endswith("/ui/login")  # the old cookie no longer opens anything


def test_pages_load_nothing_from_another_origin_under_a_strict_policy(api: Api, page: Page) -> None:
    origins: set[str] = set()
    page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))
    response = page.goto(f"{api.base_url}/ui/login")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    sign_in(page, api)
    assert origins == {urlsplit(api.base_url).netloc}
    assert page.locator("script").count() == 0


def test_the_pages_have_no_serious_accessibility_violations(api: Api, page: Page) -> None:
    page.goto(f"{api.base_url}/ui/login")
    assert serious_violations(page) == []
    sign_in(page, api)
    assert serious_violations(page) == []


def test_a_partner_system_or_a_bad_token_cannot_sign_in(api: Api, page: Page) -> None:
    sign_in(page, api, role="partner-system")
    assert page.url.endswith("/ui/login")
    assert "API" in page.locator(".error").inner_text()
    page.fill("#token", "cs_nietbestaand_geheim")
    page.click("button[type=submit]")
    assert "niet (meer) geldig" in page.locator(".error").inner_text()


def test_forms_without_their_csrf_token_are_refused(api: Api) -> None:
    with httpx.Client(base_url=api.base_url, follow_redirects=False) as client:
        refused = client.post("/ui/login", data={"token": api.token(ZVH, "coordinator")})
        assert refused.status_code == 400
        assert "casestore_session" not in refused.cookies

        form = client.get("/ui/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        signed_in = client.post(
            "/ui/login", data={"token": api.token(ZVH, "coordinator"), "csrf": csrf}
        )
        assert signed_in.status_code == 303
        assert client.post("/ui/logout").status_code == 403  # no token in the form
        assert client.get("/ui/").status_code == 200  # and the session is still there


def test_revoking_the_client_ends_its_sessions(api: Api, page: Page) -> None:
    sign_in(page, api, role="privacy-officer")
    assert page.url.endswith("/ui/")
    client_id = api.token(ZVH, "privacy-officer").removeprefix("cs_").split("_")[0]
    api.services.clients.revoke(client_id)
    page.goto(f"{api.base_url}/ui/")
    assert page.url.endswith("/ui/login")
