"""The event types of the levensloop process: one class each, registered by name.

    registry.py   EventTypes, the types by name; `event_type`, the decorator that adds one
    payload.py    Payload, what one type is: schema, control/content split, guard, evolve
    fields.py     the field types and vocabularies payloads share
    intake.py     aanmelding, bekendheidsvraag, bekendheidsantwoord, triagebesluit,
                  inclusiebesluit
    informing.py  betrokkene_geinformeerd, informeren_uitgesteld
    legal.py      kaderwijziging, risicotaxatie
    network.py    netwerkwijziging, regiewijziging
    conditions.py toestemming, toestemming_ingetrokken, conflict_van_plichten
    plan.py       planwijziging, actiestatus
    care.py       signalering, reactie, opschaling, afschaling, casusoverleg, escalatie,
                  monitoringsmoment
    closing.py    uitstroom, nazorg, heraanmelding
    rights.py     correctie, clientverklaring, bezwaar, beperking

Importing this package registers every type in `EVENT_TYPES`. The phases are imported
in the order of the process, which is the order the catalogue lists the types in.
"""

from casestore.domain.events.payload import CONTROL, OWNED_BY, Payload, control
from casestore.domain.events.registry import EVENT_TYPES, EventTypes, event_type

# isort: off
from casestore.domain.events import (  # noqa: F401
    intake,
    informing,
    legal,
    network,
    conditions,
    plan,
    care,
    closing,
    rights,
)
# isort: on

__all__ = [
    "CONTROL",
    "EVENT_TYPES",
    "OWNED_BY",
    "EventTypes",
    "Payload",
    "control",
    "event_type",
]
