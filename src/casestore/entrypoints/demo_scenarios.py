"""The demo region's cases: a handful of realistic, entirely fictional trajectories that
walk every event type, as data only (loading them is `casestore.entrypoints.demo`).

Names and BSNs are invented; the BSNs merely pass the elfproef. Dates are counted in days
from the demo's start, so that a demo loaded today has dates that fit its events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ZVH = "zvh-amsterdam-amstelland"
GEMEENTE = "gemeente-amsterdam"
GGZ = "arkin"
FORENSISCH = "inforsa"
POLITIE = "politie-amsterdam"
RECLASSERING = "reclassering-nederland"
WONEN = "ymere"
BIZ = "biz-kliniek-amsterdam"

# Fixed, so every demo load carries identical events and a reload replays them.
DEMO_START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
REFERENCES = (
    "toestemming",
    "vraag",
    "signalering",
    "casusoverleg",
    "gebeurtenis",
    "bezwaar",
    "beperking",
)  # payload fields naming an earlier event of the case


@dataclass(frozen=True)
class Step:
    event_type: str
    author: str
    days_after_start: int
    payload: dict[str, Any]
    name: str = ""
    """How a later step refers to this one: its `vraag`, `signalering` or `casusoverleg` is "@name",
    which loading replaces by the event id this step was recorded under."""


@dataclass(frozen=True)
class Day:
    """A date in a step's payload, counted from the day the demo starts: loading turns it
    into that date, so a demo loaded today has dates that fit its events'."""

    after_start: int

    def on(self, start: datetime) -> str:
        return (start + timedelta(days=self.after_start)).date().isoformat()


def _day(days_after_start: int) -> Day:
    return Day(days_after_start)


def dated(value: Any, start: datetime) -> Any:
    """`value` with every Day in it as a date from `start`."""
    if isinstance(value, Day):
        return value.on(start)
    if isinstance(value, dict):
        return {k: dated(v, start) for k, v in value.items()}
    if isinstance(value, list):
        return [dated(v, start) for v in value]
    return value


def _aanmelding(bsn: str, naam: str, geboren: str, reden: str) -> dict[str, Any]:
    return {
        "bsn": bsn,
        "naam": naam,
        "geboortedatum": geboren,
        "aanmeldreden": reden,
        "risico_indicatie": "Herhaald agressief gedrag bij decompensatie; wisselende zorgvraag.",
        "huidige_hulpverlening": "FACT-team, bewindvoering",
        "contactpersoon_aanmelder": "M. de Vries, FACT-team, 020-5550101",
    }


DOELGROEPCRITERIA = {
    "psychiatrische_stoornis": "voldaan",
    "lvb": "niet_voldaan",
    "nah": "onbekend",
    "verslaving": "voldaan",
    "meerderjarig": "voldaan",
    "gevaar_risicotaxatie": "voldaan",
    "dwangkader": "voldaan",
    "politie_justitie": "voldaan",
    "multiproblematiek": "voldaan",
}
"""The doelgroep checklist of the Ketenveldnorm, a verdict per criterion."""


def _triage(uitkomst: str = "inclusietafel") -> dict[str, Any]:
    ending = {"afsluitreden": "lopende_aanpak_volstaat"} if uitkomst == "andere_aanpak" else {}
    return {
        "uitkomst": uitkomst,
        "onderbouwing": "Langdurig gevaarlijk gedrag met een psychiatrische grondslag; "
        "eerdere trajecten stopten bij overdracht.",
        "doelgroepcriteria": DOELGROEPCRITERIA,
        **ending,
    }


def _inclusie(aanbieder: str, niveau: int) -> dict[str, Any]:
    return {
        "geincludeerd": True,
        "levensloopaanbieder": aanbieder,
        "casusregisseur": GEMEENTE,
        "procesregisseur": ZVH,
        "startniveau": niveau,
        "onderbouwing": "Voldoet aan de criteria van de levensloopaanpak.",
        "risicotaxatie": "HKT-R: hoog risico op gewelddadig recidive bij middelengebruik.",
        "doelgroepcriteria": DOELGROEPCRITERIA,
    }


def _plan(versie: int) -> dict[str, Any]:
    return {
        "planversie": versie,
        "doelen": [
            {"levensdomein": "wonen", "doel": "Stabiele woonplek met ambulante begeleiding."},
            {"levensdomein": "gezondheid", "doel": "Medicatietrouw en dagstructuur."},
            {"levensdomein": "veiligheid", "doel": "Geen incidenten met geweld."},
        ],
        "acties": [
            {"organisatie": WONEN, "actie": "Woning met begeleiding aanbieden.", "termijn": None},
            {"organisatie": FORENSISCH, "actie": "Wekelijkse behandeling en depotmedicatie."},
            {"organisatie": GEMEENTE, "actie": "Schuldhulp en dagbesteding regelen."},
        ],
        "casusregisseur_contact": "S. Bakker, casusregisseur, 020-5550199",
        "toelichting": "Plan besproken met betrokkene en netwerk.",
    }


