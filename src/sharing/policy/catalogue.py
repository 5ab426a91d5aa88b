"""The event catalogue as the policy layer sees it: per event type, which fields exist.

`sharing` knows nothing of cases, so the catalogue arrives as plain data: the application
passes `casestore.domain.catalogue.describe()` through `catalogue_from_description`, and
tests build small catalogues by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sharing.errors import PolicyError


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    """The fields of one event type.

    Control fields stay readable in every header; content fields are sealed per
    recipient; owned fields are content fields whose entries each name an owning
    organisation (so a grant can be limited to the recipient's own entries). Free-text
    fields are content fields that hold (or contain) long free text, which the legal lint
    treats as special data unless the policy says otherwise; BSN fields hold a
    burgerservicenummer, which only some organisations may process.
    """

    content_fields: frozenset[str]
    control_fields: frozenset[str] = frozenset()
    owned_fields: frozenset[str] = frozenset()
    free_text_fields: frozenset[str] = frozenset()
    bsn_fields: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if both := self.content_fields & self.control_fields:
            raise ValueError(f"fields both content and control: {sorted(both)}")
        for kind, fields in (
            ("owned", self.owned_fields),
            ("free-text", self.free_text_fields),
            ("BSN", self.bsn_fields),
        ):
            if stray := fields - self.content_fields:
                raise ValueError(f"{kind} fields must be content fields: {sorted(stray)}")


Catalogue = Mapping[str, EventTypeSpec]


def catalogue_from_description(
    description: Mapping[str, Mapping[str, Any]],
) -> dict[str, EventTypeSpec]:
    """Build the catalogue from the data form (event type → control, content, owned,
    free-text and BSN fields)."""
    try:
        return {
            event_type: EventTypeSpec(
                content_fields=frozenset(spec["content_fields"]),
                control_fields=frozenset(spec.get("control_fields", ())),
                owned_fields=frozenset(spec.get("owned_fields", ())),
                free_text_fields=frozenset(spec.get("free_text_fields", ())),
                bsn_fields=frozenset(spec.get("bsn_fields", ())),
            )
            for event_type, spec in description.items()
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"malformed event catalogue: {exc}") from None
