"""The table of API clients: one row per issued bearer token, holding only its hash.

On PostgreSQL a revocation is broadcast on `REVOCATIONS_CHANNEL` (the client id as
payload) in the revoking transaction, so API processes that cache clients drop it as the
revocation commits (casestore.services.clients.TokenCache). The channel is shared by every schema
of the database: another schema's revocation costs a process one needless cache miss.
A client revoked by hand in SQL must be announced the same way (`NOTIFY
casestore_clients, '<client id>'`), or it stays usable from a cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.postgres import PostgresDatastore

from casestore.adapters.persistence.sharing_tables import SideTables

REVOCATIONS_CHANNEL = "casestore_clients"


@dataclass(frozen=True)
class ClientRow:
    client_id: str
    org_id: str
    role: str
    name: str
    token_hash: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None


def client_statements(name: Callable[[str], str]) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {name('clients')} ("
        "client_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, role TEXT NOT NULL, "
        "name TEXT NOT NULL, token_hash TEXT NOT NULL, created_at TEXT NOT NULL, "
        "expires_at TEXT NOT NULL, revoked_at TEXT)",
    ]


class ClientTable(SideTables):
    def add_client(self, row: ClientRow) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._q(
                    f"INSERT INTO {self._t('clients')} (client_id, org_id, role, name, "
                    "token_hash, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                ),
                (
                    row.client_id,
                    row.org_id,
                    row.role,
                    row.name,
                    row.token_hash,
                    row.created_at,
                    row.expires_at,
                ),
            )

    def client(self, client_id: str) -> ClientRow | None:
        row = self._one(f"SELECT * FROM {self._t('clients')} WHERE client_id = %s", (client_id,))
        return None if row is None else _client(row)

    def clients(self) -> list[ClientRow]:
        rows = self._all(f"SELECT * FROM {self._t('clients')} ORDER BY org_id, created_at", ())
        return [_client(r) for r in rows]

    @property
    def broadcasts_revocations(self) -> bool:
        """Whether other processes learn of a revocation (and so may cache clients)."""
        return isinstance(self.datastore, PostgresDatastore)

    def revoke_client(self, client_id: str, at: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._q(
                    f"UPDATE {self._t('clients')} SET revoked_at = %s "
                    "WHERE client_id = %s AND revoked_at IS NULL"
                ),
                (at, client_id),
            )
            if self.broadcasts_revocations:
                cursor.execute("SELECT pg_notify(%s, %s)", (REVOCATIONS_CHANNEL, client_id))


def _client(r: dict[str, str]) -> ClientRow:
    return ClientRow(
        r["client_id"],
        r["org_id"],
        r["role"],
        r["name"],
        r["token_hash"],
        r["created_at"],
        r["expires_at"],
        r["revoked_at"],
    )
