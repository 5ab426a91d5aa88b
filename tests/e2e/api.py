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
    _clients: list[httpx.Client] = field(default_factory=list)

    def token(self, org: str, role: str = "partner-system") -> str:
        if (org, role) not in self._tokens:
            self._tokens[(org, role)] = self.services.clients.add(org, role, "e2e test").token
        return self._tokens[(org, role)]

    def client(self, org: str, role: str = "partner-system") -> httpx.Client:
        """An HTTP client authenticated as one client of `org` in `role`. A test may close
        it itself; `close` closes whatever is left, before the server goes away."""
        client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(org, role)}"},
            timeout=30,
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
