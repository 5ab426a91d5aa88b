"""Meeting packs hold only what the policy gives each attendee: every content field of the
case carries a marker of its own, and the housing corporation's pack (its HTML and the
text of its PDF) holds no marker of a field the corporation is not granted. The minutes
become the case's casusoverleg event, whose actiepunten can feed the plan."""

from __future__ import annotations

import io
import secrets
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader

from casestore.bootstrap import Services
from casestore.domain.events import EVENT_TYPES
from casestore.entrypoints.web.pack_document import pack_html, pack_pdf
from casestore.services.clients import Client, ClientRole
from casestore.services.meeting_pack import MeetingNotFound, MeetingRefused
from sharing.owned import field_of
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    ZVH,
    Clock,
    fresh_bsn,
    include,
    submit,
)

WONEN = "ymere"  # a woningcorporatie of the demo region


class Markers:
    """A marker per (event, field, owner): text no two fields share."""

    def __init__(self) -> None:
        self.by_place: dict[tuple[str, str, str], str] = {}

    def new(self, event_type: str, field: str, owner: str = "") -> str:
        marker = "MRK" + secrets.token_hex(4).upper()
        self.by_place[(event_type, field, owner)] = marker
        return marker


def _case(services: Services, m: Markers) -> UUID:
    store = services.store
    aanmelding = {
        "bsn": fresh_bsn(),
        "naam": m.new("aanmelding", "naam"),
        "geboortedatum": "1984-05-17",
        "aanmeldreden": m.new("aanmelding", "aanmeldreden"),
        "risico_indicatie": m.new("aanmelding", "risico_indicatie"),
        "huidige_hulpverlening": m.new("aanmelding", "huidige_hulpverlening"),
        "contactpersoon_aanmelder": m.new("aanmelding", "contactpersoon_aanmelder"),
    }
    case_id = store.open_case(submit("aanmelding", aanmelding, GGZ)).case_id
    include(store, case_id)
    store.append(
        case_id,
        submit(
            "netwerkwijziging",
            {"organisatie": WONEN, "wijziging": "toegetreden", "rol_in_casus": "verhuurder"},
            ZVH,
        ),
    )
    store.append(
        case_id,
        submit(
            "signalering",
            {
                "categorie": "terugval",
                "ernst": 3,
                "gevraagde_actie": m.new("signalering", "gevraagde_actie"),
                "toelichting": m.new("signalering", "toelichting"),
                "diagnose": m.new("signalering", "diagnose"),
                "medicatie": m.new("signalering", "medicatie"),
            },
            GGZ,
        ),
    )
    plan = {
        "planversie": 1,
        "doelen": [{"levensdomein": "wonen", "doel": m.new("planwijziging", "doelen")}],
        "acties": [
            {"organisatie": WONEN, "actie": m.new("planwijziging", "acties", WONEN)},
            {"organisatie": FORENSISCH, "actie": m.new("planwijziging", "acties", FORENSISCH)},
        ],
        "casusregisseur_contact": m.new("planwijziging", "casusregisseur_contact"),
        "toelichting": m.new("planwijziging", "toelichting"),
    }
    store.append(case_id, submit("planwijziging", plan, GEMEENTE))
    store.append(
        case_id,
        submit(
            "monitoringsmoment",
            {
                "bevindingen": m.new("monitoringsmoment", "bevindingen"),
                "risico_inschatting": "laag",
            },
            ZVH,
        ),
    )
    store.append(case_id, submit("casusoverleg", _minutes(m, soort="levenslooptafel"), ZVH))
    return case_id


def _minutes(m: Markers, **extra: Any) -> dict[str, Any]:
    return {
        "deelnemers": [ZVH, GEMEENTE, WONEN],
        "besluiten": m.new("casusoverleg", "besluiten"),
        "verslag": m.new("casusoverleg", "verslag"),
        "actiepunten": [
            {
                "organisatie": WONEN,
                "actie": m.new("casusoverleg", "actiepunten", WONEN),
                "termijn": "2026-02-01",
            },
            {"organisatie": GGZ, "actie": m.new("casusoverleg", "actiepunten", GGZ)},
        ],
        **extra,
    }


def regie(services: Services) -> Client:
    return services.clients.add(ZVH, ClientRole.coordinator, "procesregisseur").client


def _granted(services: Services, org: str, case_id: UUID) -> set[tuple[str, str, str]]:
    """What the policy gives `org` of the case: (event type, field, owner) of its grants."""
    found = set()
    for event in services.disclosure.received(org, case_id):
        for name in event.sealed:
            field, owner = field_of(name)
            found.add((event.event_type, field, owner))
    return found


