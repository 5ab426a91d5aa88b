"""What the services need of an event recorder beyond the library's ApplicationRecorder.

Both backend recorders subclass the library's application recorder, so events keep its
guarantees (optimistic concurrency per stream, a gap-free global order), and write the
sharing tables' rows of a save, and its audit trail entries (`save(..., audit=[...])`),
in the same transaction as its events. Beside the events
they hand out their backend (for the tables that are not written with events) and the
reads that join the events table (a position, a page of an organisation's feed) and the
events of many aggregates in one read.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from casestore.adapters.persistence.audit_table import AuditTable
from casestore.adapters.persistence.backend import Backend
from casestore.adapters.persistence.sharing_tables import FeedRow, SharingTables


class CaseRecorder:
    backend: Backend
    tables: SharingTables
    audit_table: AuditTable  # the audit trail, chained in a save's transaction
    events_table_name: str  # the library's, unqualified

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        """The global position (notification id) of one stored event."""
        raise NotImplementedError

    def feed_rows(self, org_id: str, after: int, limit: int) -> list[FeedRow]:
        """The stored events `org_id` receives after a position, in global order."""
        raise NotImplementedError

    def events_of(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of many aggregates in one read, each in version order: a run
        over a page of cases reads their histories together, not one query per case."""
        found: dict[UUID, list[StoredEvent]] = {i: [] for i in originator_ids}
        if not originator_ids:
            return found
        marks = ", ".join("%s" for _ in originator_ids)
        rows = self.backend.all(
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {self.backend.library_table(self.events_table_name)} "
            f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version",
            [self.backend.originator(i) for i in originator_ids],
        )
        for row in rows:
            found[UUID(str(row["originator_id"]))].append(
                StoredEvent(
                    originator_id=UUID(str(row["originator_id"])),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
        return found

    def holding(self, originator_ids: Sequence[UUID], topics: Sequence[str]) -> set[UUID]:
        """Which of these aggregates hold an event stored under one of `topics`, in one
        read over the events' primary key: a feed page asks it of its cases, so that only
        the few with such events are loaded whole."""
        if not originator_ids or not topics:
            return set()
        ids = ", ".join("%s" for _ in originator_ids)
        names = ", ".join("%s" for _ in topics)
        rows = self.backend.all(
            f"SELECT DISTINCT originator_id FROM "
            f"{self.backend.library_table(self.events_table_name)} "
            f"WHERE originator_id IN ({ids}) AND topic IN ({names})",
            [*(self.backend.originator(i) for i in originator_ids), *topics],
        )
        return {UUID(str(row["originator_id"])) for row in rows}
