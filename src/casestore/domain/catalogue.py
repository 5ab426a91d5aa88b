"""The event catalogue: one pydantic schema per event type, the single source of truth.

Each schema says which fields exist, their types and limits, and which of them are
*control attributes* — the few values the process itself needs (status, level, plan
version, network) and that therefore stay readable in the header — versus *content*,
which the sharing layer seals per recipient. The policy layer and the docs read the
machine-readable form from `describe()`; nothing else defines a field.

Validation that depends on "today" (no birth date or referral date in the future) takes
`today` through the pydantic validation context, so the domain never reads a clock.
"""

from __future__ import annotations

import functools
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from casestore.domain.errors import FieldProblem, InvalidBsn, PayloadInvalid, UnknownEventType
from casestore.domain.person import check_bsn

CONTROL = "x-casestore-control"
OWNED_BY = "x-casestore-owned-by"

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
OrganisationId = Annotated[
    str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
]
Level = Annotated[int, Field(ge=1, le=4)]


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


Bsn = Annotated[str, AfterValidator(_valid_bsn)]


def control(**kwargs: Any) -> Any:
    """Mark a field as a control attribute: readable header, used by the process."""
    return Field(json_schema_extra={CONTROL: True}, **kwargs)


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
    doelen_bereikt = "doelen_bereikt"
    overdracht_andere_regio = "overdracht_andere_regio"
    detentie_langdurig = "detentie_langdurig"
    overleden = "overleden"
    weigert_medewerking = "weigert_medewerking"
    overig = "overig"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Doel(_Strict):
    levensdomein: Levensdomein
    doel: LongText


class Actie(_Strict):
    organisatie: OrganisationId
    actie: LongText
    termijn: date | None = None


class Payload(_Strict):
    """Base of every event payload."""

    event_type: ClassVar[str]
    summary: ClassVar[str]

    def control_values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(control_fields(self.event_type)))

    def content_values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(content_fields(self.event_type)))


class Aanmelding(Payload):
    event_type = "aanmelding"
    summary = "Referral of a person to the ZVH by a partner; opens the case."
    bsn: Bsn
    naam: ShortText
    geboortedatum: PastDate
    aanmeldreden: LongText
    risico_indicatie: LongText
    huidige_hulpverlening: LongText | None = None
    contactpersoon_aanmelder: ShortText


class Triagebesluit(Payload):
    event_type = "triagebesluit"
    summary = "Triage: to the inclusietafel, or another approach (which ends the case)."
    uitkomst: Literal["inclusietafel", "andere_aanpak"] = control()
    onderbouwing: LongText
    doelgroepcriteria: list[Literal["psychiatrische_stoornis", "lvb", "nah"]] = Field(
        min_length=1, max_length=3
    )


class Inclusiebesluit(Payload):
    event_type = "inclusiebesluit"
    summary = "Decision of the inclusietafel; included cases get a levensloopaanbieder."
    geincludeerd: bool = control()
    levensloopaanbieder: OrganisationId | None = control(default=None)
    casusregisseur: OrganisationId | None = control(default=None)
    procesregisseur: OrganisationId | None = control(default=None)
    startniveau: Level | None = control(default=None)
    onderbouwing: LongText
    risicotaxatie: LongText | None = None

    @model_validator(mode="after")
    def _regie_only_when_included(self) -> Inclusiebesluit:
        named = {
            "levensloopaanbieder": self.levensloopaanbieder,
            "casusregisseur": self.casusregisseur,
            "procesregisseur": self.procesregisseur,
            "startniveau": self.startniveau,
        }
        if self.geincludeerd:
            missing = [name for name, value in named.items() if value is None]
            if missing:
                raise ValueError(f"an inclusion names {', '.join(missing)}")
        elif any(value is not None for value in named.values()):
            raise ValueError("a decision not to include names no regie or level")
        return self


class Netwerkwijziging(Payload):
    event_type = "netwerkwijziging"
    summary = "A partner joins or leaves the case network."
    organisatie: OrganisationId = control()
    wijziging: Literal["toegetreden", "uitgetreden"] = control()
    rol_in_casus: ShortText
    reden: LongText | None = None


