"""The legal vocabulary a policy is written in: grounds, agreements, regimes, categories.

A Dutch flow of personal data needs a lawful basis on both sides: the organisation that
provides it needs a ground to *verstrekken* under its own regime, the one that receives it a
ground to *verkrijgen en verwerken* under its own. Which regime applies is a property of the
organisation: the AVG for most, the Wpg for the police in their law-enforcement tasks, the
Wjsg for the OM (Richtlijn 2016/680 takes those two out of the AVG).

A ground is typed so the lint can reason about it: an AVG art. 6 basis, an art. 9 exception
(health) with the Dutch provision that fills it in, an art. 10 exception (criminal data) with
its UAVG article and lid, a sectoral law, or a *door* through a beroepsgeheim. A door is not a
basis for processing at all: the WGBO and the Wet BIG forbid a treating professional to
share, and toestemming, a wettelijke plicht or a conflict van plichten only lift that
prohibition for one flow. A convenant, privacyprotocol or werkafspraken is an *agreement*:
partners may cite it, but an agreement to share is never itself a legal ground.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Slug = Annotated[
    str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
]
"""Identifier of an organisation, ground, rule or region: lowercase letters, digits, dashes."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class _Document(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )


class Regime(StrEnum):
    """The data-protection law an organisation processes under."""

    avg = "avg"
    wpg = "wpg"
    """The police in their law-enforcement tasks (Wet politiegegevens)."""
    wjsg = "wjsg"
    """The OM (Wet justitiële en strafvorderlijke gegevens)."""


class Category(StrEnum):
    """Special data the lint tracks: AVG art. 9 (here: health, which includes a psychiatric
    disorder, LVB, NAH and addiction) and art. 10 (criminal convictions and offences)."""

    health = "health"
    criminal = "criminal"


class GroundKind(StrEnum):
    avg_6 = "avg-6"
    avg_9 = "avg-9"
    avg_10 = "avg-10"
    sectoral = "sectoral"
    door = "door"


class Door(StrEnum):
    """The ways through a beroepsgeheim (KNMG/GGZ Nederland, Wegwijzer beroepsgeheim)."""

    toestemming = "toestemming"
    wettelijke_plicht = "wettelijke_plicht"
    conflict_van_plichten = "conflict_van_plichten"


class AgreementKind(StrEnum):
    convenant = "convenant"
    privacyprotocol = "privacyprotocol"
    werkafspraken = "werkafspraken"


class Anchor(StrEnum):
    """Where a retention term starts counting."""

    case_end = "case_end"
    """The end of the case, whatever ended it (uitstroom, triage elsewhere, no inclusion)."""
    event = "event"
    """The moment the event occurred."""


class Retention(_Document):
    """A length of time counted from an anchor: how long a rule lets recipients keep what
    it grants, or the longest a law allows."""

    years: int = Field(default=0, ge=0, le=100)
    months: int = Field(default=0, ge=0, le=1200)
    counted_from: Anchor = Field(alias="from")

    @model_validator(mode="after")
    def _some_length(self) -> Retention:
        if self.years == 0 and self.months == 0:
            raise ValueError("a period needs years or months")
        return self

    @property
    def in_months(self) -> int:
        return 12 * self.years + self.months

    def __str__(self) -> str:
        parts = [f"{self.years} years"] if self.years else []
        parts += [f"{self.months} months"] if self.months else []
        anchor = "the end of the case" if self.counted_from is Anchor.case_end else "the event"
        return f"{' '.join(parts)} from {anchor}"

    def exceeds(self, limit: Retention) -> bool:
        """Whether a term counted like this can last longer than `limit`.

        A term counted from the end of the case can outlast any term counted from the
        event, however short, because a levensloop case has no fixed end.
        """
        if self.counted_from is Anchor.case_end and limit.counted_from is Anchor.event:
            return True
        return self.in_months > limit.in_months

    def expires_at(self, occurred_at: datetime, case_end: datetime | None) -> datetime | None:
        """When the term ends for an event that occurred at `occurred_at`; None while a term
        counted from the end of the case has not started."""
        start = occurred_at if self.counted_from is Anchor.event else case_end
        if start is None:
            return None
        return add_months(start, self.in_months)


def add_months(start: datetime, months: int) -> datetime:
    """The same day `months` calendar months on, or the month's last day where it is
    shorter (31 January plus one month is 28 or 29 February): how terms in months run."""
    counted = start.month - 1 + months
    year, month = start.year + counted // 12, counted % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