def _signalering(ernst: int) -> dict[str, Any]:
    return {
        "categorie": "terugval",
        "ernst": ernst,
        "gevraagde_actie": "Extra huisbezoek binnen 48 uur; politie alert bij meldingen.",
        "toelichting": "Buren melden geluidsoverlast en dreigende uitspraken.",
        "diagnose": "Schizofrenie, paranoïde type (DSM-5 295.90).",
        "medicatie": "Depot gestopt sinds drie weken.",
    }


def _doorgegeven_signaal() -> dict[str, Any]:
    """What the procesregisseur passes on to the network after hearing the provider."""
    return {
        "categorie": "dreiging",
        "ernst": 3,
        "gevraagde_actie": "Politie alert bij meldingen van buren; casusregisseur bellen.",
        "toelichting": "Doorgegeven na overleg met de levensloopaanbieder.",
    }


def _join(org: str, rol: str) -> dict[str, Any]:
    return {"organisatie": org, "wijziging": "toegetreden", "rol_in_casus": rol}


def _toestemming(*ontvangers: str, types: list[str]) -> dict[str, Any]:
    return {
        "ontvangers": list(ontvangers),
        "gebeurtenistypen": types,
        "gegeven_door": "betrokkene",
        "gegeven_op": _day(1),
        "motivering": "Betrokkene wil dat het zorg- en veiligheidshuis en de casusregisseur "
        "de aanmelding kennen, om de levensloopaanpak te kunnen beginnen.",
    }


def _conflict(*ontvangers: str) -> dict[str, Any]:
    return {
        "ontvangers": list(ontvangers),
        "gebeurtenistypen": ["opschaling", "afschaling"],
        "afweging": "Bij decompensatie dreigt geweld tegen de buren; politie en regie moeten "
        "het zorgniveau kennen om dat af te wenden. Toestemming is gevraagd en geweigerd.",
    }


def _vraag(aan: str, naam: str, geboren: str) -> dict[str, Any]:
    return {"organisatie": aan, "naam": naam, "geboortedatum": geboren}


