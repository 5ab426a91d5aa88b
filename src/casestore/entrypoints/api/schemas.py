"""Request and response bodies of the partner API (`XCreate` in, `XPublic` out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from casestore.domain.events.fields import MAX_JSON_INTEGER

IdempotencyKey = Field(
    default=None,
    min_length=1,
    max_length=200,
    description="The client's id for this event: a retry with the same id and content "
    "returns the first result; the same id with other content is a conflict. "
    "May instead be sent as the Idempotency-Key header.",
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(_In):
    type: str = Field(default="aanmelding", description="Always aanmelding: it opens a case.")
    payload: dict[str, Any]
    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="When it happened; for a signed submission, the time its document names "
        "(which is taken when this is absent).",
    )
    event_id: str | None = IdempotencyKey
    author_document: dict[str, Any] | None = Field(
        default=None,
        description="What the author signs (docs/provenance.md): the submission's place, id, "
        "time and control attributes, and a salted digest per content field. Required, with "
        "`signature` and `salts`, from organisations the service does not host.",
    )
    signature: dict[str, Any] | None = Field(
        default=None,
        description="The author organisation's signature over `author_document`: "
        "`{org_id, key_id, signature}`.",
    )
    salts: dict[str, str] | None = Field(
        default=None,
        description="Per sealed name (a content field, or `<field>/<owner>` for an owner's "
        "part of an owned field), the 16-byte salt of its disclosure, base64url.",
    )


class EventCreate(CaseCreate):
    type: str = Field(description="An event type of the catalogue, e.g. signalering.")
    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_JSON_INTEGER,
        description="Refuse (409) unless the case is at this version.",
    )


class EventRecorded(BaseModel):
    case_id: UUID
    event_id: str
    version: int
    position: int = Field(description="The event's place in the global order (feed cursor).")
    replayed: bool = Field(description="True when this was a retry of a recorded event.")


class SharedEventPublic(BaseModel):
    """One event as an organisation receives it: header, control attributes, only the
    sealed fields and grants that are its own, and what proves who wrote and who stored
    it (docs/provenance.md says how to check). `payload` only when decrypted."""

    region: str = Field(description="The region; bound into every ciphertext.")
    case_id: str
    event_id: str
    event_type: str
    version: int = Field(description="The event's place in its case, from 1.")
    position: int = Field(description="The event's place in the global order (feed cursor).")
    author_org: str
    author_user: str = Field(description="The client that posted it, as `client:<id>`.")
    occurred_at: datetime = Field(description="When it happened, as its author signed it.")
    recorded_at: datetime = Field(description="When the service stored it.")
    control: dict[str, Any] = Field(
        description="The readable control attributes (the aanmelding's `netwerk` included)."
    )
    sealed: dict[str, dict[str, Any]] = Field(
        description="Sealed field records the organisation was granted, by sealed name."
    )
    grants: list[dict[str, Any]] = Field(description="The organisation's grants of them.")
    withheld: list[str] = Field(description="Content fields of the type it does not receive.")
    submission_id: str | None = Field(
        description="The author's id of the submission (its idempotency key), signed."
    )
    author_document: dict[str, Any] | None = Field(
        description="What the author signed, purpose `casestore/author-document`."
    )
    signature: dict[str, Any] | None = Field(
        description="The author's signature over `author_document`."
    )
    countersignature: dict[str, Any] | None = Field(
        description="The custodian's signature, purpose `casestore/stored-event`, over the "
        "event as stored."
    )
    payload: dict[str, Any] | None = Field(
        default=None, description="The opened fields, only with `decrypt=true`."
    )
    corrected: list[dict[str, str]] = Field(
        default_factory=list,
        description="Fields a `correctie` superseded, withheld from every reader: per field "
        "its `field`, the `reason` `gecorrigeerd` and the `correctie` event id.",
    )
    restricted: list[dict[str, str]] = Field(
        default_factory=list,
        description="What keeps all of the event's content from the organisation now: per "
        "beperking in force the `reason` `beperkt` and the `beperking` event id, per objection "
        "upheld against it the `reason` `bezwaar_toegewezen` and the `bezwaar` event id. The "
        "event is then an envelope only: nothing sealed, no grant.",
    )


class KeyGeneration(BaseModel):
    org_id: str
    enc_key_id: str = Field(description="Key id of the X25519 key fields are sealed to.")
    enc_public_key: str = Field(description="base64url")
    sign_key_id: str = Field(description="Key id of the Ed25519 key the organisation signs with.")
    sign_public_key: str = Field(description="base64url")
    valid_from: datetime = Field(description="Not before: grants and signatures from then on.")
    retired_at: datetime | None = Field(
        description="From then on nothing is granted to it any more (its signatures made "
        "before still verify); null while it is in use."
    )
    generation: int | None = Field(
        default=None,
        description="The generation's number, for keys kept as generations "
        "(`casestore keys`); absent for keys from a key file.",
    )
    confirmed_at: datetime | None = Field(
        default=None,
        description="When the organisation confirmed it holds this generation's private key; "
        "null while it awaits confirmation (the generation before stays granted meanwhile).",
    )


class KeyDirectoryDocument(BaseModel):
    v: int = Field(description="Always 1.")
    region: str
    custodian: str = Field(description="The organisation that countersigns every event.")
    issued_at: datetime
    keys: list[KeyGeneration]


class KeyDirectoryPublic(BaseModel):
    """Every organisation's key generations, signed by the custodian (purpose
    `casestore/key-directory`); check it against the custodian key id you pinned."""

    document: KeyDirectoryDocument
    signature: dict[str, str] = Field(description="`{org_id, key_id, signature}`.")


class KnownCasePublic(BaseModel):
    case_id: UUID
    status: str = Field(description="aangemeld, getrieerd, geincludeerd, afgesloten, uitgestroomd.")
    lopend: bool = Field(description="Whether the case is still open.")


class BekendheidPublic(BaseModel):
    """What the ZVH knows of the person a case is about (the bekendheid check)."""

    case_id: UUID
    lopende_casus: UUID | None = Field(
        description="Set when this case is an aanmelding bij lopende casus: a referral by "
        "a partner outside the network of the person's open case, which is this id. "
        "The referrer was not told; handle the referral in the open case."
    )
    casussen: list[KnownCasePublic] = Field(
        description="Every case of the person, in the order they were opened."
    )
    zelfde_naam_andere_persoon: list[KnownCasePublic] = Field(
        default_factory=list,
        description="Set when this case's referral gave a BSN and a name and birth date "
        "that lead to another person in the index: that person's cases. The two were not "
        "joined (the BSN decided); judge whether they are two persons or one.",
    )


class FeedPage(BaseModel):
    items: list[SharedEventPublic]
    next_after: int = Field(description="Pass as `after` for the next page.")


class FieldProblem(BaseModel):
    field: str = Field(description="The field, dotted where nested (`payload.bsn`).")
    message: str


def _optional(description: str) -> Any:
    """A member only some problems carry: absent when they do not, never null."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="A URI naming the kind of problem (`about:blank`: the status says it)."
    )
    title: str
    status: int
    detail: str
    instance: str = Field(description="The path of the request that met the problem.")
    errors: list[FieldProblem] | SkipJsonSchema[None] = _optional(
        "The fields that are invalid (422)."
    )
    current_version: int | SkipJsonSchema[None] = _optional(
        "The case's version now (409 version-conflict)."
    )
    case_id: str | SkipJsonSchema[None] = _optional(
        "The person's open case (409 person-has-open-case)."
    )


