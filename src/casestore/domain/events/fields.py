"""The field types and vocabularies that event payloads share.

A field's limits live in its type, so the same kind of value is checked the same way in
every event type and a payload schema reads as the list of what its author tells.

Validation that depends on "today" (no birth date or referral date in the future) takes
`today` through the pydantic validation context, so the domain never reads a clock.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from casestore.domain.errors import InvalidBsn
from casestore.domain.person import check_bsn


class Marker:
    """A mark on a field type that the catalogue reports (see `describe()`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Marker({self.name!r})"


FREE_TEXT = Marker("free text")
"""Long free text routinely holds health or criminal data, whatever the field is for; the
policy's legal lint counts it as special unless the policy says why it is not."""
BSN = Marker("bsn")
"""A burgerservicenummer, which an organisation may process only where a law allows it."""

SOME_TEXT = r"[^\s\x1c-\x1f\x85]"
"""Text holds something besides white space, which is stripped: said as a pattern too, so
that the published JSON Schema refuses what the payload's validation refuses. Python strips
more than a JSON Schema's white-space class knows (U+001C–U+001F and U+0085), so those are named."""

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SOME_TEXT)
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000, pattern=SOME_TEXT),
    FREE_TEXT,
]
OrganisationId = Annotated[
    str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
]
Level = Annotated[int, Field(ge=1, le=4)]

MAX_JSON_INTEGER = 2**53 - 1
"""The largest integer every partner's JSON holds exactly (I-JSON, RFC 7493) and that can be
written in canonical JSON to be signed (RFC 8785): every count and position is below it."""

Count = Annotated[int, Field(ge=1, le=MAX_JSON_INTEGER)]

EventRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description="The event_id of an earlier event in the same case."),
]
"""An earlier event of the same case, by the id it was recorded under."""


def _not_in_future(value: date, info: ValidationInfo) -> date:
    today = (info.context or {}).get("today")
    if today is None:
        raise ValueError("validation needs today's date in its context")
    if value > today:
        raise ValueError("may not lie in the future")
    return value


PastDate = Annotated[date, AfterValidator(_not_in_future)]


def _valid_bsn(value: str) -> str:
    try:
        check_bsn(value)
    except InvalidBsn:
        # Reported as a field problem beside the payload's other problems.
        raise ValueError("must be 9 digits that pass the elfproef") from None
    return value


Bsn = Annotated[str, AfterValidator(_valid_bsn), BSN]


class Levensdomein(StrEnum):
    wonen = "wonen"
    financien = "financien"
    dagbesteding = "dagbesteding"
    gezondheid = "gezondheid"
    netwerk = "netwerk"
    veiligheid = "veiligheid"
    justitie = "justitie"


class SignaleringCategorie(StrEnum):
    terugval = "terugval"
    middelengebruik = "middelengebruik"
    dreiging = "dreiging"
    agressie = "agressie"
    vermissing = "vermissing"
    woonoverlast = "woonoverlast"
    zorgmijding = "zorgmijding"
    overig = "overig"


class UitstroomReden(StrEnum):
    """Why a case ends after inclusion. Refusing cooperation is no reason: zorgmijders are
    the people the aanpak is for."""

    doelen_bereikt = "doelen_bereikt"
    stabiel = "stabiel"  # stable for the region's stability term
    overdracht_andere_regio = "overdracht_andere_regio"
    overgedragen_andere_aanpak = "overgedragen_andere_aanpak"
    langdurig_klinisch = "langdurig_klinisch"
    detentie_langdurig = "detentie_langdurig"
    onvindbaar = "onvindbaar"
    overleden = "overleden"
    overig = "overig"


