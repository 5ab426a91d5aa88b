"""The person's rights on their record, as events: correctie, clientverklaring, bezwaar,
beperking (AVG art. 16, 18, 21; the own statement of art. 16 where a correction is refused).

Each right exercised is a fact of the case, signed, dated and kept like every other, so
the record shows that it was exercised and how it was decided.

A `correctie` supersedes content of an earlier event: the fields it names are withheld
from then on in every read, feed, export and re-grant, marked as corrected by it, and the
new values travel sealed in the correctie itself. The old ciphertext stays in the event
store (events are never rewritten, the proof chain stays whole), but no organisation is
granted it again. Which event and which fields are control: the sharing layer must know
without a key what no longer may be opened. That the author of the corrected event (or
the custodian, on the person's request) writes it is checked where the stored events are
known, by `check_correction`.

The others are recorded by the regie of the case, which handles the person's requests
(procesregie). What a `beperking` in force and an upheld `bezwaar` leave the partners (the
envelope, not the content) is decided in `casestore.domain.processing_restrictions`; a
`beperking_opgeheven` ends a beperking before its `tot` (art. 18(3): the person is told
first).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, JsonValue, StringConstraints, model_validator

from casestore.domain import errors
from casestore.domain.events.fields import (
    FREE_TEXT,
    EventRef,
    LongText,
    OrganisationId,
    PastDate,
)
from casestore.domain.events.payload import Payload, control
from casestore.domain.events.registry import event_type
from casestore.domain.processing_restrictions import fold

if TYPE_CHECKING:
    from casestore.domain.case import Case

CORRECTIE = "correctie"
CORRECTED = "gecorrigeerd"
"""The reason a read gives for a field it withholds because a correctie superseded it."""

FieldName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z]+(_[a-z]+)*$")
]
NewValues = Annotated[dict[FieldName, JsonValue], Field(min_length=1, max_length=20), FREE_TEXT]


@event_type(
    "correctie",
    "Fields of an earlier event are corrected: the old values are withheld from then on.",
)
class Correctie(Payload):
    """The content fields `velden` of event `gebeurtenis` are superseded by
    `nieuwe_waarden` (AVG art. 16)."""

    gebeurtenis: EventRef = control()
    velden: list[FieldName] = control(min_length=1, max_length=20)
    op_verzoek_van_betrokkene: bool = control(default=False)
    """Written by the custodian on the person's request rather than by the author."""
    nieuwe_waarden: NewValues
    toelichting: LongText | None = None

    @model_validator(mode="after")
    def _a_value_per_field(self) -> Correctie:
        if len(set(self.velden)) != len(self.velden):
            raise ValueError("velden names a field twice")
        if set(self.nieuwe_waarden) != set(self.velden):
            raise ValueError("nieuwe_waarden holds a new value for each of velden, no other")
        return self

    @classmethod
    def check_author(cls, case: Case, author: str, control: dict[str, Any]) -> None:
        """Who corrected what is checked against the stored events (`check_correction`);
        the custodian may act on the person's request without being in the network."""

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        # A correction is due whenever a wrong value is found, from the aanmelding on. A
        # field corrected once is corrected again by correcting the correctie.
        done = corrections_of(case).get(str(control["gebeurtenis"]), {})
        again = sorted(set(control["velden"]) & set(done))
        if again:
            raise errors.AlreadyCorrected(str(control["gebeurtenis"]), again, done[again[0]])

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        records = dict(corrections_of(case))
        target = str(event.control["gebeurtenis"])
        fields = {**records.get(target, {})}
        for name in event.control["velden"]:
            fields[str(name)] = event.event_id
        records[target] = fields
        case.corrections = records


@event_type(
    "clientverklaring",
    "The person's own statement about their record, added to it as they gave it.",
)
class Clientverklaring(Payload):
    by_regie = True
    ontvangen_op: PastDate = control()
    betreft: list[EventRef] | None = control(default=None, max_length=100)
    """The events the statement is about, when it names some."""
    verklaring: LongText

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """The person may add a statement from the aanmelding on."""


