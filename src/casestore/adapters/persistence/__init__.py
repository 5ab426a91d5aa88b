"""Storage: the eventsourcing recorders, extended with what the case record needs.

Each backend module subclasses the library's application recorder, so events keep the
library's guarantees (optimistic concurrency per stream, a gap-free global order) and
our extra tables are written in the same transaction as the events they belong to.
"""

from __future__ import annotations

from uuid import UUID

from casestore.adapters.persistence.client_table import ClientTable, client_statements
from casestore.adapters.persistence.sharing_tables import FeedRow, create_statements
from casestore.adapters.persistence.subscription_table import (
    SubscriptionTable,
    subscription_statements,
)


class CaseRecorder(ClientTable, SubscriptionTable):
    """What the application needs beyond the library's ApplicationRecorder; both backend
    recorders provide it."""

    def table_statements(self) -> list[str]:
        """DDL of every table beside the events, for this backend's names."""
        return [
            *create_statements(self._t),
            *client_statements(self._t),
            *subscription_statements(self._t),
        ]

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        """The global position (notification id) of one stored event."""
        raise NotImplementedError

    def feed_rows(self, org_id: str, after: int, limit: int) -> list[FeedRow]:
        """The stored events `org_id` receives after a position, in global order."""
        raise NotImplementedError
