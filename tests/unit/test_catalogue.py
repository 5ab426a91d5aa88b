"""The event catalogue: what each event type accepts, and how it says no.

Every refusal names the field it is about and never repeats what was submitted: the
message may reach a partner's logs, and the submitted value may be personal data.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from casestore.domain.catalogue import (
    content_fields,
    control_fields,
    describe,
    parse_payload,
    schema_of,
)
from casestore.domain.errors import InvalidBsn, PayloadInvalid, UnknownEventType
from casestore.domain.events import CONTROL, EVENT_TYPES

TODAY = date(2026, 3, 2)

REALISTIC: dict[str, dict[str, Any]] = {
    "aanmelding": {
        "bsn": "111222333",
        "naam": "J. de Vries",
        "geboortedatum": "1984-06-12",
        "aanmeldreden": "Herhaaldelijk dreigend gedrag richting buren na stoppen met medicatie.",
        "risico_indicatie": "Hoog: eerdere geweldsincidenten, wapenbezit niet uitgesloten.",
        "huidige_hulpverlening": "FACT-team GGZ Noord, sinds 2023 zorgmijdend.",
        "contactpersoon_aanmelder": "Wijkagent P. Jansen",
    },
    "triagebesluit": {
        "uitkomst": "inclusietafel",
        "onderbouwing": "Voldoet aan doelgroepcriteria; meerdere domeinen geraakt.",
        "doelgroepcriteria": {
            "psychiatrische_stoornis": "voldaan",
            "lvb": "voldaan",
            "nah": "niet_voldaan",
            "verslaving": "onbekend",
            "meerderjarig": "voldaan",
            "gevaar_risicotaxatie": "voldaan",
            "dwangkader": "voldaan",
            "politie_justitie": "voldaan",
            "multiproblematiek": "voldaan",
        },
    },
    "inclusiebesluit": {
        "geincludeerd": True,
        "levensloopaanbieder": "ggz-noord",
        "casusregisseur": "gemeente-zuid",
        "procesregisseur": "zvh-zuid",
        "startniveau": 2,
        "onderbouwing": "Langdurige begeleiding nodig; netwerk is bereid.",
        "risicotaxatie": "HKT-R: verhoogd risico op geweld.",
    },
    "netwerkwijziging": {
        "organisatie": "woonstad",
        "wijziging": "toegetreden",
        "rol_in_casus": "verhuurder",
        "reden": "Dreigende huisuitzetting.",
    },
    "toestemming": {
        "ontvangers": ["zvh-zuid", "gemeente-zuid"],
        "gebeurtenistypen": ["aanmelding"],
        "gegeven_door": "betrokkene",
        "gegeven_op": "2026-02-20",
        "geldig_tot": "2026-08-20T00:00:00+02:00",
        "motivering": "Betrokkene wil dat het zorg- en veiligheidshuis de aanmelding ziet.",
    },
    "toestemming_ingetrokken": {
        "toestemming": "evt-toestemming",
        "ingetrokken_op": "2026-02-21",
        "toelichting": "Betrokkene trekt de toestemming in na het gesprek.",
    },
    "conflict_van_plichten": {
        "ontvangers": ["politie-zuid"],
        "gebeurtenistypen": ["opschaling"],
        "geldig_tot": "2026-04-01T00:00:00+02:00",
        "afweging": "Ernstig gevaar voor de buren; alleen zo af te wenden.",
    },
    "planwijziging": {
        "planversie": 1,
        "doelen": [
            {"levensdomein": "wonen", "doel": "Behoud van de huidige woning."},
            {"levensdomein": "gezondheid", "doel": "Depotmedicatie volhouden."},
        ],
        "acties": [
            {"organisatie": "ggz-noord", "actie": "Tweewekelijks depot.", "termijn": "2026-04-01"},
            {
                "organisatie": "woonstad",
                "actie": "Gesprek over huurachterstand.",
                "termijn": "2026-03-16",
            },
        ],
        "casusregisseur_contact": "M. Bakker, gemeente Zuid",
        "toelichting": "Eerste integrale plan.",
    },
    "signalering": {
        "categorie": "terugval",
        "ernst": 3,
        "gevraagde_actie": "Huisbezoek binnen 48 uur.",
        "toelichting": "Buren melden nachtelijk geschreeuw.",
        "diagnose": "Paranoïde schizofrenie",
        "medicatie": "Haloperidol depot",
    },
    "opschaling": {"niveau": 3, "reden": "Toename dreiging, crisisopvang nodig."},
    "afschaling": {"niveau": 1, "reden": "Stabiel sinds drie maanden."},
    "casusoverleg": {
        "soort": "levenslooptafel",
        "deelnemers": ["ggz-noord", "politie-zuid", "zvh-zuid"],
        "besluiten": "Opschalen naar niveau 3; woonstad aanhaken.",
        "verslag": "Uitgebreid besproken in het casusoverleg van maandag.",
    },
    "monitoringsmoment": {
        "bevindingen": "Dagbesteding loopt, contact met familie hersteld.",
        "risico_inschatting": "laag",
        "volgende_moment": "2026-06-01",
    },
    "uitstroom": {
        "reden": "doelen_bereikt",
        "toelichting": "Alle doelen uit het plan bereikt.",
        "nazorg": "Huisarts en POH-GGZ houden contact.",
    },
    "bekendheidsvraag": {
        "organisatie": "ggz-noord",
        "naam": "J. de Vries",
        "geboortedatum": "1984-06-12",
        "antwoord_gevraagd_voor": "2026-03-06",
    },
    "bekendheidsantwoord": {
        "vraag": "evt-vraag-1",
        "organisatie": "ggz-noord",
        "bekend": True,
        "contactpersoon": "S. Yilmaz, FACT-team Noord",
        "toelichting": "In zorg geweest 2019-2022.",
    },
    "betrokkene_geinformeerd": {
        "datum": "2026-03-01",
        "door": "A. Visser, procesregisseur",
        "wijze": "gesprek",
        "toelichting": "Folder meegegeven.",
    },
    "informeren_uitgesteld": {
        "herzien_op": "2026-04-01",
        "reden": "Informeren nu zou de dreiging verhogen.",
        "grondslag": "UAVG art. 41 lid 1 sub c",
    },
    "kaderwijziging": {
        "kader": "bijzondere_voorwaarden",
        "ingangsdatum": "2026-01-15",
        "einddatum": "2028-01-15",
        "toezichthouder": "reclassering",
        "voorwaarden": "Meewerken aan ambulante behandeling; contactverbod.",
    },
    "risicotaxatie": {
        "datum": "2026-02-20",
        "instrument": "hkt_r",
        "beoordelaar": "ggz-noord",
        "uitkomst": "matig",
        "rapport": "HKT-R 2026-02, dossier FACT Noord",
    },
    "regiewijziging": {
        "rol": "levensloopaanbieder",
        "van": "ggz-noord",
        "naar": "forensisch-oost",
        "contactpersoon": "R. de Boer",
        "plaatsvervanger": "L. Smit",
        "reden": "Forensische zorg past beter bij de voorwaarden.",
    },
    "actiestatus": {
        "planversie": 1,
        "actie": 2,
        "status": "niet_mogelijk",
        "reden": "Betrokkene niet thuis getroffen na drie pogingen.",
    },
    "reactie": {
        "signalering": "evt-signaal-1",
        "opvolging": "opgepakt",
        "toelichting": "Huisbezoek gepland voor morgen.",
    },
    "escalatie": {
        "gremium": "stuurgroep_zvh",
        "termijn": "2026-04-15",
        "knelpunt": "Geen passende woonvoorziening beschikbaar.",
        "besluit": "Wethouder vraagt de corporaties om een urgentie.",
    },
    "nazorg": {
        "herzien_op": "2026-09-01",
        "tot": "2027-03-01",
        "afspraken": "Huisarts belt de casusregisseur bij zorgen.",
    },
    "heraanmelding": {"reden": "Terugval na verhuizing; medicatie gestopt."},
    "correctie": {
        "gebeurtenis": "3f0c9e2a-signalering",
        "velden": ["toelichting"],
        "op_verzoek_van_betrokkene": True,
        "nieuwe_waarden": {"toelichting": "Het ging om een buurman, niet om de ex-partner."},
        "toelichting": "Betrokkene wees op de vergissing.",
    },
    "clientverklaring": {
        "ontvangen_op": "2025-05-02",
        "betreft": ["3f0c9e2a-signalering"],
        "verklaring": "Ik heb niemand bedreigd.",
    },
    "bezwaar": {
        "ingediend_op": "2025-05-02",
        "besluit": "afgewezen",
        "besloten_op": "2025-05-20",
        "bezwaar": "7d1e-bezwaar",
        "gronden": "Geen deling met de woningcorporatie.",
        "motivering": "Alleen wat de huur betreft; dat is nodig.",
    },
    "beperking": {
        "grond": "juistheid_betwist",
        "ingang": "2025-05-02",
        "tot": "2025-06-30",
        "toelichting": "Tot de correctie is beoordeeld.",
    },
    "beperking_opgeheven": {
        "beperking": "5b2a-beperking",
        "opgeheven_op": "2025-05-20",
        "betrokkene_geinformeerd_op": "2025-05-16",
        "toelichting": "De correctie is beoordeeld en doorgevoerd.",
    },
}

EXPECTED_CONTROL_FIELDS: dict[str, tuple[str, ...]] = {
    "aanmelding": (),
    "triagebesluit": ("uitkomst", "afsluitreden"),
    "inclusiebesluit": (
        "geincludeerd",
        "levensloopaanbieder",
        "casusregisseur",
        "procesregisseur",
        "startniveau",
        "afsluitreden",
    ),
    "netwerkwijziging": ("organisatie", "wijziging", "rol_in_casus"),
    "toestemming": (
        "ontvangers",
        "gebeurtenistypen",
        "regels",
        "gegeven_door",
        "gegeven_op",
        "geldig_tot",
    ),
    "toestemming_ingetrokken": ("toestemming", "ingetrokken_op"),
    "conflict_van_plichten": (
        "ontvangers",
        "gebeurtenistypen",
        "regels",
        "gebeurtenissen",
        "geldig_tot",
    ),
    "planwijziging": ("planversie",),
    "signalering": (),
    "opschaling": ("niveau", "casusoverleg", "signalering"),
    "afschaling": ("niveau", "casusoverleg", "signalering"),
    "casusoverleg": ("soort", "signalering"),
    "monitoringsmoment": (),
    "uitstroom": (),
    "bekendheidsvraag": ("organisatie",),
    "bekendheidsantwoord": ("vraag", "organisatie"),
    "betrokkene_geinformeerd": ("datum",),
    "informeren_uitgesteld": ("herzien_op",),
    "kaderwijziging": ("kader", "ingangsdatum", "einddatum"),
    "risicotaxatie": ("datum",),
    "regiewijziging": ("rol", "van", "naar"),
    "actiestatus": ("planversie", "actie", "status"),
    "reactie": ("signalering", "opvolging"),
    "escalatie": ("gremium", "termijn"),
    "nazorg": ("herzien_op", "tot"),
    "heraanmelding": (),
    "correctie": ("gebeurtenis", "velden", "op_verzoek_van_betrokkene"),
    "clientverklaring": ("ontvangen_op", "betreft"),
    "bezwaar": ("ingediend_op", "besluit", "besloten_op", "bezwaar", "tegen"),
    "beperking": ("grond", "ingang", "tot"),
    "beperking_opgeheven": ("beperking", "opgeheven_op", "betrokkene_geinformeerd_op"),
}

NEGATIVE_INCLUSION = {
    "geincludeerd": False,
    "afsluitreden": "andere_aanpak_passend",
    "onderbouwing": "Andere aanpak volstaat.",
}
REGIE_AND_LEVEL = ("levensloopaanbieder", "casusregisseur", "procesregisseur", "startniveau")


def realistic(event_type: str, **changes: Any) -> dict[str, Any]:
    return {**REALISTIC[event_type], **changes}


def without(event_type: str, field: str) -> dict[str, Any]:
    return {k: v for k, v in REALISTIC[event_type].items() if k != field}


def refusal(event_type: str, data: Any, *, today: date = TODAY) -> PayloadInvalid:
    with pytest.raises(PayloadInvalid) as caught:
        parse_payload(event_type, data, today=today)
    assert caught.value.event_type == event_type
    return caught.value


def fields_of(problem: PayloadInvalid) -> set[str]:
    return {p.field for p in problem.problems}


def required_fields() -> list[tuple[str, str]]:
    return [
        (event_type, name)
        for event_type, schema in EVENT_TYPES.items()
        for name, info in schema.model_fields.items()
        if info.is_required()
    ]


# ---- the catalogue as a whole -------------------------------------------------------


def test_the_catalogue_holds_the_thirty_one_event_types_of_the_process() -> None:
    assert set(EVENT_TYPES) == set(REALISTIC)
    assert len(EVENT_TYPES) == 31


@pytest.mark.parametrize("event_type", sorted(REALISTIC))
def test_each_event_type_accepts_a_realistic_payload(event_type: str) -> None:
    payload = parse_payload(event_type, REALISTIC[event_type], today=TODAY)

    assert payload.event_type == event_type
    assert isinstance(payload, schema_of(event_type))
    dumped = payload.model_dump(mode="json")
    assert {name: dumped[name] for name in REALISTIC[event_type]} == REALISTIC[event_type]


@pytest.mark.parametrize("event_type", sorted(REALISTIC))
def test_parsed_values_split_into_control_and_content(event_type: str) -> None:
    payload = parse_payload(event_type, REALISTIC[event_type], today=TODAY)

    control = payload.control_values()
    content = payload.content_values()

    assert tuple(control) == EXPECTED_CONTROL_FIELDS[event_type]
    assert set(content) == set(content_fields(event_type))
    assert {**control, **content} == payload.model_dump(mode="json")


def test_the_catalogue_marks_free_text_wherever_it_is_and_the_bsn() -> None:
    described = describe()

    assert described["aanmelding"]["bsn_fields"] == ["bsn"]
    assert described["signalering"]["free_text_fields"] == [
        "gevraagde_actie",
        "toelichting",
        "diagnose",
        "medicatie",
    ]
    # Inside a list of parts: each goal and each action is free text.
    assert described["planwijziging"]["free_text_fields"] == ["doelen", "acties", "toelichting"]
    # Short text (a name, a contact) and vocabularies are not free text; nor is the header.
    assert "naam" not in described["aanmelding"]["free_text_fields"]
    assert described["opschaling"]["free_text_fields"] == ["reden"]
    for spec in described.values():
        assert set(spec["free_text_fields"]) <= set(spec["content_fields"])
        assert spec["bsn_fields"] == [] or spec["bsn_fields"] == ["bsn"]


def test_control_values_are_plain_json() -> None:
    payload = parse_payload("inclusiebesluit", REALISTIC["inclusiebesluit"], today=TODAY)

    assert payload.control_values() == {
        "geincludeerd": True,
        "levensloopaanbieder": "ggz-noord",
        "casusregisseur": "gemeente-zuid",
        "procesregisseur": "zvh-zuid",
        "startniveau": 2,
        "afsluitreden": None,
    }


def test_dates_in_content_are_dumped_as_iso_strings() -> None:
    payload = parse_payload("aanmelding", REALISTIC["aanmelding"], today=TODAY)

    assert payload.content_values()["geboortedatum"] == "1984-06-12"
    assert payload.content_values()["huidige_hulpverlening"] == (
        "FACT-team GGZ Noord, sinds 2023 zorgmijdend."
    )


def test_optional_fields_may_be_left_out() -> None:
    payload = parse_payload("uitstroom", {"reden": "overleden"}, today=TODAY)

    assert payload.content_values() == {"reden": "overleden", "toelichting": None, "nazorg": None}


def test_a_parsed_payload_cannot_be_changed() -> None:
    payload = parse_payload("opschaling", REALISTIC["opschaling"], today=TODAY)

    with pytest.raises(ValidationError):
        payload.niveau = 4  # type: ignore[attr-defined]  # the refusal at run time is the point


# ---- refusals -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["verhuizing", "Aanmelding", "", "uitstroom "])
def test_an_unknown_event_type_is_refused(name: str) -> None:
    with pytest.raises(UnknownEventType) as caught:
        parse_payload(name, {}, today=TODAY)

    assert caught.value.event_type == name
    assert str(caught.value) == f"unknown event type {name!r}"


@pytest.mark.parametrize("lookup", [schema_of, control_fields, content_fields])
def test_every_lookup_refuses_an_unknown_event_type(lookup: Any) -> None:
    with pytest.raises(UnknownEventType):
        lookup("verhuizing")


@pytest.mark.parametrize("data", [None, [], "aanmelding", 42])
def test_a_payload_that_is_not_an_object_is_refused(data: Any) -> None:
    problem = refusal("opschaling", data)

    assert [(p.field, p.message) for p in problem.problems] == [("payload", "must be an object")]


@pytest.mark.parametrize("event_type", sorted(REALISTIC))
def test_an_unknown_field_is_refused_by_name(event_type: str) -> None:
    problem = refusal(event_type, realistic(event_type, postcode="1234AB"))

    assert [(p.field, p.message) for p in problem.problems] == [("postcode", "unknown field")]


def test_an_unknown_field_inside_a_goal_is_refused_by_its_path() -> None:
    doelen = [{"levensdomein": "wonen", "doel": "Woning houden.", "prioriteit": 1}]
    problem = refusal("planwijziging", realistic("planwijziging", doelen=doelen))

    assert [(p.field, p.message) for p in problem.problems] == [
        ("doelen.0.prioriteit", "unknown field")
    ]


@pytest.mark.parametrize(("event_type", "field"), required_fields())
def test_a_missing_required_field_is_refused_by_name(event_type: str, field: str) -> None:
    problem = refusal(event_type, without(event_type, field))

    assert [(p.field, p.message) for p in problem.problems] == [(field, "required")]


def test_every_missing_field_is_reported_at_once() -> None:
    problem = refusal("signalering", {"toelichting": "Alleen een toelichting."})

    assert fields_of(problem) == {"categorie", "ernst", "gevraagde_actie"}
    assert str(problem).startswith("invalid signalering payload: ")


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("signalering", "ernst", "hoog"),
        ("signalering", "ernst", 2.5),
        ("signalering", "categorie", "brand"),
        ("planwijziging", "planversie", [1]),
        ("planwijziging", "doelen", "wonen"),
        ("inclusiebesluit", "geincludeerd", "misschien"),
        ("casusoverleg", "deelnemers", "ggz-noord"),
        ("aanmelding", "geboortedatum", "gisteren"),
        ("aanmelding", "naam", 12),
        ("monitoringsmoment", "risico_inschatting", "middel"),
        ("triagebesluit", "uitkomst", "wachtlijst"),
        ("triagebesluit", "doelgroepcriteria", ["dakloosheid"]),
        ("triagebesluit", "afsluitreden", "weigert_medewerking"),
        ("netwerkwijziging", "organisatie", "GGZ Noord"),
        ("netwerkwijziging", "wijziging", "verhuisd"),
        ("uitstroom", "reden", "verveeld"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_by_name(
    event_type: str, field: str, value: Any
) -> None:
    problem = refusal(event_type, realistic(event_type, **{field: value}))

    assert {p.field.split(".")[0] for p in problem.problems} == {field}


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("signalering", "ernst", "zeer ernstig want psychose"),
        ("signalering", "categorie", "suïcidaal gedrag"),
        ("netwerkwijziging", "organisatie", "Verslavingszorg Jan Jansen"),
        ("aanmelding", "geboortedatum", "12 juni 1984"),
        ("uitstroom", "reden", "opgenomen in kliniek De Linde"),
    ],
)
def test_a_refusal_never_repeats_the_submitted_value(
    event_type: str, field: str, value: str
) -> None:
    problem = refusal(event_type, realistic(event_type, **{field: value}))

    assert value not in str(problem)
    assert all(value not in p.message for p in problem.problems)


def test_a_wrong_value_in_a_list_is_refused_by_its_path() -> None:
    acties = [
        {"organisatie": "ggz-noord", "actie": "Depot."},
        {"organisatie": "GGZ Noord", "actie": "Huisbezoek."},
    ]
    problem = refusal("planwijziging", realistic("planwijziging", acties=acties))

    assert fields_of(problem) == {"acties.1.organisatie"}


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("aanmelding", "aanmeldreden"),
        ("aanmelding", "risico_indicatie"),
        ("inclusiebesluit", "onderbouwing"),
        ("signalering", "gevraagde_actie"),
        ("signalering", "diagnose"),
        ("casusoverleg", "verslag"),
        ("monitoringsmoment", "bevindingen"),
        ("uitstroom", "nazorg"),
    ],
)
def test_text_longer_than_ten_thousand_characters_is_refused(event_type: str, field: str) -> None:
    accepted = parse_payload(
        event_type, realistic(event_type, **{field: "x" * 10_000}), today=TODAY
    )
    assert len(getattr(accepted, field)) == 10_000

    problem = refusal(event_type, realistic(event_type, **{field: "x" * 10_001}))

    assert fields_of(problem) == {field}
    assert "x" * 100 not in str(problem)


def test_oversize_text_inside_a_goal_is_refused_by_its_path() -> None:
    doelen = [{"levensdomein": "wonen", "doel": "x" * 10_001}]
    problem = refusal("planwijziging", realistic("planwijziging", doelen=doelen))

    assert fields_of(problem) == {"doelen.0.doel"}


def test_a_short_text_field_holds_two_hundred_characters() -> None:
    parse_payload("aanmelding", realistic("aanmelding", naam="n" * 200), today=TODAY)

    problem = refusal("aanmelding", realistic("aanmelding", naam="n" * 201))

    assert fields_of(problem) == {"naam"}


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_text_is_refused(blank: str) -> None:
    problem = refusal("opschaling", realistic("opschaling", reden=blank))

    assert fields_of(problem) == {"reden"}


def test_text_is_stored_without_surrounding_whitespace() -> None:
    payload = parse_payload("opschaling", realistic("opschaling", reden="  Crisis.\n"), today=TODAY)

    assert payload.content_values()["reden"] == "Crisis."


def test_a_birth_date_in_the_future_is_refused() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()

    problem = refusal("aanmelding", realistic("aanmelding", geboortedatum=tomorrow))

    assert [(p.field, p.message) for p in problem.problems] == [
        ("geboortedatum", "may not lie in the future")
    ]


def test_a_birth_date_today_is_accepted() -> None:
    payload = parse_payload(
        "aanmelding", realistic("aanmelding", geboortedatum=TODAY.isoformat()), today=TODAY
    )

    assert payload.content_values()["geboortedatum"] == "2026-03-02"


def test_the_future_is_judged_by_the_given_today_not_by_a_clock() -> None:
    data = realistic("aanmelding", geboortedatum="2030-01-01")

    refusal("aanmelding", data, today=date(2029, 12, 31))
    payload = parse_payload("aanmelding", data, today=date(2030, 1, 1))

    assert payload.content_values()["geboortedatum"] == "2030-01-01"


@pytest.mark.parametrize("missing", REGIE_AND_LEVEL)
def test_a_positive_inclusion_must_name_regie_and_startniveau(missing: str) -> None:
    problem = refusal("inclusiebesluit", without("inclusiebesluit", missing))

    assert len(problem.problems) == 1
    assert missing in str(problem)
    assert [name for name in REGIE_AND_LEVEL if name in str(problem)] == [missing]


def test_a_positive_inclusion_names_everything_it_lacks() -> None:
    data = {"geincludeerd": True, "onderbouwing": "Inclusie."}

    problem = refusal("inclusiebesluit", data)

    assert all(name in str(problem) for name in REGIE_AND_LEVEL)


def test_a_negative_inclusion_without_regie_is_accepted() -> None:
    payload = parse_payload("inclusiebesluit", NEGATIVE_INCLUSION, today=TODAY)

    assert payload.control_values() == {
        "geincludeerd": False,
        "levensloopaanbieder": None,
        "casusregisseur": None,
        "procesregisseur": None,
        "startniveau": None,
        "afsluitreden": "andere_aanpak_passend",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("levensloopaanbieder", "ggz-noord"),
        ("casusregisseur", "gemeente-zuid"),
        ("procesregisseur", "zvh-zuid"),
        ("startniveau", 1),
    ],
)
def test_a_negative_inclusion_names_no_regie_or_level(field: str, value: Any) -> None:
    problem = refusal("inclusiebesluit", {**NEGATIVE_INCLUSION, field: value})

    assert len(problem.problems) == 1
    assert "names no regie or level" in str(problem)
    assert str(value) not in str(problem)


@pytest.mark.parametrize("ernst", [0, 5, -1, 100])
def test_ernst_outside_one_to_four_is_refused(ernst: int) -> None:
    problem = refusal("signalering", realistic("signalering", ernst=ernst))

    assert fields_of(problem) == {"ernst"}


@pytest.mark.parametrize("ernst", [1, 2, 3, 4])
def test_ernst_one_to_four_is_accepted(ernst: int) -> None:
    payload = parse_payload("signalering", realistic("signalering", ernst=ernst), today=TODAY)

    assert payload.content_values()["ernst"] == ernst


@pytest.mark.parametrize(
    ("event_type", "field"),
    [("opschaling", "niveau"), ("afschaling", "niveau"), ("inclusiebesluit", "startniveau")],
)
@pytest.mark.parametrize("level", [0, 5])
def test_a_care_level_outside_one_to_four_is_refused(
    event_type: str, field: str, level: int
) -> None:
    problem = refusal(event_type, realistic(event_type, **{field: level}))

    assert fields_of(problem) == {field}


@pytest.mark.parametrize("version", [0, -1])
def test_a_plan_version_starts_at_one(version: int) -> None:
    problem = refusal("planwijziging", realistic("planwijziging", planversie=version))

    assert fields_of(problem) == {"planversie"}


@pytest.mark.parametrize(("field", "value"), [("doelen", []), ("acties", [])])
def test_a_plan_has_at_least_one_goal_and_one_action(field: str, value: list[Any]) -> None:
    problem = refusal("planwijziging", realistic("planwijziging", **{field: value}))

    assert fields_of(problem) == {field}


def test_a_triage_gives_a_verdict_on_every_target_group_criterion() -> None:
    partial = {"psychiatrische_stoornis": "voldaan", "meerderjarig": "voldaan"}
    problem = refusal("triagebesluit", realistic("triagebesluit", doelgroepcriteria=partial))

    assert {field.split(".")[0] for field in fields_of(problem)} == {"doelgroepcriteria"}


def test_a_triage_to_the_inclusietafel_finds_at_least_one_stoornis() -> None:
    listed = realistic("triagebesluit")["doelgroepcriteria"]
    none = {**listed, "psychiatrische_stoornis": "onbekend", "lvb": "niet_voldaan"}
    problem = refusal("triagebesluit", realistic("triagebesluit", doelgroepcriteria=none))

    assert "psychiatrische_stoornis" in str(problem)


def test_an_aanmelding_with_a_bsn_failing_the_elfproef_is_refused_without_echoing_it() -> None:
    with pytest.raises((PayloadInvalid, InvalidBsn)) as caught:
        parse_payload("aanmelding", realistic("aanmelding", bsn="123456789"), today=TODAY)

    assert "123456789" not in str(caught.value)
    assert "bsn" in str(caught.value)


def test_an_invalid_bsn_is_a_field_problem_reported_with_the_others() -> None:
    """parse_payload promises every problem with its field path; a bad BSN is one of them."""
    data = {k: v for k, v in realistic("aanmelding", bsn="123456789").items() if k != "naam"}

    problem = refusal("aanmelding", data)

    assert fields_of(problem) == {"bsn", "naam"}
    assert "123456789" not in str(problem)


# ---- the catalogue as data ----------------------------------------------------------


def test_describe_is_json_serialisable() -> None:
    described = describe()

    assert json.loads(json.dumps(described)) == described
    assert set(described) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(REALISTIC))
def test_describe_lists_control_and_content_fields_per_type(event_type: str) -> None:
    entry = describe()[event_type]

    assert entry["summary"] == schema_of(event_type).summary
    assert entry["summary"]
    assert tuple(entry["control_fields"]) == EXPECTED_CONTROL_FIELDS[event_type]
    assert entry["control_fields"] == list(control_fields(event_type))
    assert entry["content_fields"] == list(content_fields(event_type))


@pytest.mark.parametrize("event_type", sorted(REALISTIC))
def test_control_fields_are_marked_in_the_json_schema(event_type: str) -> None:
    entry = describe()[event_type]
    properties = entry["json_schema"]["properties"]

    for name in entry["control_fields"]:
        assert properties[name][CONTROL] is True
    for name in entry["content_fields"]:
        assert CONTROL not in properties[name]
    assert entry["json_schema"]["additionalProperties"] is False


@pytest.mark.parametrize("event_type", sorted(REALISTIC))
def test_control_and_content_fields_are_disjoint_and_cover_the_model(event_type: str) -> None:
    control = set(control_fields(event_type))
    content = set(content_fields(event_type))

    assert not control & content
    assert control | content == set(schema_of(event_type).model_fields)
    assert control | content == set(describe()[event_type]["json_schema"]["properties"])


def test_plan_actions_are_owned_by_their_organisation() -> None:
    owned = {event_type: entry["owned_fields"] for event_type, entry in describe().items()}

    assert owned["planwijziging"] == {"acties": "organisatie"}
    assert owned["casusoverleg"] == {"actiepunten": "organisatie"}
    assert all(
        not fields
        for event_type, fields in owned.items()
        if event_type not in ("planwijziging", "casusoverleg")
    )


def test_the_json_schema_names_the_required_fields() -> None:
    schema = describe()["signalering"]["json_schema"]

    assert sorted(schema["required"]) == ["categorie", "ernst", "gevraagde_actie"]
    assert schema["properties"]["ernst"]["minimum"] == 1
    assert schema["properties"]["ernst"]["maximum"] == 4
