"""The table of API clients: one row per issued bearer token, holding only its hash."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from casestore.persistence.side_tables import SideTables


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

    def revoke_client(self, client_id: str, at: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._q(
                    f"UPDATE {self._t('clients')} SET revoked_at = %s "
                    "WHERE client_id = %s AND revoked_at IS NULL"
                ),
                (at, client_id),
            )


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
