"""What one organisation receives of a case: headers, control attributes, its grants.

A case the organisation receives nothing of is reported as not found, never as
forbidden, so that asking cannot reveal that a person has a case at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sharing.keys import format_time

INTERNAL_CONTROL = frozenset({"person_id"})  # links a case to the person index only


@dataclass(frozen=True)
class SharedEvent:
    region: str
    case_id: UUID
    version: int
    event_id: str
    event_type: str
    author_org: str
    author_user: str
    occurred_at: datetime
    recorded_at: datetime
    control: dict[str, Any]
    sealed: dict[str, dict[str, Any]]  # sealed field name -> SealedField JSON, granted only
    grants: list[dict[str, Any]]  # this organisation's grants (JSON wire form)
    withheld: list[str]  # content fields of the type this organisation may not read
    content_digests: dict[str, str]  # every sealed field's ciphertext digest (countersigned)
    signature: dict[str, Any] | None  # the author's, over what it submitted
    countersignature: dict[str, Any] | None  # the service's, over the stored form
    position: int  # in the global order: where a feed resumes
    payload: dict[str, Any] | None = field(default=None)  # decrypted, hosted orgs only

    @property
    def context(self) -> dict[str, str]:
        """The readable binding context a partner needs to open the sealed fields."""
        return {
            "region": self.region,
            "case_id": str(self.case_id),
            "event_id": self.event_id,
            "event_type": self.event_type,
        }

    def to_json(self) -> dict[str, Any]:
        """The wire form a partner receives; `sharing.client` opens it."""
        return {
            **self.context,
            "version": self.version,
            "position": self.position,
            "author_org": self.author_org,
            "author_user": self.author_user,
            "occurred_at": format_time(self.occurred_at),
            "recorded_at": format_time(self.recorded_at),
            "control": self.control,
            "sealed": self.sealed,
            "grants": self.grants,
            "withheld": self.withheld,
            "content_digests": self.content_digests,
            "signature": self.signature,
            "countersignature": self.countersignature,
            "payload": self.payload,
        }


def visible_control(control: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in control.items() if k not in INTERNAL_CONTROL}
