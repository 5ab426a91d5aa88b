"""API clients: bearer tokens, each for one organisation in one role.

A token is shown once, when issued; the store keeps only its BLAKE2b hash, so a database
dump yields no usable credential. The token names its client id in the clear, so a check
is one lookup by primary key and one constant-time comparison.

An API process may keep the rows it has looked up (`TokenCache`), so that a request costs
no database round trip. Revocation still takes effect for every process by the time
`Clients.revoke` returns: see `TokenCache` for how. It also ends the client's live
streams: at once in this process, and on PostgreSQL in every API process by the time it
returns (casestore.adapters.live_streams).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from nacl.encoding import URLSafeBase64Encoder
from nacl.utils import random

from casestore.adapters import metrics
from casestore.adapters.live_streams import LiveStreams
from casestore.adapters.persistence.client_table import ClientRow, ClientTable
from casestore.adapters.token_cache import REVOCATION_BOUND_SECONDS, TokenCache

PREFIX = "cs_"
SECRET_BYTES = 32
DEFAULT_VALIDITY = timedelta(days=365)


class ClientRole(StrEnum):
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
    role: ClientRole
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


@dataclass(frozen=True)
class CachedClient:
    """A client as a process keeps it: the hash its token must match, and what it is."""

    token_hash: str
    client: Client


ClientCache = TokenCache[CachedClient]


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
        self._cache: ClientCache | None = None
        self._streams: LiveStreams | None = None

    @property
    def broadcasts_revocations(self) -> bool:
        """Whether a cache can be kept honest on this backend (see `TokenCache`)."""
        return self._table.broadcasts_revocations

    def use_cache(self, cache: ClientCache | None) -> None:
        """Keep looked-up clients in `cache` (an API process on PostgreSQL, whose listener
        keeps it honest), or stop."""
        self._cache = cache

    def use_streams(self, streams: LiveStreams | None) -> None:
        """End the streams in `streams` of a client this process revokes (an API process)."""
        self._streams = streams

    @property
    def table(self) -> ClientTable:
        return self._table

    @property
    def organisations(self) -> frozenset[str]:
        return self._organisations

    def add(
        self,
        org_id: str,
        role: ClientRole | str,
        name: str,
        valid_for: timedelta = DEFAULT_VALIDITY,
    ) -> Issued:
        if org_id not in self._organisations:
            raise ClientError(f"unknown organisation {org_id!r}: the policy does not list it")
        try:
            role = ClientRole(role)
        except ValueError:
            roles = ", ".join(r.value for r in ClientRole)
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
            created_at=now,
            expires_at=now + valid_for,
        )
        self._table.add(row)
        return Issued(_client(row), f"{PREFIX}{client_id}_{secret}")

    def list(self, org_id: str | None = None) -> list[Client]:
        return [_client(r) for r in self._table.all() if org_id in (None, r.org_id)]

    def revoke(self, client_id: str) -> Client:
        """Revoke a client's token; once this returns, no API process accepts it."""
        if self._table.get(client_id) is None:
            raise ClientError(f"no client {client_id!r}")
        self._table.revoke(client_id, self._clock())
        if self._cache is not None:
            self._cache.invalidate(client_id)
        if self._streams is not None:
            self._streams.end(client_id)
        if self._table.broadcasts_revocations:
            # API processes may serve from a cache, and stream, until their listener applies
            # the broadcast, which it does within the bound: outwait it.
            time.sleep(REVOCATION_BOUND_SECONDS * 1.1)
        row = self._table.get(client_id)
        assert row is not None  # noqa: S101 - clients are never deleted
        return _client(row)

    def active_client(self, client_id: str) -> Client | None:
        """The client by id while it is neither revoked nor expired: a session holds no token,
        so it is checked against this on every request."""
        row = self._table.get(client_id)
        if row is None:
            return None
        client = _client(row)
        return client if client.active(self._clock()) else None

    def authenticate(self, token: str) -> Client:
        """The active client behind `token`: from the cache if it can tell, else from the
        database."""
        client = self.authenticate_cached(token)
        if client is not None:
            return client
        client_id, secret = _parse(token)
        cache = self._cache
        generation = cache.generation if cache is not None else 0
        row = self._table.get(client_id)
        if row is not None and cache is not None:
            cache.put(client_id, CachedClient(row.token_hash, _client(row)), generation)
        # Hash even when the client is unknown, so timing does not tell which it was.
        given = _hash(secret)
        if row is None or not hmac.compare_digest(given, row.token_hash):
            raise Unauthenticated()
        return self._active(_client(row))

    def authenticate_cached(self, token: str) -> Client | None:
        """As `authenticate`, without I/O: None when only the database can tell (no cache,
        the cache is not trusted just now, or the client is not in it)."""
        client_id, secret = _parse(token)
        if self._cache is None:
            return None
        entry = self._cache.get(client_id)
        metrics.TOKEN_CACHE.labels("miss" if entry is None else "hit").inc()
        if entry is None:
            return None
        if not hmac.compare_digest(_hash(secret), entry.token_hash):
            raise Unauthenticated()
        return self._active(entry.client)

    def now(self) -> datetime:
        """The clock expiry is judged by."""
        return self._clock()

    def _active(self, client: Client) -> Client:
        if not client.active(self._clock()):
            raise Unauthenticated()
        return client


def _parse(token: str) -> tuple[str, str]:
    client_id, _, secret = token.removeprefix(PREFIX).partition("_")
    if not token.startswith(PREFIX) or not client_id or not secret:
        raise Unauthenticated()
    return client_id, secret


def _hash(secret: str) -> str:
    # The standard library's BLAKE2b, the same function as libsodium's: a short input is
    # hashed without releasing the GIL, which on the API's event loop would cost a wait
    # for it behind the request threads.
    return hashlib.blake2b(secret.encode(), digest_size=32, person=b"casestore-token").hexdigest()


def _client(row: ClientRow) -> Client:
    return Client(
        client_id=row.client_id,
        org_id=row.org_id,
        role=ClientRole(row.role),
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
