"""The partner API as a test meets it: a served store and bearer tokens per organisation
and role, issued as `casestore clients add` would."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from casestore.bootstrap import Services


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
