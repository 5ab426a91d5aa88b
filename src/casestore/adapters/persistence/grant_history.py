"""The history of grants changed after the fact: when, for which event and key, and why.

A grant sealed with its event needs no history row: the grants table holds it with the
rules and grounds it rests on. What changes later leaves no trace there, so every
re-grant and revocation — by a reconciliation after a policy change, a key rotation or a
rule's validity ending, or by shredding — is written here, in the transaction that makes
it (casestore.adapters.persistence.sharing_tables.SharingTables.change_grants). Rows are
never changed or deleted, shredding included: they hold no key material and no content,
only that an organisation could, or could no longer, open some fields of an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.rows import from_row

GRANTED = "granted"
REVOKED = "revoked"


@dataclass(frozen=True)
class GrantChangeRow:
    changed_at: datetime
    case_id: str
    version: int
    event_id: str
    org_id: str
    key_id: str
    change: str  # granted | revoked
    policy_version: str  # in force when the change was made
    rules: str  # the rules the grant rests (or rested) on, comma-separated
    reason: str  # e.g. "rule monitoring-pilot-reclassering expired (valid until 2026-12-31)"


class GrantHistoryTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("grant_history")

    def of_case(self, case_id: str) -> list[GrantChangeRow]:
        """Oldest first; within one change, a grant's revocation before its replacement."""
        rows = self.backend.all(
            f"SELECT * FROM {self._name} WHERE case_id = %s "
            "ORDER BY changed_at, version, org_id, key_id, change DESC",
            (case_id,),
        )
        return [from_row(GrantChangeRow, r) for r in rows]
