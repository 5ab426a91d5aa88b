"""What the region's policy document says of the process besides the sharing: the names
and settings of its care levels, and how long a case is stable before it may end as such.

The domain keeps to what every region shares (levels 1 … 4, up and down); the service
applies these settings as an event is written, from the policy version in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from casestore.domain import errors, stability
from casestore.domain.case import Case
from casestore.domain.events import Payload
from casestore.domain.events.care import Schaling
from casestore.domain.events.closing import Uitstroom
from casestore.domain.events.fields import UitstroomReden
from casestore.domain.status import Status
from sharing.policy.law import add_months
from sharing.policy.model import Region

if TYPE_CHECKING:  # the store applies these settings, and lists candidates through them
    from casestore.services.case_store import CaseStore


def check_setting(region: Region, payload: Payload) -> None:
    """An op- or afschaling that names a setting names one of its level's in the region."""
    if not isinstance(payload, Schaling) or payload.setting is None:
        return
    care = region.care_level(payload.niveau)
    if care is not None and payload.setting.value not in care.settings:
        allowed = " / ".join(care.settings)
        raise errors.PayloadInvalid(
            payload.event_type,
            [
                errors.FieldProblem(
                    "setting", f"level {payload.niveau} here is {care.name}: one of {allowed}"
                )
            ],
        )


def stable_since(events: Sequence[Case.Event]) -> datetime:
    """Since when the case has been stable: its last unsettling event (or its opening)."""
    since = stability.stable_since((e.event_type, e.occurred_at, e.control) for e in events)
    return events[0].occurred_at if since is None else since


def stable_long_enough(region: Region, events: Sequence[Case.Event], on: datetime) -> bool:
    """Whether the case is an uitstroom candidate as stable on `on`."""
    if region.stability_months is None:
        return False
    return add_months(stable_since(events), region.stability_months) <= on


def check_uitstroom(
    region: Region, payload: Payload, events: Sequence[Case.Event], on: datetime
) -> None:
    """An uitstroom gives `stabiel` only for a case stable for the region's term."""
    if not isinstance(payload, Uitstroom) or payload.reden is not UitstroomReden.stabiel:
        return
    if not stable_long_enough(region, events, on):
        raise errors.NotStableLongEnough(
            region.stability_months, stable_since(events).date().isoformat()
        )


def uitstroom_candidates(store: CaseStore, on: datetime) -> list[tuple[str, datetime]]:
    """The included cases stable for the region's term on `on`, each with the moment it
    has been stable since: candidates for an uitstroom as `stabiel`. Reads every case's
    control attributes, never content."""
    region = store.sealer.matrix.policy.region
    if region.stability_months is None:
        return []
    found = []
    for case_id in store.records.tables.case_ids():
        case = store.case(UUID(case_id))
        if case.destroyed or case.status is not Status.geincludeerd:
            continue
        events = store.history(UUID(case_id))
        if stable_long_enough(region, events, on):
            found.append((case_id, stable_since(events)))
    return found
