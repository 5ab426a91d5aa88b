"""End-to-end fixtures: a real uvicorn server on loopback per test, SQLite and PostgreSQL.

`api` serves the `services` fixture (tests/conftest.py, both backends) in a thread and
hands out bearer tokens per organisation and role, issued as `casestore clients add`
would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from casestore.bootstrap import Services
from tests.e2e.server import serve_in_thread


@dataclass
class Api:
    base_url: str
    services: Services
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, org: str, role: str = "partner-system") -> str:
        if (org, role) not in self._tokens:
            self._tokens[(org, role)] = self.services.clients.add(org, role, "e2e test").token
        return self._tokens[(org, role)]

    def client(self, org: str, role: str = "partner-system") -> httpx.Client:
        """An HTTP client authenticated as one client of `org` in `role`."""
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(org, role)}"},
            timeout=30,
        )


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    with serve_in_thread(services) as base_url:
        yield Api(base_url, services)
