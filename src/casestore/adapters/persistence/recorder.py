"""What the services need of an event recorder beyond the library's ApplicationRecorder.

Both backend recorders subclass the library's application recorder, so events keep its
guarantees (optimistic concurrency per stream, a gap-free global order), and write the
sharing tables' rows of a save, and its audit trail entries (`save(..., audit=[...])`),
in the same transaction as its events. Beside the events
they hand out their backend (for the tables that are not written with events) and the
two reads that join the events table: a position, and a page of an organisation's feed.
"""

from __future__ import annotations

from uuid import UUID

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