class Planwijziging(Payload):
    event_type = "planwijziging"
    summary = "The integral levensloopplan set or changed: goals per domain, actions per owner."
    planversie: int = control(ge=1)
    doelen: list[Doel] = Field(min_length=1, max_length=50)
    acties: list[Actie] = Field(
        min_length=1, max_length=100, json_schema_extra={OWNED_BY: "organisatie"}
    )
    casusregisseur_contact: ShortText
    toelichting: LongText | None = None


class Signalering(Payload):
    event_type = "signalering"
    summary = "Early warning of relapse or risk."
    categorie: SignaleringCategorie
    ernst: Level
    gevraagde_actie: LongText
    toelichting: LongText | None = None
    diagnose: LongText | None = None
    medicatie: LongText | None = None


class Opschaling(Payload):
    event_type = "opschaling"
    summary = "Care intensity up (1 ambulant … 4 beveiligd/BIZ)."
    niveau: Level = control()
    reden: LongText


class Afschaling(Payload):
    event_type = "afschaling"
    summary = "Care intensity down: as light as possible, as heavy as needed."
    niveau: Level = control()
    reden: LongText


class Casusoverleg(Payload):
    event_type = "casusoverleg"
    summary = "A case meeting of the network: who took part, what was decided."
    deelnemers: list[OrganisationId] = Field(min_length=1, max_length=30)
    besluiten: LongText
    verslag: LongText | None = None


class Monitoringsmoment(Payload):
    event_type = "monitoringsmoment"
    summary = "A periodic check of how the person is doing against the plan."
    bevindingen: LongText
    risico_inschatting: Literal["laag", "verhoogd", "hoog"]
    volgende_moment: date | None = None


class Uitstroom(Payload):
    event_type = "uitstroom"
    summary = "The case ends; the retention clock starts."
    reden: UitstroomReden
    toelichting: LongText | None = None
    nazorg: LongText | None = None


CATALOGUE: dict[str, type[Payload]] = {
    cls.event_type: cls
    for cls in (
        Aanmelding,
        Triagebesluit,
        Inclusiebesluit,
        Netwerkwijziging,
        Planwijziging,
        Signalering,
        Opschaling,
        Afschaling,
        Casusoverleg,
        Monitoringsmoment,
        Uitstroom,
    )
}


def schema_of(event_type: str) -> type[Payload]:
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def _is_control(event_type: str, field: str) -> bool:
    extra = schema_of(event_type).model_fields[field].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(CONTROL))


# The catalogue is fixed at import; every stored and every read event asks these.
@functools.cache
def control_fields(event_type: str) -> tuple[str, ...]:
    return tuple(f for f in schema_of(event_type).model_fields if _is_control(event_type, f))


@functools.cache
def content_fields(event_type: str) -> tuple[str, ...]:
    return tuple(f for f in schema_of(event_type).model_fields if not _is_control(event_type, f))


def parse_payload(event_type: str, data: Any, *, today: date) -> Payload:
    """Validate raw payload data; every problem is reported with its field path."""
    schema = schema_of(event_type)
    if not isinstance(data, dict):
        raise PayloadInvalid(event_type, [FieldProblem("payload", "must be an object")])
    try:
        return schema.model_validate(data, context={"today": today})
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(str(p) for p in err["loc"]) or "payload", _message(err))
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise PayloadInvalid(event_type, problems) from None


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required"
    return str(err["msg"]).removeprefix("Value error, ")


def describe() -> dict[str, Any]:
    """The catalogue as data: per event type its summary, fields and JSON schema."""
    return {
        event_type: {
            "summary": schema.summary,
            "control_fields": list(control_fields(event_type)),
            "content_fields": list(content_fields(event_type)),
            "owned_fields": {
                name: extra[OWNED_BY]
                for name, info in schema.model_fields.items()
                if isinstance(extra := info.json_schema_extra, dict) and OWNED_BY in extra
            },
            "json_schema": schema.model_json_schema(),
        }
        for event_type, schema in CATALOGUE.items()
    }
