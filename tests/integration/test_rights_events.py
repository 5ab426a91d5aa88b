"""The person's rights as events, through the real services on SQLite and PostgreSQL.

After a correctie no organisation opens the superseded value again: not in its read of
the case, not in its feed, not after the case's grants are reconciled, not even an
organisation the service hosts and opens for. Each read marks the field as corrected,
naming the correctie; the new value opens for whoever the policy grants the correctie's
field. Only the author of the corrected event (or the custodian on the person's request)
corrects it, and only the procesregie records a clientverklaring, bezwaar or beperking.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casestore.bootstrap import Services
from casestore.domain import errors
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    POLITIE,
    ZVH,
    aanmelding,
    everything_read,
    fresh_bsn,
    include,
    netwerk,
    partner_opens,
    plaintexts,
    submit,
)

TEXT_FIELDS = ("gevraagde_actie", "toelichting", "medicatie", "diagnose")
"""The free-text content fields of a signalering, each given a marker of its own."""


def case_with_signal(services: Services, values: dict[str, str]) -> tuple[UUID, str]:
    """An included case with the police in its network and a signalering by the gemeente
    (the casusregisseur) holding `values`; returns the case and the signalering's id."""
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)).case_id
    include(store, case_id)
    store.append(case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    payload = {"categorie": "terugval", "ernst": 3, "gevraagde_actie": "Bellen.", **values}
    signal = store.append(case_id, submit("signalering", payload, GEMEENTE))
    return case_id, signal.event_id


def correctie(target: str, new: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"gebeurtenis": target, "velden": sorted(new), "nieuwe_waarden": new, **more}


def grants_of_event(services: Services, case_id: UUID, event_id: str) -> set[str]:
    rows = services.store.records.tables.grants_of_case(str(case_id))
    return {name for g in rows if g.event_id == event_id for name in g.fields}


# ---- (a) the old value is gone for everyone, the new one is there ---------------------


def test_after_a_correctie_no_organisation_opens_the_old_value_anywhere(
    services: Services,
) -> None:
    old = f"OUD{uuid.uuid4().hex}"
    new = f"NIEUW{uuid.uuid4().hex}"
    case_id, signal = case_with_signal(services, {"toelichting": old})
    before = everything_read(services, case_id)
    readers = {org for org, events in before.items() if old in plaintexts(services, {org: events})}
    assert readers - {GEMEENTE}, "someone besides the author read the old value"
    assert "toelichting" in grants_of_event(services, case_id, signal)

    corrected = services.store.append(
        case_id, submit("correctie", correctie(signal, {"toelichting": new}), GEMEENTE)
    )

    def check() -> None:
        reads = everything_read(services, case_id)
        assert old not in plaintexts(services, reads)
        assert "toelichting" not in grants_of_event(services, case_id, signal)
        marked = [e for events in reads.values() for e in events if e.event_id == signal]
        assert marked, "the corrected event is still received, its header at least"
        for event in marked:
            assert "toelichting" in event.withheld
            assert "toelichting" not in event.sealed
            assert event.corrected == [
                {"field": "toelichting", "reason": "gecorrigeerd", "correctie": corrected.event_id}
            ]
            assert event.to_json()["corrected"] == event.corrected
        # The new value opens for whoever the policy grants the correctie's field.
        opened_new = {
            org
            for org, events in reads.items()
            for e in events
            if e.event_id == corrected.event_id
            and partner_opens(services, org, e).get("nieuwe_waarden") == {"toelichting": new}
        }
        assert {ZVH, GEMEENTE, FORENSISCH} <= opened_new
        assert POLITIE not in opened_new

    check()
    services.grants.reconcile_all("re-grant after a correctie")
    services.grants.reconcile_case(case_id, "once more")
    check()
    history = services.grants.history(case_id)
    assert any(c.reason == f"correctie {corrected.event_id}" for c in history)


def test_a_correctie_keeps_the_fields_it_does_not_name(services: Services) -> None:
    case_id, signal = case_with_signal(
        services, {"toelichting": "Oude toelichting.", "gevraagde_actie": "Huisbezoek."}
    )
    had = grants_of_event(services, case_id, signal)
    assert {"toelichting", "gevraagde_actie"} <= had

    services.store.append(
        case_id, submit("correctie", correctie(signal, {"toelichting": "Nieuw."}), GEMEENTE)
    )

    assert grants_of_event(services, case_id, signal) == had - {"toelichting"}
    read = services.disclosure.read_case(FORENSISCH, case_id)
    [event] = [e for e in read if e.event_id == signal]
    assert partner_opens(services, FORENSISCH, event).get("gevraagde_actie") == "Huisbezoek."


# ---- (b) who may write each type ------------------------------------------------------


def test_only_the_author_or_the_custodian_on_request_corrects(services: Services) -> None:
    store = services.store
    case_id, signal = case_with_signal(services, {"toelichting": "Oud."})
    new = {"toelichting": "Nieuw."}

    for other in (FORENSISCH, POLITIE, GGZ):
        with pytest.raises(errors.CorrectionByOthers):
            store.append(case_id, submit("correctie", correctie(signal, new), other))
    with pytest.raises(errors.CorrectionByOthers):  # the custodian, but not on request
        store.append(case_id, submit("correctie", correctie(signal, new), ZVH))
    with pytest.raises(errors.EventToCorrectNotFound):
        store.append(case_id, submit("correctie", correctie("geen-event", new), GEMEENTE))
    with pytest.raises(errors.NotCorrectable):  # ernst is content; no such field as this
        store.append(case_id, submit("correctie", correctie(signal, {"niveau": 2}), GEMEENTE))
    assert [e.event_type for e in store.history(case_id)][-1] == "signalering"

    store.append(
        case_id,
        submit("correctie", correctie(signal, new, op_verzoek_van_betrokkene=True), ZVH),
    )
    with pytest.raises(errors.AlreadyCorrected):
        store.append(case_id, submit("correctie", correctie(signal, new), GEMEENTE))


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("clientverklaring", {"ontvangen_op": "2026-03-01", "verklaring": "Klopt niet."}),
        (
            "bezwaar",
            {"ingediend_op": "2026-03-01", "besluit": "in_behandeling", "gronden": "Geen."},
        ),
        ("beperking", {"grond": "juistheid_betwist", "ingang": "2026-03-01"}),
    ],
)
def test_only_the_procesregie_records_the_persons_requests(
    services: Services, event_type: str, payload: dict[str, Any]
) -> None:
    store = services.store
    case_id, _ = case_with_signal(services, {"toelichting": "Iets."})

    for other in (GEMEENTE, FORENSISCH, POLITIE, GGZ):
        with pytest.raises(errors.AuthorNotPermitted):
            store.append(case_id, submit(event_type, payload, other))
    recorded = store.append(case_id, submit(event_type, payload, ZVH))

    assert store.history(case_id)[-1].event_id == recorded.event_id


