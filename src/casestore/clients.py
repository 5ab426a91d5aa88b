"""API clients: bearer tokens, each for one organisation in one role.

A token is shown once, when issued; the store keeps only its BLAKE2b hash, so a database
dump yields no usable credential. The token names its client id in the clear, so a check
is one lookup by primary key and one constant-time comparison.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from nacl.encoding import HexEncoder, URLSafeBase64Encoder
from nacl.hash import blake2b
from nacl.utils import random

from casestore.persistence.client_table import ClientRow, ClientTable
from sharing.keys import format_time, parse_time

PREFIX = "cs_"
SECRET_BYTES = 32
DEFAULT_VALIDITY = timedelta(days=365)


class Role(StrEnum):
    """What a client does for its organisation; each endpoint names the roles it serves."""

    partner_system = "partner-system"
    coordinator = "coordinator"
    privacy_officer = "privacy-officer"
    auditor = "auditor"


class ClientError(Exception):
    """A client cannot be issued, found or used; the message is safe to show."""


class Unauthenticated(ClientError):
    """No valid token: unknown, malformed, revoked or expired (never said which)."""

    def __init__(self) -> None:
        super().__init__("a valid bearer token is required")


@dataclass(frozen=True)
class Client:
    client_id: str
    org_id: str
    role: Role
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class Issued:
    client: Client
    token: str  # shown once; never stored


class Clients:
    def __init__(
        self,
        table: ClientTable,
        organisations: Collection[str],
        clock: Callable[[], datetime],
    ) -> None:
        self._table = table
        self._organisations = frozenset(organisations)
        self._clock = clock

    @property
    def organisations(self) -> frozenset[str]:
        return self._organisations

    def add(
        self, org_id: str, role: Role | str, name: str, valid_for: timedelta = DEFAULT_VALIDITY
    ) -> Issued:
        if org_id not in self._organisations:
            raise ClientError(f"unknown organisation {org_id!r}: the policy does not list it")
        try:
            role = Role(role)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise ClientError(f"unknown role {role!r} (one of: {roles})") from None
        if not name.strip():
            raise ClientError("a client needs a name")
        if valid_for <= timedelta(0):
            raise ClientError("a token must be valid for some time")
        now = self._clock()
        client_id = random(8).hex()
        secret = URLSafeBase64Encoder.encode(random(SECRET_BYTES)).decode().rstrip("=")
        row = ClientRow(
            client_id=client_id,
            org_id=org_id,
            role=role.value,
            name=name.strip(),
            token_hash=_hash(secret),
            created_at=format_time(now),
            expires_at=format_time(now + valid_for),
        )
        self._table.add_client(row)
        return Issued(_client(row), f"{PREFIX}{client_id}_{secret}")

    def list(self, org_id: str | None = None) -> list[Client]:
        return [_client(r) for r in self._table.clients() if org_id in (None, r.org_id)]

    def revoke(self, client_id: str) -> Client:
        if self._table.client(client_id) is None:
            raise ClientError(f"no client {client_id!r}")
        self._table.revoke_client(client_id, format_time(self._clock()))
        row = self._table.client(client_id)
        assert row is not None  # noqa: S101 - clients are never deleted
        return _client(row)

    def authenticate(self, token: str) -> Client:
        client_id, _, secret = token.removeprefix(PREFIX).partition("_")
        if not token.startswith(PREFIX) or not client_id or not secret:
            raise Unauthenticated()
        row = self._table.client(client_id)
        # Hash even when the client is unknown, so timing does not tell which it was.
        given = _hash(secret)
        if row is None or not hmac.compare_digest(given, row.token_hash):
            raise Unauthenticated()
        client = _client(row)
        if not client.active(self._clock()):
            raise Unauthenticated()
        return client


def _hash(secret: str) -> str:
    digest: bytes = blake2b(
        secret.encode(), digest_size=32, person=b"casestore-token", encoder=HexEncoder
    )
    return digest.decode()


def _client(row: ClientRow) -> Client:
    return Client(
        client_id=row.client_id,
        org_id=row.org_id,
        role=Role(row.role),
        name=row.name,
        created_at=parse_time(row.created_at),
        expires_at=parse_time(row.expires_at),
        revoked_at=parse_time(row.revoked_at) if row.revoked_at else None,
    )
