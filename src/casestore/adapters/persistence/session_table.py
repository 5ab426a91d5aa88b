"""Sessions of the web pages: one row per login, holding only a hash of the cookie.

The cookie's value is a random secret shown to the browser alone; a database dump yields
no usable session. A row is never deleted while it could still be presented: ending a
session stamps `ended_at`, so a stolen cookie stays refused after logout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import columns, from_row, stamp, values


@dataclass(frozen=True)
class SessionRow:
    session_hash: str
    client_id: str
    org_id: str
    role: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None


class SessionTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("web_sessions")

    def add(self, row: SessionRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(cursor, "web_sessions", columns(SessionRow), [values(row)])

    def get(self, session_hash: str) -> SessionRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._name} WHERE session_hash = %s", (session_hash,)
        )
        return None if row is None else from_row(SessionRow, row)

    def seen(self, session_hash: str, at: datetime) -> None:
        self.backend.write(
            f"UPDATE {self._name} SET last_seen_at = %s WHERE session_hash = %s",
            (stamp(at), session_hash),
        )

    def end(self, session_hash: str, at: datetime) -> None:
        self.backend.write(
            f"UPDATE {self._name} SET ended_at = %s WHERE session_hash = %s AND ended_at IS NULL",
            (stamp(at), session_hash),
        )