def test_a_decision_on_a_bezwaar_names_one_in_behandeling(services: Services) -> None:
    store = services.store
    case_id, signal = case_with_signal(services, {"toelichting": "Iets."})
    decision = {
        "ingediend_op": "2026-03-01",
        "besluit": "afgewezen",
        "besloten_op": "2026-03-02",
    }
    with pytest.raises(errors.ObjectionNotPending):
        store.append(case_id, submit("bezwaar", {**decision, "bezwaar": signal}, ZVH))
    lodged = store.append(
        case_id,
        submit("bezwaar", {"ingediend_op": "2026-03-01", "besluit": "in_behandeling"}, ZVH),
    )
    store.append(case_id, submit("bezwaar", {**decision, "bezwaar": lodged.event_id}, ZVH))
    with pytest.raises(errors.ObjectionNotPending):  # decided already
        store.append(case_id, submit("bezwaar", {**decision, "bezwaar": lodged.event_id}, ZVH))


# ---- (c) the property -----------------------------------------------------------------


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    present=st.sets(st.sampled_from(TEXT_FIELDS), min_size=1),
    pick=st.lists(st.integers(0, 10), min_size=1, max_size=4),
    on_request=st.booleans(),
    reconcile=st.booleans(),
)
def test_no_corrected_plaintext_reaches_any_organisation(
    services: Services, present: set[str], pick: list[int], on_request: bool, reconcile: bool
) -> None:
    tag = uuid.uuid4().hex[:12]
    values = {name: f"OUD{tag}{name}" for name in sorted(present)}
    case_id, signal = case_with_signal(services, values)
    before = plaintexts(services, everything_read(services, case_id))
    fields = sorted(present)
    chosen = sorted({fields[i % len(fields)] for i in pick})
    new = {name: f"NIEUW{tag}{name}" for name in chosen}
    author, more = (ZVH, {"op_verzoek_van_betrokkene": True}) if on_request else (GEMEENTE, {})

    services.store.append(case_id, submit("correctie", correctie(signal, new, **more), author))
    if reconcile:
        services.grants.reconcile_case(case_id, "property")

    seen = plaintexts(services, everything_read(services, case_id))
    for name in chosen:
        assert values[name] in before, f"{name} was read by no one: the property tests nothing"
        assert values[name] not in seen, f"{name} still readable after its correctie"
    for name in set(fields) - set(chosen):  # what the correctie does not name stays
        assert (values[name] in seen) is (values[name] in before)
