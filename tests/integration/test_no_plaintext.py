"""No plaintext of a sealed field is ever found in a database dump or a log line."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from casestore.adapters.logging import configure
from casestore.bootstrap import Services
from casestore.domain.person import normalised_name
from casestore.entrypoints.demo import FORENSISCH, GEMEENTE, GGZ, POLITIE, WONEN, ZVH
from casestore.services.case_store import Author, CaseStore, Submission
from tests.factories import DOELGROEPCRITERIA, POSTGRES_URL


def marked_lifecycle(store: CaseStore, bsn: str) -> list[str]:
    """A whole case with a unique marker in every free-text content field."""
    tag = uuid.uuid4().hex[:10]
    markers: list[str] = [bsn]

    def m(name: str) -> str:
        marker = f"MARKER{tag}{name}"
        markers.append(marker)
        return marker

    def post(case_id: Any, event_type: str, author: str, payload: dict[str, Any]) -> Any:
        submission = Submission(event_type, payload, Author(author, "tester"))
        if case_id is None:
            return store.open_case(submission).case_id
        return store.append(case_id, submission)

    case_id = post(
        None,
        "aanmelding",
        GGZ,
        {
            "bsn": bsn,
            "naam": m("naam"),
            "geboortedatum": "1980-02-02",
            "aanmeldreden": m("aanmeldreden"),
            "risico_indicatie": m("risico"),
            "huidige_hulpverlening": m("hulp"),
            "contactpersoon_aanmelder": m("contact"),
        },
    )
    vraag = post(
        case_id,
        "bekendheidsvraag",
        ZVH,
        {"organisatie": WONEN, "naam": m("vraagnaam"), "geboortedatum": "1980-02-02"},
    )
    post(
        case_id,
        "bekendheidsantwoord",
        WONEN,
        {
            "vraag": vraag.event_id,
            "organisatie": WONEN,
            "bekend": True,
            "contactpersoon": m("bekendcontact"),
            "toelichting": m("bekendtoelichting"),
        },
    )
    post(
        case_id,
        "informeren_uitgesteld",
        ZVH,
        {"herzien_op": "2026-04-01", "reden": m("uitstelreden"), "grondslag": m("grondslag")},
    )
    post(
        case_id,
        "betrokkene_geinformeerd",
        ZVH,
        {
            "datum": "2026-03-01",
            "door": m("informeerder"),
            "wijze": "brief",
            "toelichting": m("inf"),
        },
    )
    post(
        case_id,
        "triagebesluit",
        ZVH,
        {
            "uitkomst": "inclusietafel",
            "onderbouwing": m("triage"),
            "doelgroepcriteria": {**DOELGROEPCRITERIA, "nah": "voldaan"},
        },
    )
    post(
        case_id,
        "inclusiebesluit",
        ZVH,
        {
            "geincludeerd": True,
            "levensloopaanbieder": FORENSISCH,
            "casusregisseur": GEMEENTE,
            "procesregisseur": ZVH,
            "startniveau": 1,
            "onderbouwing": m("inclusie"),
            "risicotaxatie": m("taxatie"),
        },
    )
    for org in (POLITIE, WONEN):
        post(
            case_id,
            "netwerkwijziging",
            ZVH,
            {
                "organisatie": org,
                "wijziging": "toegetreden",
                "rol_in_casus": "wijkagent" if org == POLITIE else "verhuurder",
                "reden": m(f"reden{org}"),
            },
        )
    post(
        case_id,
        "planwijziging",
        GEMEENTE,
        {
            "planversie": 1,
            "doelen": [{"levensdomein": "wonen", "doel": m("doel")}],
            "acties": [
                {"organisatie": WONEN, "actie": m("actiewonen")},
                {"organisatie": FORENSISCH, "actie": m("actiezorg")},
            ],
            "casusregisseur_contact": m("regiecontact"),
            "toelichting": m("plantoelichting"),
        },
    )
    post(
        case_id,
        "actiestatus",
        WONEN,
        {"planversie": 1, "actie": 1, "status": "niet_uitgevoerd", "reden": m("actiereden")},
    )
    post(
        case_id,
        "kaderwijziging",
        ZVH,
        {
            "kader": "tbs_met_voorwaarden",
            "ingangsdatum": "2026-01-01",
            "einddatum": "2028-01-01",
            "toezichthouder": "reclassering-nederland",
            "voorwaarden": m("voorwaarden"),
        },
    )
    post(
        case_id,
        "risicotaxatie",
        FORENSISCH,
        {
            "datum": "2026-02-01",
            "instrument": "hcr_20v3",
            "beoordelaar": FORENSISCH,
            "uitkomst": "hoog",
            "rapport": m("rapport"),
        },
    )
    signaal = post(
        case_id,
        "signalering",
        FORENSISCH,
        {
            "categorie": "terugval",
            "ernst": 4,
            "gevraagde_actie": m("actie"),
            "toelichting": m("toelichting"),
            "diagnose": m("diagnose"),
            "medicatie": m("medicatie"),
        },
    )
    post(case_id, "opschaling", FORENSISCH, {"niveau": 3, "reden": m("op")})
    post(
        case_id,
        "reactie",
        GEMEENTE,
        {"signalering": signaal.event_id, "opvolging": "opgepakt", "toelichting": m("reactie")},
    )
    post(
        case_id,
        "escalatie",
        GEMEENTE,
        {"gremium": "driehoek", "knelpunt": m("knelpunt"), "besluit": m("escbesluit")},
    )
    post(case_id, "afschaling", FORENSISCH, {"niveau": 2, "reden": m("af")})
    post(
        case_id,
        "casusoverleg",
        ZVH,
        {
            "soort": "netwerkoverleg",
            "voorzitter": ZVH,
            "deelnemers": [ZVH, GEMEENTE],
            "afwezig": [POLITIE],
            "besluiten": m("besluit"),
            "actiepunten": [{"organisatie": WONEN, "actie": m("actiepunt")}],
            "verslag": m("verslag"),
        },
    )
    post(
        case_id,
        "monitoringsmoment",
        GEMEENTE,
        {"bevindingen": m("bevinding"), "risico_inschatting": "laag"},
    )
    post(
        case_id,
        "regiewijziging",
        ZVH,
        {
            "rol": "levensloopaanbieder",
            "van": FORENSISCH,
            "naar": GGZ,
            "contactpersoon": m("regiecontactpersoon"),
            "plaatsvervanger": m("plaatsvervanger"),
            "reden": m("regiereden"),
        },
    )
    post(
        case_id,
        "correctie",
        FORENSISCH,
        {
            "gebeurtenis": signaal.event_id,
            "velden": ["toelichting", "medicatie"],
            "nieuwe_waarden": {"toelichting": m("nieuw"), "medicatie": m("nieuwmedicatie")},
            "toelichting": m("correctie"),
        },
    )
    post(
        case_id,
        "clientverklaring",
        ZVH,
        {"ontvangen_op": "2026-03-01", "verklaring": m("verklaring")},
    )
    bezwaar = post(
        case_id,
        "bezwaar",
        ZVH,
        {"ingediend_op": "2026-03-01", "besluit": "in_behandeling", "gronden": m("gronden")},
    )
    beperking = post(
        case_id,
        "beperking",
        ZVH,
        {"grond": "bezwaar_in_behandeling", "ingang": "2026-03-01", "toelichting": m("beperking")},
    )
    post(
        case_id,
        "beperking_opgeheven",
        ZVH,
        {
            "beperking": beperking.event_id,
            "opgeheven_op": "2026-03-01",
            "betrokkene_geinformeerd_op": "2026-03-01",
            "toelichting": m("opheffing"),
        },
    )
    post(
        case_id,
        "bezwaar",
        ZVH,
        {
            "ingediend_op": "2026-03-01",
            "besluit": "toegewezen",
            "besloten_op": "2026-03-01",
            "bezwaar": bezwaar.event_id,
            "motivering": m("motivering"),
        },
    )
    post(
        case_id,
        "uitstroom",
        ZVH,
        {"reden": "overig", "toelichting": m("uittoelichting"), "nazorg": m("nazorg")},
    )
    post(
        case_id,
        "nazorg",
        ZVH,
        {"herzien_op": "2026-06-01", "tot": "2026-09-01", "afspraken": m("afspraken")},
    )
    post(case_id, "heraanmelding", GEMEENTE, {"reden": m("heraanmelding")})
    return markers


def database_dump(services: Services) -> str:
    url = services.settings.database_url or ""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as connection:
            dump = "\n".join(connection.iterdump())
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        return dump + raw.decode("latin-1")
    schema = parse_qs(urlparse(url).query)["schema"][0]
    result = subprocess.run(  # noqa: S603 - fixed arguments
        ["pg_dump", "--schema", schema, "--dbname", POSTGRES_URL],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert f"{schema}.casestore_events" in result.stdout  # the dump really has the events
    return result.stdout


def test_no_sealed_plaintext_in_the_database_or_the_logs(
    services: Services, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    configure("json", logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    store = services.store
    disclosure = services.disclosure
    markers = marked_lifecycle(store, "666777883")
    case_id = store.records.tables.case_ids()[0]
    # A referral without a BSN: its person is found by a pseudonym of the name, which is
    # kept nowhere in the clear, not even normalised.
    nameless = f"Marker {uuid.uuid4().hex[:10]} Zonder-BSN"
    referral = {
        "naam": nameless,
        "geboortedatum": "1980-02-02",
        "aanmeldreden": "Zorgen.",
        "risico_indicatie": "Onbekend.",
        "contactpersoon_aanmelder": "Wijkteam",
    }
    store.open_case(Submission("aanmelding", referral, Author(GGZ, "tester")))
    markers += [nameless, normalised_name(nameless)]
    for org in (ZVH, GEMEENTE, POLITIE, WONEN, FORENSISCH):
        disclosure.read_case(org, uuid.UUID(case_id), decrypt=org == ZVH)  # reads log too

    logs = capfd.readouterr().err + caplog.text
    assert '"event": "event recorded"' in logs  # the log is really captured
    dump = database_dump(services)
    assert "casestore_grants" in dump
    for marker in markers:
        assert marker not in dump, f"{marker} found in the database dump"
        assert marker not in logs, f"{marker} found in the logs"