class AuditEntryPublic(BaseModel):
    """One entry of the audit trail, in the Logboek Dataverwerkingen shape (docs/audit.md)."""

    model_config = ConfigDict(extra="allow")

    trace_id: str
    operation_id: str
    parent_operation_id: str | None
    status: str = Field(description="`ok` or `error`.")
    start: str
    end: str
    activities: list[str] = Field(description="Processing activities, as `rule@policy-version`.")
    action: str
    client: str | None
    organisation: str | None
    role: str
    on_behalf_of: str | None
    receiver: str | None
    person: str | None = Field(description="The person's pseudonymous id.")
    case: str | None
    events: list[str]
    fields: list[str] = Field(description="Field names; never a value.")
    rules: list[str]
    grounds: list[str]
    conditions: list[str]
    policy_version: str
    reason: str | None


class AuditItemPublic(BaseModel):
    seq: int = Field(description="The entry's place in the chain: 1, 2, 3, …")
    entry: AuditEntryPublic
    previous: str = Field(description="The chain hash of the entry before (hex SHA-256).")
    hash: str = Field(description="SHA-256 over the canonical JSON of entry and previous.")


class AuditPage(BaseModel):
    items: list[AuditItemPublic]
    next_after: int = Field(description="Pass as `after` for the next page.")


