"""The policy document as typed data: what a region's YAML file may say.

These models check only the *shape* of a document (types, identifier syntax, the allowed
roles). Whether its references hold together — organisations, grounds, event types and
fields that exist — is checked against the event catalogue in `checks.py`, so that the
loader can point at the offending line.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Slug = Annotated[
    str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
]
"""Identifier of an organisation, ground, rule or region: lowercase letters, digits, dashes."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
"""An event type or field name as the catalogue spells it."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Role(StrEnum):
    """The roles an organisation can play in the levensloopaanpak; rules may name them."""

    zvh = "zvh"
    gemeente = "gemeente"
    ggd = "ggd"
    ggz = "ggz"
    forensische_zorg = "forensische-zorg"
    verslavingszorg = "verslavingszorg"
    lvb_zorg = "lvb-zorg"
    biz_kliniek = "biz-kliniek"
    maatschappelijke_opvang = "maatschappelijke-opvang"
    woningcorporatie = "woningcorporatie"
    politie = "politie"
    om = "om"
    reclassering = "reclassering"
    dji = "dji"
    veiligheidshuis = "veiligheidshuis"


class Scope(StrEnum):
    """How much of a granted field an organisation reads."""

    all = "all"
    own = "own"
    """Only the entries of an owned field (e.g. plan actions) that the organisation owns."""


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Document):
    id: Slug
    name: Text


class Organisation(_Document):
    id: Slug
    name: Text
    roles: tuple[Role, ...] = Field(min_length=1)


class Ground(_Document):
    """A legal basis for sharing, cited by rules."""

    id: Slug
    title: Text
    reference: Text
    special_category: bool = False
    """True when the ground allows special-category data (AVG art. 9) or criminal data (art. 10)."""


class Retention(_Document):
    """How long recipients may keep what a rule grants: a period after some event type."""

    years: int = Field(default=0, ge=0, le=100)
    months: int = Field(default=0, ge=0, le=1200)
    after: Name

    @model_validator(mode="after")
    def _some_period(self) -> Retention:
        if self.years == 0 and self.months == 0:
            raise ValueError("a retention period needs years or months")
        return self

    def __str__(self) -> str:
        parts = [f"{self.years} years"] if self.years else []
        parts += [f"{self.months} months"] if self.months else []
        return f"{' '.join(parts)} after {self.after}"


class RuleRecipients(_Document):
    """Who a rule grants to: every organisation with one of the roles, and the named ones."""

    roles: tuple[Role, ...] = ()
    organisations: tuple[Slug, ...] = ()

    @model_validator(mode="after")
    def _someone(self) -> RuleRecipients:
        if not self.roles and not self.organisations:
            raise ValueError("a rule needs at least one recipient role or organisation")
        return self

    def __str__(self) -> str:
        parts = [f"roles {', '.join(self.roles)}"] if self.roles else []
        parts += [f"organisations {', '.join(self.organisations)}"] if self.organisations else []
        return " and ".join(parts)


class Rule(_Document):
    """One grant: these event types, to these recipients, these content fields, on these grounds.

    `fields: []` grants the header only (the event with its control attributes, no content).
    `own_only: true` limits owned fields (a list whose entries each name an owner) to the
    entries the recipient owns. Validity dates are inclusive and local to the policy's timezone.
    """

    id: Slug
    description: Text
    event_types: tuple[Name, ...] = Field(min_length=1)
    recipients: RuleRecipients
    fields: tuple[Name, ...]
    own_only: bool = False
    grounds: tuple[Slug, ...] = Field(min_length=1)
    purpose: Text
    retention: Retention
    valid_from: date | None = None
    valid_until: date | None = None

    @property
    def scope(self) -> Scope:
        return Scope.own if self.own_only else Scope.all

    def in_force(self, day: date) -> bool:
        """Whether the rule applies on `day` (both ends inclusive)."""
        starts = self.valid_from is None or self.valid_from <= day
        return starts and (self.valid_until is None or day <= self.valid_until)


class Authorship(_Document):
    """Who may author events of some types: every organisation with one of the roles, and
    the named ones. Authoring is default deny, like reading."""

    description: Text
    event_types: tuple[Name, ...] = Field(min_length=1)
    authors: RuleRecipients


class Policy(_Document):
    """A region's sharing policy: who takes part, on which grounds, and who receives what."""

    region: Region
    version: int | str
    custodian: Slug
    """The organisation (a ZVH) that runs the service for the region."""
    timezone: str = "Europe/Amsterdam"
    """The zone in which validity dates are read."""
    organisations: tuple[Organisation, ...] = Field(min_length=1)
    grounds: tuple[Ground, ...] = Field(min_length=1)
    special_category_fields: dict[Name, tuple[Name, ...]] = Field(default_factory=dict)
    """Per event type the fields that hold special-category or criminal data (AVG art. 9/10)."""
    rules: tuple[Rule, ...] = ()
    authorship: tuple[Authorship, ...] = ()
    """Who may write which event types; network membership is checked beside it."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def organisation(self, org_id: str) -> Organisation | None:
        return next((o for o in self.organisations if o.id == org_id), None)

    def ground(self, ground_id: str) -> Ground | None:
        return next((g for g in self.grounds if g.id == ground_id), None)

    def is_special(self, event_type: str, field: str) -> bool:
        return field in self.special_category_fields.get(event_type, ())
