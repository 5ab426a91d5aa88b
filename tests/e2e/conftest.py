"""End-to-end fixtures: a real uvicorn server on loopback per test, SQLite and PostgreSQL.

`api` serves the `services` fixture (tests/conftest.py, both backends) in a thread and
hands out bearer tokens per organisation and role, issued as `casestore clients add`
would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from casestore.bootstrap import Services
from tests.e2e.api import Api
from tests.e2e.browser import chromium
from tests.e2e.server import serve_in_thread


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    with serve_in_thread(services) as base_url:
        api = Api(base_url, services)
        try:
            yield api
        finally:
            api.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per page-test module (tests/e2e/browser.py)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test: no cookie or session carries over."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()
