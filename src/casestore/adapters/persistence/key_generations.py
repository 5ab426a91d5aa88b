"""Organisations' published key generations, and the counter that says the set changed.

Only public keys are kept: a generation's private half goes to a file its operator names
(casestore.services.keys). Every change raises `casestore_key_set.version` in its own
transaction, so a process that remembers the version it loaded can tell with one
single-row read whether its keys are still the store's (casestore.adapters.keyring).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.rows import columns, from_row, stamp, values


@dataclass(frozen=True)
class GenerationRow:
    org_id: str
    generation: int
    enc_key_id: str
    enc_public_key: str  # base64
    sign_key_id: str
    sign_public_key: str  # base64
    valid_from: datetime  # not before
    confirmed_at: datetime | None = None  # the organisation said it holds the private half
    retired_at: datetime | None = None  # no longer granted to from this moment


class KeyGenerationTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("key_generations")
        self._set = backend.table("key_set")

    def version(self) -> int:
        row = self.backend.one(f"SELECT version FROM {self._set} WHERE id = 1")
        return int(row["version"]) if row is not None else 0

    def all(self) -> tuple[int, list[GenerationRow]]:
        """The version and every generation, read together."""
        with self.backend.reading() as cursor:
            cursor.execute(self.backend.sql(f"SELECT version FROM {self._set} WHERE id = 1"))
            row = cursor.fetchone()
            cursor.execute(
                self.backend.sql(f"SELECT * FROM {self._name} ORDER BY org_id, generation")
            )
            rows = [from_row(GenerationRow, r) for r in cursor.fetchall()]
        return (int(row["version"]) if row is not None else 0), rows

    def of(self, org_id: str) -> list[GenerationRow]:
        found = self.backend.all(
            f"SELECT * FROM {self._name} WHERE org_id = %s ORDER BY generation", (org_id,)
        )
        return [from_row(GenerationRow, r) for r in found]

    def add(self, rows: list[GenerationRow]) -> None:
        """Insert generations; a number already taken (a concurrent rotation) fails the
        whole insert with the database's integrity error."""
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(cursor, "key_generations", columns(GenerationRow), values_of(rows))
            self._bump(cursor)

    def confirm(self, org_id: str, generation: int, at: datetime) -> None:
        """Mark `generation` confirmed and retire every older generation still in use."""
        with self.backend.transaction(commit=True) as cursor:
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._name} SET confirmed_at = %s "
                    "WHERE org_id = %s AND generation = %s AND confirmed_at IS NULL"
                ),
                (stamp(at), org_id, generation),
            )
            cursor.execute(
                self.backend.sql(
                    f"UPDATE {self._name} SET retired_at = %s "
                    "WHERE org_id = %s AND generation < %s AND retired_at IS NULL"
                ),
                (stamp(at), org_id, generation),
            )
            self._bump(cursor)

    def _bump(self, cursor: Cursor) -> None:
        cursor.execute(
            self.backend.sql(f"UPDATE {self._set} SET version = version + 1 WHERE id = 1")
        )


def values_of(rows: list[GenerationRow]) -> list[tuple[object, ...]]:
    return [values(row) for row in rows]
