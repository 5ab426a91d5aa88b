"""Sharing switched off — FOR THE BENCH ONLY.

`NoSharing` exists for one reason: to measure what sharing costs an append, by running the
very same `CaseStore` with and without it. It stores the content *unsealed* (plaintext in
the event, no grants, no escrows, no access rows), which the real service must never do
(DESIGN.md: "Plaintext of payload fields never reaches the database"). Nothing outside
bench/ imports it, and it must stay that way.

Everything else of `Sharing` is inherited unchanged, so an append without sharing still
checks the author's document and signature, fetches the (cached) case key and countersigns
the stored event: the difference between the two runs is policy lookup, sealing and the
sharing rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from casestore.adapters.persistence.sharing_tables import SideRows
from casestore.services.sealing import Sealed, Sealer
from sharing.policy import CaseContext


class NoSharing(Sealer):
    """A `Sharing` whose `seal` returns the content as it came: bench-only, see above."""

    @classmethod
    def replacing(cls, sealer: Sealer) -> NoSharing:
        """The same policy, keys, master key and case-key cache as `sharing`."""
        unsealed = cls.__new__(cls)
        unsealed.__dict__.update(vars(sealer))
        return unsealed

    def seal(
        self,
        *,
        case_id: str,
        version: int,
        event_id: str,
        event_type: str,
        author: str,
        network: Iterable[str] | CaseContext,
        plaintexts: Mapping[str, bytes],
        case_key: bytes,
        now: datetime,
    ) -> Sealed:
        return Sealed({name: data.decode() for name, data in plaintexts.items()}, SideRows())
