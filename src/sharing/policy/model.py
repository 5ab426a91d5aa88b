"""The policy document as typed data: what a region's YAML file may say.

These models check only the *shape* of a document (types, identifier syntax, the allowed
roles, what each kind of ground must name). Whether its references hold together —
organisations, grounds, case roles, event types and fields that exist — is checked against
the event catalogue in `checks.py`, and whether it is lawful in `lint.py`, so that the
loader can point at the offending line.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator, model_validator

from sharing.policy.law import (
    Agreement,
    Category,
    Ground,
    Regime,
    Retention,
    Slug,
    Text,
    _Document,
)

Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
"""An event type or field name as the catalogue spells it."""


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
    huisarts = "huisarts"
    bewindvoering = "bewindvoering"
    veilig_thuis = "veilig-thuis"


class Scope(StrEnum):
    """How much of a granted field an organisation reads."""

    all = "all"
    own = "own"
    """Only the entries of an owned field (e.g. plan actions) that the organisation owns."""


class CareLevel(_Document):
    """A care level (1 ambulant … 4 beveiligd/BIZ) as the region names it, and the settings
    of its care: an opschaling or afschaling to the level that names a setting names one of
    these."""

    level: int = Field(ge=1, le=4)
    name: Text
    settings: tuple[Name, ...] = Field(min_length=1)


class Region(_Document):
    """The region, and what its partners agreed on the process beside the sharing."""

    id: Slug
    name: Text
    care_levels: tuple[CareLevel, ...] = ()
    """The region's names of the care levels; none: levels 1 … 4 without names."""
    stability_months: int | None = Field(default=None, ge=1, le=240)
    """How long a case is stable (no signalering, opschaling, escalatie or crisisoverleg)
    before an uitstroom may give `stabiel` as its reason; none: no such reason here."""

    @field_validator("care_levels")
    @classmethod
    def _levels_once(cls, value: tuple[CareLevel, ...]) -> tuple[CareLevel, ...]:
        levels = [care.level for care in value]
        if len(set(levels)) != len(levels):
            raise ValueError("each care level is named once")
        return value

    def care_level(self, level: int) -> CareLevel | None:
        return next((care for care in self.care_levels if care.level == level), None)


class Organisation(_Document):
    """A partner: its roles, the regime it processes under, and what the law lets it do."""

    id: Slug
    name: Text
    roles: tuple[Role, ...] = Field(min_length=1)
    regime: Regime = Regime.avg
    bsn: Slug | None = None
    """The ground (a law) that lets it process the BSN; without one it may not (UAVG art. 46)."""
    beroepsgeheim: Text | None = None
    """The source of its professionals' duty of confidentiality (e.g. WGBO, art. 7:457 BW):
    content they author leaves the treatment relationship only through a door."""


class CaseRole(_Document):
    """A role in one case (the levensloopaanbieder, the wijkagent …), and which organisation
    roles may hold it. A treatment role is part of the treatment relationship: professionals
    "rechtstreeks betrokken bij de uitvoering van de behandelingsovereenkomst" (art. 7:457 lid
    2 BW) share with each other without a door."""

    id: Slug
    description: Text
    held_by: tuple[Role, ...] = Field(min_length=1)
    treatment: bool = False


class Kader(_Document):
    """A juridisch kader a rule can require to be in force (a zorgmachtiging, bijzondere
    voorwaarden …); a statutory duty to share often exists only under one."""

    id: Slug
    title: Text
    reference: Text


class Parties(_Document):
    """Authors or recipients: holders of the case roles in the case, every organisation with
    one of the roles, and the named organisations."""

    case_roles: tuple[Slug, ...] = ()
    roles: tuple[Role, ...] = ()
    organisations: tuple[Slug, ...] = ()

    @model_validator(mode="after")
    def _someone(self) -> Parties:
        if not (self.case_roles or self.roles or self.organisations):
            raise ValueError("name at least one case role, role or organisation")
        return self

    def __str__(self) -> str:
        parts = [f"case roles {', '.join(self.case_roles)}"] if self.case_roles else []
        parts += [f"roles {', '.join(self.roles)}"] if self.roles else []
        parts += [f"organisations {', '.join(self.organisations)}"] if self.organisations else []
        return " and ".join(parts)


RuleRecipients = Parties


class ConditionKind(StrEnum):
    toestemming = "toestemming"
    """The betrokkene consented to the recipient receiving it."""
    conflict_van_plichten = "conflict_van_plichten"
    """The author weighed its duties in this case and recorded that it must share."""
    kader = "kader"
    """One of the named juridische kaders is in force in this case."""


class KaderCondition(_Document):
    kader: tuple[Slug, ...] = Field(min_length=1)


class OnJoin(StrEnum):
    """What a partner that joins later receives of the events before it joined."""

    none = "none"
    latest = "latest"
    """The latest event of each of the rule's types (the current plan, the inclusion)."""
    all = "all"


class OnLeave(StrEnum):
    revoke = "revoke"
    keep = "keep"
    """Kept until the retention term ends."""