@event_type(
    "bezwaar",
    "The person objects to the processing (AVG art. 21), and the decision on it.",
)
class Bezwaar(Payload):
    """An objection as lodged (`in_behandeling`), or the decision on one lodged before
    (`bezwaar` names it) or decided at once."""

    by_regie = True
    ingediend_op: PastDate = control()
    besluit: Literal["in_behandeling", "toegewezen", "afgewezen"] = control()
    besloten_op: PastDate | None = control(default=None)
    bezwaar: EventRef | None = control(default=None)
    """The objection this decides, recorded earlier as in behandeling."""
    tegen: list[OrganisationId] | None = control(default=None, min_length=1, max_length=50)
    """The organisations whose processing the person objects to (none named: every
    partner's); upheld, they open none of the case's content from then on. A decision
    takes those of the objection it decides."""
    gronden: LongText | None = None
    motivering: LongText | None = None

    @model_validator(mode="after")
    def _decided_with_a_date(self) -> Bezwaar:
        pending = self.besluit == "in_behandeling"
        if pending and (self.besloten_op is not None or self.bezwaar is not None):
            raise ValueError("an objection in behandeling has no decision date nor decides one")
        if not pending and self.besloten_op is None:
            raise ValueError("a decision on an objection has its date, besloten_op")
        if self.bezwaar is not None and self.tegen is not None:
            raise ValueError("a decision takes tegen from the objection it decides")
        return self

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        decided = control.get("bezwaar")
        if decided is None:
            return
        if objections_of(case).get(str(decided)) != "in_behandeling":
            raise errors.ObjectionNotPending(str(decided))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        records = dict(objections_of(case))
        records[str(event.control.get("bezwaar") or event.event_id)] = str(event.control["besluit"])
        case.objections = records
        case.restraints = fold(restraints_state(case), event)


@event_type(
    "beperking",
    "Processing is restricted (AVG art. 18): on which ground, from and until when.",
)
class Beperking(Payload):
    by_regie = True
    grond: Literal[
        "juistheid_betwist", "onrechtmatig", "nodig_voor_rechtsvordering", "bezwaar_in_behandeling"
    ] = control()
    ingang: PastDate = control()
    tot: date | None = control(default=None)
    """The first day it no longer holds; none: until it is lifted."""
    toelichting: LongText | None = None

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Beperking:
        if self.tot is not None and self.tot <= self.ingang:
            raise ValueError("tot lies after ingang")
        return self

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        """A restriction may be asked for from the aanmelding on."""

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.restraints = fold(restraints_state(case), event)


@event_type(
    "beperking_opgeheven",
    "A beperking is lifted before its end (AVG art. 18(3)): the person was told first.",
)
class BeperkingOpgeheven(Payload):
    by_regie = True
    beperking: EventRef = control()
    """The beperking lifted."""
    opgeheven_op: PastDate = control()
    betrokkene_geinformeerd_op: PastDate = control()
    """When the person was told it would be lifted (before, art. 18(3))."""
    toelichting: LongText | None = None

    @model_validator(mode="after")
    def _told_first(self) -> BeperkingOpgeheven:
        if self.betrokkene_geinformeerd_op > self.opgeheven_op:
            raise ValueError("the person is told before the beperking is lifted")
        return self

    @classmethod
    def guard(cls, case: Case, control: dict[str, Any]) -> None:
        record = restraints_state(case).get(str(control["beperking"]))
        if record is None or record.get("kind") != "beperking" or record.get("lifted"):
            raise errors.NoBeperkingToLift(str(control["beperking"]))

    @classmethod
    def evolve(cls, case: Case, event: Case.Event) -> None:
        case.restraints = fold(restraints_state(case), event)


def restraints_state(case: Case) -> dict[str, dict[str, Any]]:
    """The case's beperkingen and objections as its state keeps them (none before)."""
    return getattr(case, "restraints", None) or {}


def corrections_of(case: Case) -> dict[str, dict[str, str]]:
    """Per corrected event id, each corrected field and the correctie that superseded it
    (a case from before corrections has none)."""
    return getattr(case, "corrections", None) or {}


def corrections_in(events: Iterable[Case.Event]) -> dict[str, dict[str, str]]:
    """`corrections_of` the case these events (all of a case, in order) make up, read
    from the events alone: a reader holding the history need not rebuild the case."""
    records: dict[str, dict[str, str]] = {}
    for event in events:
        if event.event_type == CORRECTIE:
            fields = records.setdefault(str(event.control["gebeurtenis"]), {})
            for name in event.control["velden"]:
                fields[str(name)] = event.event_id
    return records


def objections_of(case: Case) -> dict[str, str]:
    """Per objection (its first event id), the state of its decision."""
    return getattr(case, "objections", None) or {}


def check_correction(
    control: dict[str, Any],
    author: str,
    custodian: str,
    target_author: str | None,
    target_content_fields: tuple[str, ...] | None,
) -> None:
    """Whether `author` may correct the event `control` names: the event is in the case,
    each field named is content of it, and the author wrote it (or is the custodian,
    acting on the person's request)."""
    target = str(control["gebeurtenis"])
    if target_author is None or target_content_fields is None:
        raise errors.EventToCorrectNotFound(target)
    unknown = sorted(set(control["velden"]) - set(target_content_fields))
    if unknown:
        raise errors.NotCorrectable(target, unknown)
    on_request = bool(control.get("op_verzoek_van_betrokkene")) and author == custodian
    if author != target_author and not on_request:
        raise errors.CorrectionByOthers(author, target_author, custodian)
