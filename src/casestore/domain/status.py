"""Where a case stands in the levensloop process.

Its own module because both the aggregate and the event types that move a case from one
status to the next need it, and the event types must not import the aggregate.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    aangemeld = "aangemeld"
    getrieerd = "getrieerd"
    geincludeerd = "geincludeerd"
    afgesloten = "afgesloten"  # ended by triage or inclusion before any trajectory
    uitgestroomd = "uitgestroomd"  # ended after inclusion; retention clock runs


OPEN_STATUSES = frozenset({Status.aangemeld, Status.getrieerd, Status.geincludeerd})