class Strict(BaseModel):
    """A payload or a part of one: unknown fields are refused, and parsed values stay put."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Oordeel(StrEnum):
    """The verdict on one doelgroepcriterium."""

    voldaan = "voldaan"
    niet_voldaan = "niet_voldaan"
    onbekend = "onbekend"


STOORNISSEN = ("psychiatrische_stoornis", "lvb", "nah", "verslaving")
"""The criteria of which a person in the doelgroep meets at least one (Ketenveldnorm)."""


class Doelgroepcriteria(Strict):
    """The doelgroep checklist of the Ketenveldnorm levensloopfunctie, a verdict per
    criterion: at least one of the four stoornissen, adult, a danger that a risicotaxatie
    established, and the signs that the person is beyond one approach (a dwangkader now or
    before, contacts with police or justice, problems in several domains)."""

    psychiatrische_stoornis: Oordeel
    lvb: Oordeel
    nah: Oordeel
    verslaving: Oordeel
    meerderjarig: Oordeel
    gevaar_risicotaxatie: Oordeel
    dwangkader: Oordeel
    politie_justitie: Oordeel
    multiproblematiek: Oordeel

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: object) -> object:
        # Before the checklist, a triagebesluit listed the stoornissen it found; such a
        # list still reads as those criteria met and nothing said of the others.
        if isinstance(data, list) and all(item in STOORNISSEN for item in data):
            return {
                name: Oordeel.voldaan if name in data else Oordeel.onbekend
                for name in cls.model_fields
            }
        return data

    def stoornis_voldaan(self) -> bool:
        return any(getattr(self, name) is Oordeel.voldaan for name in STOORNISSEN)


class AfsluitredenVoorInclusie(StrEnum):
    """Why a case ends at triage or without inclusion: its own end, which starts its
    retention clock as an uitstroom does. Refusing cooperation is no reason here either."""

    buiten_doelgroep = "buiten_doelgroep"
    andere_aanpak_passend = "andere_aanpak_passend"
    lopende_aanpak_volstaat = "lopende_aanpak_volstaat"
    geen_gevaar_vastgesteld = "geen_gevaar_vastgesteld"
    overdracht_andere_regio = "overdracht_andere_regio"
    overleden = "overleden"
    overig = "overig"


class RolInCasus(StrEnum):
    """The part a partner plays in one case (netwerkwijziging)."""

    behandelaar = "behandelaar"
    woonbegeleider = "woonbegeleider"
    wijkagent = "wijkagent"
    toezichthouder_reclassering = "toezichthouder_reclassering"
    verhuurder = "verhuurder"
    bewindvoerder = "bewindvoerder"
    huisarts = "huisarts"
    casusregisseur = "casusregisseur"
    procesregisseur = "procesregisseur"
    officier_van_justitie = "officier_van_justitie"
    maatschappelijk_werker = "maatschappelijk_werker"
    schuldhulpverlener = "schuldhulpverlener"
    overig = "overig"


class Kader(StrEnum):
    """The juridisch kader of a case. Each but `vrijwillig` is also a kader the policy can
    name in a condition: its id there is the value with hyphens for underscores."""

    vrijwillig = "vrijwillig"
    crisismaatregel = "crisismaatregel"  # Wvggz
    zorgmachtiging = "zorgmachtiging"  # Wvggz
    wzd = "wzd"  # rechterlijke machtiging of inbewaringstelling onder de Wzd
    bijzondere_voorwaarden = "bijzondere_voorwaarden"
    tbs_met_voorwaarden = "tbs_met_voorwaarden"
    isd = "isd"
    zorgmachtiging_strafrechter = "zorgmachtiging_strafrechter"  # Wvggz art. 2.3 Wfz


class Setting(StrEnum):
    """Where the care is given at a care level."""

    ambulant = "ambulant"
    intensief_ambulant = "intensief_ambulant"
    beschermd_wonen = "beschermd_wonen"
    klinisch = "klinisch"
    beveiligd = "beveiligd"
    biz = "biz"


class Financier(StrEnum):
    zvw = "zvw"
    wlz = "wlz"
    wfz = "wfz"
    wmo = "wmo"


class RisicoInstrument(StrEnum):
    """The instruments the region accepts for a risicotaxatie."""

    hkt_r = "hkt_r"
    hcr_20v3 = "hcr_20v3"
    start = "start"
    risc = "risc"
    overig = "overig"


class RisicoUitkomst(StrEnum):
    laag = "laag"
    matig = "matig"
    hoog = "hoog"


class OverlegSoort(StrEnum):
    inclusietafel = "inclusietafel"
    levenslooptafel = "levenslooptafel"
    netwerkoverleg = "netwerkoverleg"
    crisisoverleg = "crisisoverleg"
    bestuurlijk_overleg = "bestuurlijk_overleg"
