"""The case network: the partners who write to a case and receive its events."""

from __future__ import annotations

from typing import Literal

from casestore.domain.events.fields import LongText, OrganisationId, ShortText
from casestore.domain.events.payload import Payload, control


class Netwerkwijziging(Payload):
    event_type = "netwerkwijziging"
    summary = "A partner joins or leaves the case network."
    organisatie: OrganisationId = control()
    wijziging: Literal["toegetreden", "uitgetreden"] = control()
    rol_in_casus: ShortText
    reden: LongText | None = None
