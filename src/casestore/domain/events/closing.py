"""The end of a case, after which the retention clock runs."""

from __future__ import annotations

from casestore.domain.events.fields import LongText, UitstroomReden
from casestore.domain.events.payload import Payload


class Uitstroom(Payload):
    event_type = "uitstroom"
    summary = "The case ends; the retention clock starts."
    reden: UitstroomReden
    toelichting: LongText | None = None
    nazorg: LongText | None = None