def full_trajectory(naam: str, geboren: str) -> list[Step]:
    """From bekendheid to nazorg: the whole werkproces of one person."""
    return [
        # The GGZ referrer opens its referral to the regie with the betrokkene's consent.
        Step(
            "toestemming",
            GGZ,
            1,
            _toestemming(ZVH, GEMEENTE, types=["aanmelding"]),
            name="toestemming",
        ),
        Step("bekendheidsvraag", ZVH, 1, _vraag(WONEN, naam, geboren), name="vraag-wonen"),
        Step("bekendheidsvraag", ZVH, 1, _vraag(POLITIE, naam, geboren), name="vraag-politie"),
        Step(
            "bekendheidsantwoord",
            WONEN,
            2,
            {
                "vraag": "@vraag-wonen",
                "organisatie": WONEN,
                "bekend": True,
                "contactpersoon": "H. Koster, wijkbeheerder Ymere",
                "toelichting": "Huurachterstand en twee overlastmeldingen in 2024.",
            },
        ),
        Step(
            "bekendheidsantwoord",
            POLITIE,
            2,
            {
                "vraag": "@vraag-politie",
                "organisatie": POLITIE,
                "bekend": True,
                "contactpersoon": "Wijkagent P. Jansen",
            },
        ),
        Step("triagebesluit", ZVH, 3, _triage()),
        Step(
            "betrokkene_geinformeerd",
            ZVH,
            4,
            {"datum": _day(4), "door": "A. Visser, procesregisseur ZVH", "wijze": "gesprek"},
        ),
        Step("inclusiebesluit", ZVH, 10, _inclusie(FORENSISCH, 2)),
        Step(
            "kaderwijziging",
            ZVH,
            10,
            {
                "kader": "bijzondere_voorwaarden",
                "ingangsdatum": _day(-42),
                "einddatum": _day(688),
                "toezichthouder": RECLASSERING,
                "voorwaarden": "Meewerken aan ambulante forensische behandeling; contactverbod.",
            },
        ),
        Step(
            "risicotaxatie",
            FORENSISCH,
            10,
            {
                "datum": _day(9),
                "instrument": "hkt_r",
                "beoordelaar": FORENSISCH,
                "uitkomst": "hoog",
                "rapport": "HKT-R maart 2025, dossier Inforsa",
            },
        ),
        Step("netwerkwijziging", ZVH, 11, _join(POLITIE, "wijkagent")),
        Step("netwerkwijziging", ZVH, 11, _join(WONEN, "verhuurder")),
        Step("planwijziging", GEMEENTE, 20, _plan(1)),
        Step(
            "actiestatus",
            WONEN,
            35,
            {"planversie": 1, "actie": 1, "status": "uitgevoerd"},
        ),
        Step("signalering", FORENSISCH, 45, _signalering(3), name="terugval"),
        Step("signalering", ZVH, 45, _doorgegeven_signaal(), name="doorgegeven"),
        Step("conflict_van_plichten", FORENSISCH, 46, _conflict(ZVH, GEMEENTE, POLITIE)),
        Step(
            "opschaling",
            FORENSISCH,
            46,
            {
                "niveau": 3,
                "reden": "Decompensatie; opname.",
                "signalering": "@terugval",
                "setting": "klinisch",
                "ingangsdatum": _day(46),
                "kader": "bijzondere_voorwaarden",
                "financier": "wfz",
            },
        ),
        Step(
            "reactie",
            GEMEENTE,
            46,
            {
                "signalering": "@doorgegeven",
                "opvolging": "afgehandeld",
                "toelichting": "Opname geregeld; wijkagent geïnformeerd.",
            },
        ),
        Step(
            "casusoverleg",
            ZVH,
            47,
            {
                "soort": "crisisoverleg",
                "voorzitter": ZVH,
                "deelnemers": [ZVH, GEMEENTE, FORENSISCH, POLITIE],
                "afwezig": [WONEN],
                "besluiten": "Tijdelijke opname; woning aanhouden.",
                "actiepunten": [
                    {
                        "organisatie": WONEN,
                        "actie": "Woning aanhouden tijdens opname.",
                        "termijn": _day(60),
                    },
                    {"organisatie": GEMEENTE, "actie": "Huur doorbetalen via bijzondere bijstand."},
                ],
                "verslag": "Netwerk eens over opschaling.",
            },
            name="crisisoverleg",
        ),
        Step(
            "escalatie",
            GEMEENTE,
            70,
            {
                "gremium": "stuurgroep_zvh",
                "termijn": _day(100),
                "knelpunt": "Na ontslag geen plek beschermd wonen beschikbaar.",
                "besluit": "Stuurgroep vraagt de regionale wooncoalitie om een urgente plek.",
            },
        ),
        Step(
            "afschaling",
            ZVH,
            90,
            {
                "niveau": 2,
                "reden": "Stabiel na opname; zoals het crisisoverleg afsprak.",
                "casusoverleg": "@crisisoverleg",
                "setting": "intensief_ambulant",
                "financier": "wfz",
            },
        ),
        Step(
            "monitoringsmoment",
            GEMEENTE,
            120,
            {"bevindingen": "Doelen wonen en dagstructuur op koers.", "risico_inschatting": "laag"},
        ),
        Step("planwijziging", GEMEENTE, 121, _plan(2)),
        Step(
            "regiewijziging",
            ZVH,
            180,
            {
                "rol": "levensloopaanbieder",
                "van": FORENSISCH,
                "naar": GGZ,
                "contactpersoon": "D. Mulder, FACT-team Arkin",
                "plaatsvervanger": "E. Bos, FACT-team Arkin",
                "reden": "Forensische behandeling afgerond; reguliere FACT-zorg volstaat.",
            },
        ),
        Step(
            "uitstroom",
            ZVH,
            300,
            {"reden": "doelen_bereikt", "nazorg": "Jaarlijkse check door de casusregisseur."},
        ),
        Step(
            "nazorg",
            ZVH,
            301,
            {
                "herzien_op": _day(480),
                "tot": _day(665),
                "afspraken": "FACT-team Arkin belt de casusregisseur bij signalen van terugval.",
            },
        ),
    ]


def returning() -> list[Step]:
    """Informing postponed, and a person taken back in during nazorg."""
    return [
        Step(
            "informeren_uitgesteld",
            ZVH,
            1,
            {
                "herzien_op": _day(30),
                "reden": "Informeren voor de triage zou de dreiging richting de ex-partner "
                "kunnen vergroten.",
                "grondslag": "UAVG art. 41 lid 1 sub i (bescherming van anderen)",
            },
            name="uitgesteld",
        ),
        Step("triagebesluit", ZVH, 3, _triage()),
        Step("inclusiebesluit", ZVH, 10, _inclusie(GGZ, 1)),
        Step(
            "betrokkene_geinformeerd",
            GEMEENTE,
            28,
            {"datum": _day(28), "door": "S. Bakker, casusregisseur", "wijze": "brief"},
        ),
        Step("planwijziging", GEMEENTE, 30, _plan(1)),
        *rights(),
        Step("uitstroom", ZVH, 200, {"reden": "doelen_bereikt"}),
        Step(
            "nazorg",
            ZVH,
            201,
            {"herzien_op": _day(290), "tot": _day(380), "afspraken": "Huisarts houdt contact."},
        ),
        Step(
            "heraanmelding",
            GEMEENTE,
            260,
            {"reden": "Terugval na verlies van de dagbesteding; dreigende uitspraken."},
        ),
    ]


