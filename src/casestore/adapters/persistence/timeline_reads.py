"""The reads a kept timeline needs to stay true: what changed in a case since it was folded.

A process keeps a case's timeline folded (casestore.services.timeline) and must learn, at
every read, whether anything it was folded from changed, without reading the case again.
New events raise the case's version; grants given or taken after the fact each leave a
row in the grant history, which is never changed or deleted (grant_history.py), so its
count per case only grows; what an organisation receives at all (its access rows) is read
whole, as it is small (two integers per event) and has no history of its own.
"""

from __future__ import annotations

from casestore.adapters.persistence.backend import Backend


class TimelineReads:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._grants = backend.table("grants")
        self._history = backend.table("grant_history")

    def grant_changes(self, case_id: str) -> int:
        """How many grants of the case were given or taken after their event was written."""
        row = self.backend.one(
            f"SELECT count(*) AS n FROM {self._history} WHERE case_id = %s", (case_id,)
        )
        return 0 if row is None else int(row["n"])

    def grant_texts_after(
        self, org_id: str, case_id: str, version: int
    ) -> list[tuple[str, str, str]]:
        """(event id, grant JSON, basis JSON) of `org_id`'s grants of the case's events
        after `version`, unparsed (as SharingTables.grant_texts, for the newer events only)."""
        rows = self.backend.all(
            f"SELECT event_id, grant_json, basis FROM {self._grants} "
            "WHERE org_id = %s AND case_id = %s AND version > %s ORDER BY version, key_id",
            (org_id, case_id, version),
        )
        return [(str(r["event_id"]), str(r["grant_json"]), str(r["basis"])) for r in rows]