class BlastRadiusCreate(_In):
    """Exactly one starting point: a key generation (`organisation` and `generation`), a
    client (`client`), or a time window (`from` and `to`, optionally one `organisation`)."""

    organisation: str | None = Field(default=None, min_length=2, max_length=64)
    generation: int | None = Field(default=None, ge=1, le=1_000_000)
    client: str | None = Field(default=None, min_length=1, max_length=64)
    from_: AwareDatetime | None = Field(default=None, alias="from")
    to: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_starting_point(self) -> BlastRadiusCreate:
        key = self.generation is not None
        window = self.from_ is not None or self.to is not None
        if sum((key, self.client is not None, window)) != 1:
            raise ValueError("give exactly one of: generation (with organisation), client, from/to")
        if key and self.organisation is None:
            raise ValueError("a key generation needs its organisation")
        if window and (self.from_ is None or self.to is None or self.from_ >= self.to):
            raise ValueError("a window needs from before to")
        if self.client is not None and self.organisation is not None:
            raise ValueError("a client belongs to one organisation already: leave organisation out")
        return self


class RestrictionCreate(_In):
    """A restriction of the right of access (UAVG art. 41) for the person with `bsn`:
    `case` and/or `organisation` name what the report withholds (neither: everything)."""

    bsn: str = Field(
        min_length=9,
        max_length=9,
        description="The person's BSN: used only to find the pseudonym, neither stored nor logged.",
    )
    case: UUID | None = Field(default=None, description="Only this case of the person.")
    organisation: str | None = Field(
        default=None,
        min_length=2,
        max_length=64,
        description="Only what this organisation received, read or provided.",
    )
    ground: str = Field(
        min_length=1,
        max_length=500,
        description="The ground, e.g. `UAVG art. 41 lid 1 sub d: lopend opsporingsonderzoek`.",
    )
    requested_by: str = Field(
        min_length=2, max_length=64, description="The organisation that invoked it."
    )
    may_mention: bool = Field(
        description="Whether the report may say that a restriction applies (only where "
        "saying so does not harm what it protects)."
    )


class RestrictionPublic(BaseModel):
    restriction_id: str
    person: str
    case: str | None
    organisation: str | None
    ground: str
    requested_by: str
    may_mention: bool
    recorded_by: str
    recorded_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None


class SubjectReportCreate(_In):
    """Exactly one way to find the person: the BSN, the name with the birth date (a person
    registered without a BSN), or the id of one of the person's cases."""

    bsn: str | None = Field(
        default=None,
        min_length=9,
        max_length=9,
        description="The person's BSN: used only to find the pseudonym, neither stored nor logged.",
    )
    naam: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The person's name as referred (spelling, accents and case do not "
        "matter), with `geboortedatum`: used only to find the pseudonym, neither stored "
        "nor logged.",
    )
    geboortedatum: date | None = Field(default=None, description="With `naam`.")
    zaak: UUID | None = Field(default=None, description="The id of one of the person's cases.")

    @model_validator(mode="after")
    def _one_way(self) -> SubjectReportCreate:
        by_name = self.naam is not None or self.geboortedatum is not None
        if by_name and (self.naam is None or self.geboortedatum is None):
            raise ValueError("naam and geboortedatum go together")
        if sum((self.bsn is not None, by_name, self.zaak is not None)) != 1:
            raise ValueError("give exactly one of bsn, naam with geboortedatum, or zaak")
        return self