def _visible(place: tuple[str, str, str], granted: set[tuple[str, str, str]]) -> bool:
    event_type, field, owner = place
    if owner and field in EVENT_TYPES.schema_of(event_type).owned_fields():
        return (event_type, field, owner) in granted
    return (event_type, field, "") in granted


def test_the_housing_corporations_pack_holds_no_field_it_may_not_read(
    services: Services, clock: Clock
) -> None:
    markers = Markers()
    case_id = _case(services, markers)
    client = regie(services)
    meeting = services.meetings.plan(
        client,
        soort="levenslooptafel",
        held_on=date(2026, 3, 5),
        title="Levenslooptafel maart",
        attendees=[WONEN, GEMEENTE],
        cases=[str(case_id)],
    )
    pack = services.meetings.pack(client, meeting.meeting_id, WONEN, how="pdf")
    zone = services.sealer.matrix.policy.zone
    html = pack_html(pack, zone)
    pdf_text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pack_pdf(pack, zone))).pages
    )

    granted = _granted(services, WONEN, case_id)
    allowed = {mk for place, mk in markers.by_place.items() if _visible(place, granted)}
    forbidden = set(markers.by_place.values()) - allowed
    assert forbidden and allowed  # the policy withholds some fields and grants others
    for text in (html, pdf_text):
        assert not {mk for mk in forbidden if mk in text}
        assert allowed <= {mk for mk in allowed if mk in text}  # what it is given is there
    # Its own actiepunt of the last meeting, past its termijn; the GGZ's is not its to see.
    [action] = pack.cases[0].actions
    assert (action.organisatie, action.status) == (WONEN, "termijn_verstreken")

    exported = [
        line["entry"]
        for line in services.audit.export()
        if line["entry"]["action"] == "meeting.pack-exported"
    ]
    assert [(e["case"], e["receiver"]) for e in exported] == [(str(case_id), WONEN)]
    assert set(exported[0]["fields"]) <= {field_of(n)[0] for _, n, _ in granted} | {
        n for _, n, _ in granted
    }


def test_the_minutes_become_the_casusoverleg_event_and_feed_the_plan(
    services: Services,
) -> None:
    markers = Markers()
    case_id = _case(services, markers)
    client = regie(services)
    meeting = services.meetings.plan(
        client,
        soort="netwerkoverleg",
        held_on=date(2026, 3, 5),
        title="Netwerkoverleg",
        attendees=[WONEN],
        cases=[str(case_id)],
    )
    minutes = {k: v for k, v in _minutes(markers).items() if k != "soort"}
    recorded = services.meetings.record_minutes(
        client, meeting.meeting_id, str(case_id), minutes, user="voorzitter", into_plan=True
    )
    assert len(recorded) == 2
    history = services.store.history(case_id)
    overleg, plan = history[-2], history[-1]
    assert overleg.event_type == "casusoverleg"
    assert overleg.control["soort"] == "netwerkoverleg"
    assert plan.event_type == "planwijziging" and plan.control["planversie"] == 2
    assert plan.control["actiehouders"] == [WONEN, FORENSISCH, WONEN, GGZ]
    # Posting the same minutes again records nothing new.
    again = services.meetings.record_minutes(
        client, meeting.meeting_id, str(case_id), minutes, user="voorzitter", into_plan=True
    )
    assert [r.replayed for r in again] == [True, True]
    assert len(services.store.history(case_id)) == len(history)


def test_only_coordinators_prepare_and_only_for_attendees(services: Services) -> None:
    markers = Markers()
    case_id = _case(services, markers)
    client = regie(services)
    meeting = services.meetings.plan(
        client,
        soort="levenslooptafel",
        held_on=date(2026, 3, 5),
        title="Tafel",
        attendees=[WONEN],
        cases=[str(case_id)],
    )
    with pytest.raises(MeetingNotFound):
        services.meetings.pack(client, meeting.meeting_id, GEMEENTE, how="api")
    partner = services.clients.add(ZVH, ClientRole.partner_system, "systeem").client
    with pytest.raises(MeetingRefused):
        services.meetings.pack(partner, meeting.meeting_id, WONEN, how="api")
    outsider = services.clients.add("ymere", ClientRole.coordinator, "corporatie").client
    with pytest.raises(MeetingNotFound):
        services.meetings.meeting(outsider, meeting.meeting_id)