class Rule(_Document):
    """One flow: events of these types, by these authors, to these recipients, these content
    fields, on a providing ground (the author's regime) and a receiving ground (the
    recipient's), for a purpose and a time, perhaps only under a condition in the case.

    `fields: []` grants the header only (the event with its control attributes, no content).
    `own_only: true` limits owned fields (a list whose entries each name an owner) to the
    entries the recipient owns. Without `authors` the rule covers every author the
    authorship section allows. Validity dates are inclusive and local to the policy's
    timezone.
    """

    id: Slug
    description: Text
    event_types: tuple[Name, ...] = Field(min_length=1)
    authors: Parties | None = None
    recipients: Parties
    fields: tuple[Name, ...]
    own_only: bool = False
    providing: tuple[Slug, ...] = ()
    receiving: tuple[Slug, ...] = ()
    agreements: tuple[Slug, ...] = ()
    purpose: Text
    retention: Retention
    condition: ConditionKind | KaderCondition | None = None
    on_join: OnJoin = OnJoin.none
    on_leave: OnLeave = OnLeave.revoke
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_single_grounds(cls, data: Any) -> Any:
        if isinstance(data, dict) and "grounds" in data:
            raise ValueError(
                "a rule has no 'grounds': name the providing ground (the author's) and the "
                "receiving ground (the recipient's), and list agreements apart"
            )
        return data

    @model_validator(mode="after")
    def _kader_is_a_mapping(self) -> Rule:
        if self.condition is ConditionKind.kader:
            raise ValueError("a kader condition names the kaders: {kader: [id, …]}")
        return self

    @property
    def scope(self) -> Scope:
        return Scope.own if self.own_only else Scope.all

    @property
    def condition_kind(self) -> ConditionKind | None:
        if isinstance(self.condition, KaderCondition):
            return ConditionKind.kader
        return self.condition

    @property
    def grounds(self) -> tuple[str, ...]:
        """Every ground the rule cites, providing first."""
        return tuple(dict.fromkeys((*self.providing, *self.receiving)))

    def in_force(self, day: date) -> bool:
        """Whether the rule applies on `day` (both ends inclusive)."""
        starts = self.valid_from is None or self.valid_from <= day
        return starts and (self.valid_until is None or day <= self.valid_until)


class Authorship(_Document):
    """Who may author events of some types: holders of the case roles in the case, every
    organisation with one of the roles, and the named ones. Authoring is default deny, like
    reading."""

    description: Text
    event_types: tuple[Name, ...] = Field(min_length=1)
    authors: Parties


class HeaderSpecial(_Document):
    """What receiving an event of a type reveals, even with no content field granted."""

    covers: tuple[Category, ...] = Field(min_length=1)
    why: Text


class SpecialData(_Document):
    """Which data of one event type is special (AVG art. 9 and 10).

    Free-text fields (the catalogue marks them) count as both health and criminal data,
    because they routinely hold either, unless `not_special` says why a field does not.
    """

    header: HeaderSpecial | None = None
    fields: dict[Name, tuple[Category, ...]] = Field(default_factory=dict)
    not_special: dict[Name, Text] = Field(default_factory=dict)


Days = Annotated[int, Field(ge=1, le=3660)]


class AttentionTerms(_Document):
    """The region's terms for the coordinators' worklist: after how long a case's own
    dates raise a signal. Each counts from the date the record holds (the last
    monitoringsmoment, the plan in force, an aanmelding, a question asked ...)."""

    monitoring_days: Days = 42
    """Days after the last monitoringsmoment (or the inclusion) that monitoring is overdue."""
    plan_review_days: Days = 91
    """Days after the plan in force was set (or the inclusion) that it is due for review."""
    kader_notice_weeks: Annotated[int, Field(ge=1, le=520)] = 6
    """Weeks before a juridisch kader ends that the worklist says so."""
    triage_days: Days = 10
    """Days after an aanmelding that it should have been triaged."""
    bekendheid_days: Days = 5
    """Days a bekendheidsvraag may stay unanswered."""
    follow_up_days: Days = 3
    """Days a signalering may wait for a reactie, a change of level or a casusoverleg."""
    actions_days: Days = 28
    """Days after a plan is set that each of its actions should have a reported status."""
    informing_days: Days = 14
    """Days after the inclusion that the person should have been informed (or informing
    postponed on a ground)."""
    stable_days: Days = 182
    """Days without a signalering or opschaling after which an included case is a
    candidate for uitstroom."""
    retention_notice_days: Days = 30
    """Days before an ended case is due for destruction that the worklist says so."""


class Policy(_Document):
    """A region's sharing policy: who takes part, on which grounds, and who receives what."""

    region: Region
    version: int | str
    custodian: Slug
    """The organisation (a ZVH) that runs the service for the region."""
    timezone: str = "Europe/Amsterdam"
    """The zone in which validity dates are read."""
    attention_terms: AttentionTerms = Field(default_factory=AttentionTerms)
    """The worklist's terms (region settings); each has a default."""
    organisations: tuple[Organisation, ...] = Field(min_length=1)
    grounds: tuple[Ground, ...] = Field(min_length=1)
    agreements: tuple[Agreement, ...] = ()
    case_roles: tuple[CaseRole, ...] = ()
    kaders: tuple[Kader, ...] = ()
    special_data: dict[Name, SpecialData] = Field(default_factory=dict)
    """Per event type what is special in its header and its fields."""
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

    def agreement(self, agreement_id: str) -> Agreement | None:
        return next((a for a in self.agreements if a.id == agreement_id), None)

    def case_role(self, role_id: str) -> CaseRole | None:
        return next((r for r in self.case_roles if r.id == role_id), None)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
