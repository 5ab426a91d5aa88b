"""Web sessions for the people who work in the pages: privacy officers, coordinators,
auditors.

A person signs in once with their client's bearer token; the page keeps a session cookie
instead, so the token is never stored in the browser. The cookie carries a random secret;
the store keeps only its hash. Every request re-checks the client behind the session, so
revoking or expiring a client ends its sessions at once, on every API process. Forms carry
a CSRF token derived from the session, which a page of another origin cannot read.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from nacl.utils import random

from casestore.adapters.persistence.session_table import SessionRow, SessionTable
from casestore.services.clients import Client, ClientRole, Clients
from sharing.canonical import b64encode
from sharing.primitives import blake2b

PAGE_ROLES = frozenset({ClientRole.privacy_officer, ClientRole.coordinator, ClientRole.auditor})
"""Roles that may use the pages; partner systems talk to the API only."""
LIFETIME = timedelta(hours=9)  # a working day, signing in once
IDLE = timedelta(hours=1)  # unattended longer than this: sign in again
SECRET_BYTES = 32


class SessionError(Exception):
    """A session cannot be started or used; the message is safe to show."""


class NoSession(SessionError):
    """No valid session: unknown, ended, expired or idle (never said which)."""

    def __init__(self) -> None:
        super().__init__("sign in to continue")


class NotForPages(SessionError):
    def __init__(self, role: ClientRole) -> None:
        allowed = ", ".join(sorted(r.value for r in PAGE_ROLES))
        super().__init__(f"the role {role.value} signs in through the API only (pages: {allowed})")


@dataclass(frozen=True)
class Session:
    """Who is signed in, and the token every form of this session must carry."""

    client: Client
    csrf: str
    expires_at: datetime


class WebSessions:
    def __init__(
        self,
        table: SessionTable,
        clients: Clients,
        key: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self._table = table
        self._clients = clients
        self._key = key  # derived from the master key for this purpose only
        self._clock = clock

    @property
    def table(self) -> SessionTable:
        return self._table

    def start(self, token: str) -> tuple[str, Session]:
        """Exchange a bearer token for a session: the cookie value, shown once, and the
        session it opens. A bad token raises the clients' one opaque `Unauthenticated`."""
        client = self._clients.authenticate(token.strip())
        if client.role not in PAGE_ROLES:
            raise NotForPages(client.role)
        now = self._clock()
        secret = b64encode(random(SECRET_BYTES))
        row = SessionRow(
            session_hash=self._hash(secret),
            client_id=client.client_id,
            org_id=client.org_id,
            role=client.role.value,
            created_at=now,
            expires_at=min(now + LIFETIME, client.expires_at),
            last_seen_at=now,
        )
        self._table.add(row)
        return secret, Session(client, self._csrf(row.session_hash), row.expires_at)

    def resume(self, secret: str | None) -> Session:
        """The session behind a cookie, if it is still good; its client is checked again."""
        if not secret:
            raise NoSession()
        session_hash = self._hash(secret)
        row = self._table.get(session_hash)
        now = self._clock()
        if row is None or row.ended_at is not None or now >= row.expires_at:
            raise NoSession()
        if now - row.last_seen_at > IDLE:
            self._table.end(session_hash, now)
            raise NoSession()
        client = self._clients.active_client(row.client_id)
        if client is None:
            self._table.end(session_hash, now)
            raise NoSession()
        if now - row.last_seen_at > IDLE / 12:  # a write every few minutes, not per request
            self._table.seen(session_hash, now)
        return Session(client, self._csrf(session_hash), row.expires_at)

    def end(self, secret: str | None) -> None:
        if secret:
            self._table.end(self._hash(secret), self._clock())

    def check_csrf(self, session: Session, given: str | None) -> None:
        if not given or not hmac.compare_digest(given, session.csrf):
            raise SessionError("this form has expired; open the page again and resubmit")

    def _hash(self, secret: str) -> str:
        return blake2b(secret.encode(), 32, b"casestore/sessn", key=self._key).hex()

    def _csrf(self, session_hash: str) -> str:
        return b64encode(blake2b(session_hash.encode(), 32, b"casestore/csrf", key=self._key))