def rights() -> list[Step]:
    """The person, once informed, has a reason corrected, adds a statement, objects to the
    housing corporation's part and has processing restricted while the objection is
    decided; the objection is rejected and the restriction lifted, the person told first."""
    return [
        Step(
            "correctie",
            ZVH,
            35,
            {
                "gebeurtenis": "@uitgesteld",
                "velden": ["reden"],
                "op_verzoek_van_betrokkene": True,
                "nieuwe_waarden": {
                    "reden": "Informeren voor de triage zou de dreiging richting een buurman "
                    "kunnen vergroten."
                },
                "toelichting": "Betrokkene wees erop dat het om een buurman ging.",
            },
        ),
        Step(
            "clientverklaring",
            ZVH,
            36,
            {
                "ontvangen_op": _day(36),
                "verklaring": "Ik heb nooit iemand bedreigd; ik was boos over de geluidsoverlast.",
            },
        ),
        Step(
            "bezwaar",
            ZVH,
            37,
            {
                "ingediend_op": _day(37),
                "besluit": "in_behandeling",
                "gronden": "Betrokkene wil niet dat de woningcorporatie meekijkt.",
                "tegen": [WONEN],
            },
            name="bezwaar",
        ),
        Step(
            "beperking",
            ZVH,
            37,
            {"grond": "bezwaar_in_behandeling", "ingang": _day(37), "tot": _day(60)},
            name="beperking",
        ),
        Step(
            "bezwaar",
            ZVH,
            55,
            {
                "ingediend_op": _day(37),
                "besluit": "afgewezen",
                "besloten_op": _day(55),
                "bezwaar": "@bezwaar",
                "motivering": "De corporatie ontvangt alleen wat de huur betreft; dat is nodig.",
            },
        ),
        Step(
            "beperking_opgeheven",
            ZVH,
            56,
            {
                "beperking": "@beperking",
                "opgeheven_op": _day(56),
                "betrokkene_geinformeerd_op": _day(55),
                "toelichting": "Op het bezwaar is besloten; betrokkene is het besluit uitgelegd.",
            },
        ),
    ]


ONGOING_UNTIL = 16  # K. Jansen's case is still running: up to the first signalering


def ongoing(naam: str, geboren: str) -> list[Step]:
    """A case still running, whose betrokkene later withdraws the consent: what rested on
    it is revoked."""
    return [
        *full_trajectory(naam, geboren)[:ONGOING_UNTIL],
        Step(
            "toestemming_ingetrokken",
            GGZ,
            50,
            {"toestemming": "@toestemming", "ingetrokken_op": _day(50)},
        ),
    ]


CLOSED_AT_TRIAGE = [Step("triagebesluit", ZVH, 2, _triage("andere_aanpak"))]
NOT_INCLUDED = [
    Step("triagebesluit", ZVH, 2, _triage()),
    Step(
        "inclusiebesluit",
        ZVH,
        9,
        {
            "geincludeerd": False,
            "afsluitreden": "andere_aanpak_passend",
            "onderbouwing": "Reguliere zorg volstaat; geen levensloop nodig.",
        },
    ),
]

SCENARIOS: list[tuple[str, str, dict[str, Any], list[Step]]] = [
    (
        "R. Visser",
        GGZ,
        _aanmelding("111222333", "R. Visser", "1979-04-12", "Escalatie na uitval behandeling."),
        full_trajectory("R. Visser", "1979-04-12"),
    ),
    (
        "K. Jansen",
        GGZ,
        _aanmelding(
            "222333443",
            "K. Jansen",
            "1991-09-30",
            "Herhaalde meldingen verward gedrag en bedreiging.",
        ),
        ongoing("K. Jansen", "1991-09-30"),
    ),
    (
        "T. de Boer",
        GEMEENTE,
        # The wijkteam refers without the BSN: the person is known by name and birth date.
        {
            k: v
            for k, v in _aanmelding(
                "333444553", "T. de Boer", "1985-01-05", "Dreigende huisuitzetting, zorgmijding."
            ).items()
            if k != "bsn"
        },
        CLOSED_AT_TRIAGE,
    ),
    (
        "L. Smit",
        RECLASSERING,
        _aanmelding(
            "444555663", "L. Smit", "1970-07-21", "Einde toezicht nadert; zorgen over continuiteit."
        ),
        NOT_INCLUDED,
    ),
    (
        "M. Yilmaz",
        POLITIE,
        _aanmelding(
            "777888907", "M. Yilmaz", "1988-11-02", "Stalking van ex-partner; verward gedrag."
        ),
        returning(),
    ),
]
