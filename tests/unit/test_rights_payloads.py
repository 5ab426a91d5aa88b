"""The rights events' payloads: a correctie carries a new value for exactly the fields it
names, and a decision on a bezwaar is dated while one in behandeling is not."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from casestore.domain.catalogue import parse_payload
from casestore.domain.errors import PayloadInvalid

TODAY = date(2026, 3, 2)


def refused(event_type: str, payload: dict[str, Any]) -> str:
    with pytest.raises(PayloadInvalid) as caught:
        parse_payload(event_type, payload, today=TODAY)
    return str(caught.value)


@pytest.mark.parametrize(
    ("velden", "nieuwe_waarden"),
    [
        (["toelichting"], {"medicatie": "Geen."}),
        (["toelichting", "medicatie"], {"toelichting": "Nieuw."}),
        (["toelichting", "toelichting"], {"toelichting": "Nieuw."}),
    ],
)
def test_a_correctie_names_each_field_once_with_its_new_value(
    velden: list[str], nieuwe_waarden: dict[str, Any]
) -> None:
    message = refused(
        "correctie", {"gebeurtenis": "e-1", "velden": velden, "nieuwe_waarden": nieuwe_waarden}
    )

    assert "nieuwe_waarden" in message or "velden names a field twice" in message


def test_a_correctie_may_carry_structured_new_values() -> None:
    payload = parse_payload(
        "correctie",
        {
            "gebeurtenis": "e-1",
            "velden": ["deelnemers"],
            "nieuwe_waarden": {"deelnemers": ["zvh-amsterdam-amstelland", "arkin"]},
        },
        today=TODAY,
    )

    assert payload.control_values() == {
        "gebeurtenis": "e-1",
        "velden": ["deelnemers"],
        "op_verzoek_van_betrokkene": False,
    }
    assert set(payload.content_values()) == {"nieuwe_waarden", "toelichting"}


@pytest.mark.parametrize(
    "payload",
    [
        {"ingediend_op": "2026-03-01", "besluit": "afgewezen"},
        {"ingediend_op": "2026-03-01", "besluit": "in_behandeling", "besloten_op": "2026-03-01"},
        {"ingediend_op": "2026-03-01", "besluit": "in_behandeling", "bezwaar": "e-1"},
    ],
)
def test_only_a_decision_on_a_bezwaar_has_a_date(payload: dict[str, Any]) -> None:
    refused("bezwaar", payload)


def test_a_bezwaar_is_not_lodged_in_the_future() -> None:
    assert "ingediend_op" in refused(
        "bezwaar", {"ingediend_op": "2026-03-03", "besluit": "in_behandeling"}
    )
