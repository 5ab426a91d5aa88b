"""The table of API clients: one row per issued bearer token, holding only its hash.

A revocation is announced through the backend in the revoking transaction. On PostgreSQL
it is broadcast on the revocations channel (casestore.adapters.wakeup; the client id as
payload), so API processes that cache clients drop it as the revocation commits
(casestore.adapters.token_cache). The channel is shared by every schema of the database:
another schema's revocation costs a process one needless cache miss. A client revoked by
hand in SQL must be announced the same way (`NOTIFY casestore_clients, '<client id>'`),
or it stays usable from a cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import columns, from_row, stamp, values


@dataclass(frozen=True)
class ClientRow:
    client_id: str
    org_id: str
    role: str
    name: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class ClientTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("clients")

    @property
    def broadcasts_revocations(self) -> bool:
        """Whether other processes learn of a revocation (and so may cache clients)."""
        return self.backend.broadcasts_revocations

    def add(self, row: ClientRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(cursor, "clients", columns(ClientRow), [values(row)])

    def get(self, client_id: str) -> ClientRow | None:
        row = self.backend.one(f"SELECT * FROM {self._name} WHERE client_id = %s", (client_id,))
        return None if row is None else from_row(ClientRow, row)

    def all(self) -> list[ClientRow]:
        rows = self.backend.all(f"SELECT * FROM {self._name} ORDER BY org_id, created_at")
        return [from_row(ClientRow, r) for r in rows]

    def revoke(self, client_id: str, at: datetime) -> None:
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._name} SET revoked_at = %s "
                    "WHERE client_id = %s AND revoked_at IS NULL"
                ),
                (stamp(at), client_id),
            )
            self.backend.announce_revocation(cursor, client_id)