_AVG_6_BASES = Literal["a", "b", "c", "d", "e", "f"]
_AVG_9_EXCEPTIONS = Literal["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
_NEEDS_NATIONAL_LAW = frozenset("bghij")
"""Art. 9 lid 2 exceptions that only apply as filled in by Union or member-state law."""
_UAVG_10 = re.compile(r"^art\. 3[123] lid \d+")
_LAW_REGIMES = {
    "wpg": Regime.wpg,
    "wet politiegegevens": Regime.wpg,
    "wjsg": Regime.wjsg,
    "wet justitiële en strafvorderlijke gegevens": Regime.wjsg,
}


class Ground(_Document):
    """A legal basis a rule may cite on its providing or receiving side.

    `reference` is what a privacy officer reads (with article, lid and sub); the typed keys
    are what the lint reasons with. `verify` says what the region's FG still has to check.
    """

    id: Slug
    kind: GroundKind
    title: Text
    reference: Text
    basis: _AVG_6_BASES | None = None
    """avg-6: the letter of AVG art. 6 lid 1."""
    exception: _AVG_9_EXCEPTIONS | None = None
    """avg-9: the letter of AVG art. 9 lid 2."""
    uavg: Text | None = None
    """avg-9 and avg-10: the UAVG article that fills the exception in (for avg-10 with lid)."""
    law: Text | None = None
    """sectoral: the law (WGS, Wpg, Wjsg, Wvggz, Wzd, Wmo 2015, Jeugdwet …); avg-9: a law
    other than the UAVG that fills the exception in."""
    door: Door | None = None
    covers: tuple[Category, ...] | None = None
    """The special data the ground allows; avg-9 covers health and avg-10 criminal data
    by definition, a sectoral law only what it says."""
    in_force_from: date | None = None
    in_force_until: date | None = None
    max_retention: Retention | None = None
    """The longest the law lets the data be kept, counted as the law counts it."""
    verify: Text | None = None

    @model_validator(mode="after")
    def _typed(self) -> Ground:
        problems = list(_kind_problems(self))
        if self.in_force_from and self.in_force_until and self.in_force_until < self.in_force_from:
            problems.append("in_force_until is before in_force_from")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def regime(self) -> Regime | None:
        """The regime whose parties the ground serves; None for a door, which serves any
        beroepsgeheim holder."""
        if self.kind is GroundKind.door:
            return None
        if self.kind is GroundKind.sectoral and self.law is not None:
            return _LAW_REGIMES.get(self.law.strip().lower(), Regime.avg)
        return Regime.avg

    @property
    def categories(self) -> frozenset[Category]:
        if self.covers is not None:
            return frozenset(self.covers)
        if self.kind is GroundKind.avg_9:
            return frozenset({Category.health})
        if self.kind is GroundKind.avg_10:
            return frozenset({Category.criminal})
        return frozenset()

    @property
    def is_basis(self) -> bool:
        """Whether the ground can carry processing on its own (a door never can)."""
        return self.kind in (GroundKind.avg_6, GroundKind.sectoral)

    @property
    def law_name(self) -> str:
        """The law as a lint message names it."""
        if self.kind is GroundKind.sectoral and self.law:
            return self.law
        if self.kind is GroundKind.door:
            return "beroepsgeheim"
        return "AVG"

    def in_force(self, day: date) -> bool:
        starts = self.in_force_from is None or self.in_force_from <= day
        return starts and (self.in_force_until is None or day <= self.in_force_until)


def _kind_problems(ground: Ground) -> list[str]:
    kind = ground.kind
    allowed = {
        GroundKind.avg_6: {"basis"},
        GroundKind.avg_9: {"exception", "uavg", "law", "covers"},
        GroundKind.avg_10: {"uavg", "covers"},
        GroundKind.sectoral: {"law", "covers"},
        GroundKind.door: {"door"},
    }[kind]
    typed = {"basis", "exception", "uavg", "law", "door", "covers"}
    problems = [
        f"{key} does not belong to a ground of kind {kind}"
        for key in sorted(typed - allowed)
        if getattr(ground, key) is not None
    ]
    if kind is GroundKind.avg_6 and ground.basis is None:
        problems.append("an avg-6 ground names its basis (AVG art. 6 lid 1 sub a-f)")
    if kind is GroundKind.avg_9:
        if ground.exception is None:
            problems.append("an avg-9 ground names its exception (AVG art. 9 lid 2 sub a-j)")
        elif ground.exception in _NEEDS_NATIONAL_LAW and not (ground.uavg or ground.law):
            problems.append(
                f"AVG art. 9 lid 2 sub {ground.exception} applies only as filled in by law: "
                "name the UAVG article (uavg) or the law"
            )
        if ground.covers is not None and set(ground.covers) != {Category.health}:
            problems.append("an avg-9 ground covers health data only")
    if kind is GroundKind.avg_10:
        if ground.uavg is None or not _UAVG_10.match(ground.uavg):
            problems.append(
                "an avg-10 ground names its UAVG article with lid (uavg: 'art. 33 lid 1 sub b')"
            )
        if ground.covers is not None and set(ground.covers) != {Category.criminal}:
            problems.append("an avg-10 ground covers criminal data only")
    if kind is GroundKind.sectoral and not ground.law:
        problems.append("a sectoral ground names its law")
    if kind is GroundKind.door and ground.door is None:
        problems.append("a door names which: toestemming, wettelijke_plicht, conflict_van_plichten")
    return problems


class Agreement(_Document):
    """An agreement between the partners: never a legal ground, but worth citing."""

    id: Slug
    kind: AgreementKind
    title: Text
    reference: Text
