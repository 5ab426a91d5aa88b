"""What a beperking (AVG art. 18) and an upheld bezwaar (AVG art. 21) leave the partners of
a case: the envelope, never the content.

A restriction of processing means that, apart from storage, the data are processed only
with the person's consent, for legal claims, to protect another person, or for an important
public interest (art. 18(2)). In the shared record that reads:

- While a `beperking` is in force (from its `ingang` until the day before its `tot`, or
  until a `beperking_opgeheven` lifts it), the case's content is only stored. Every event,
  the earlier ones too, reaches the partners as its envelope (header and control
  attributes, so the process can go on and everyone knows the case is restricted) but no
  field of it is opened for them: each is withheld with the reason `beperkt`, naming the
  beperking. New events are recorded, signed and sealed as always; their content waits.
  Re-grants are suspended: a policy change or a new member gives nothing new while the
  restriction lasts, and what was granted before stays stored, unserved.
- An objection decided `toegewezen` stops the processing it was lodged against (the
  organisations it names in `tegen`, or every partner when it names none) from the
  decision on, for good: their content grants are revoked and nothing is granted again,
  withheld with the reason `bezwaar_toegewezen`, naming the objection. An objection
  `in_behandeling` or `afgewezen` changes nothing by itself; the wait for the decision is
  covered by a beperking on the ground `bezwaar_in_behandeling` (art. 18(1)(d)).

Who keeps the content: the custodian (the ZVH), which holds the record, and the case's
procesregisseur, which records the person's requests and decides on them (`by_regie`):
they handle the request (check the accuracy, weigh the objection), keep the data where
they are needed for legal claims (`nodig_voor_rechtsvordering`) and answer the person's
inzage. And an event's own author keeps that event: it is the author's own record, which
it holds in its own system anyway; serving it back to its author provides it to no one.

This module decides it from the case's control state alone, so every read path (case
read, feed, stream and webhook, timeline, exports, meeting packs) and re-grant ask it the
same question and agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casestore.domain.case import Case

BEPERKING = "beperking"
BEPERKING_OPGEHEVEN = "beperking_opgeheven"
BEZWAAR = "bezwaar"
BEPERKT = "beperkt"
"""The reason a read gives for content it withholds while a beperking is in force."""
BEZWAAR_TOEGEWEZEN = "bezwaar_toegewezen"
"""The reason a read gives for content it withholds after an objection was upheld."""


@dataclass(frozen=True)
class Restraint:
    """One beperking, or one objection as lodged and decided."""

    kind: str  # beperking | bezwaar
    event_id: str  # the beperking, or the objection's first event
    ingang: date | None = None
    tot: date | None = None
    lifted: bool = False
    besluit: str | None = None  # of an objection
    tegen: frozenset[str] | None = None  # the organisations objected to; None: every partner

    def in_force(self, today: date) -> bool:
        if self.kind == BEPERKING:
            started = self.ingang is None or self.ingang <= today
            return started and not self.lifted and (self.tot is None or today < self.tot)
        return self.besluit == "toegewezen"

    def binds(self, org: str) -> bool:
        """Whether it keeps content from `org` (a partner other than the regie)."""
        return self.kind == BEPERKING or self.tegen is None or org in self.tegen

    @property
    def lasting(self) -> bool:
        """An upheld objection stops the processing for good; a beperking only holds it."""
        return self.kind == BEZWAAR

    @property
    def reason(self) -> str:
        """As a timeline names it: the reason and the event."""
        return f"{BEPERKT if self.kind == BEPERKING else BEZWAAR_TOEGEWEZEN} {self.event_id}"

    def to_json(self) -> dict[str, str]:
        if self.kind == BEPERKING:
            return {"reason": BEPERKT, "beperking": self.event_id}
        return {"reason": BEZWAAR_TOEGEWEZEN, "bezwaar": self.event_id}


@dataclass(frozen=True)
class Restraints:
    """The beperkingen and objections of one case, and who handles them."""

    items: tuple[Restraint, ...] = ()
    procesregisseur: str | None = None

    def on(self, org: str, custodian: str, today: date) -> tuple[Restraint, ...]:
        """Those in force today that keep content from `org` (never from the custodian
        nor the procesregisseur)."""
        if org in (custodian, self.procesregisseur):
            return ()
        return tuple(r for r in self.items if r.in_force(today) and r.binds(org))

    def withheld(
        self, org: str, author: str | None, custodian: str, today: date
    ) -> tuple[Restraint, ...]:
        """Why `org` may open none of an event by `author` today (empty: it may, as far
        as the person's rights go)."""
        if org == author:
            return ()
        return self.on(org, custodian, today)

    def __bool__(self) -> bool:
        return bool(self.items)


NONE = Restraints()


def fold(records: Mapping[str, dict[str, Any]], event: Any) -> dict[str, dict[str, Any]]:
    """The case's restraint records after `event` (a recorded case event): per beperking
    or objection its control facts, JSON as the aggregate's state keeps them."""
    kind, control = event.event_type, event.control
    if kind not in (BEPERKING, BEPERKING_OPGEHEVEN, BEZWAAR):
        return dict(records)
    found = {key: dict(value) for key, value in records.items()}
    if kind == BEPERKING:
        found[event.event_id] = {
            "kind": BEPERKING,
            "ingang": control.get("ingang"),
            "tot": control.get("tot"),
            "lifted": False,
        }
    elif kind == BEPERKING_OPGEHEVEN:
        lifted = found.get(str(control["beperking"]))
        if lifted is not None:
            lifted["lifted"] = True
    else:
        first = str(control.get("bezwaar") or event.event_id)
        record = found.setdefault(first, {"kind": BEZWAAR, "tegen": control.get("tegen")})
        record["besluit"] = control["besluit"]
    return found


def restraints_of(case: Case) -> Restraints:
    """The restraints the case's state holds (a case from before them has none)."""
    records: dict[str, dict[str, Any]] | None = getattr(case, "restraints", None)
    if not records:
        return NONE
    regie: dict[str, str] = getattr(case, "regie", None) or {}
    return _restraints(records, regie.get("procesregisseur"))


def restraints_in(events: Iterable[Any]) -> Restraints:
    """`restraints_of` the case these events (all of a case, in order) make up, read from
    the events alone: a reader holding the history need not rebuild the case."""
    records: dict[str, dict[str, Any]] = {}
    procesregisseur = None
    for event in events:
        control = event.control
        if event.event_type == "inclusiebesluit" and control.get("procesregisseur"):
            procesregisseur = str(control["procesregisseur"])
        elif event.event_type == "regiewijziging" and control.get("rol") == "procesregisseur":
            procesregisseur = str(control["naar"])
        elif event.event_type in (BEPERKING, BEPERKING_OPGEHEVEN, BEZWAAR):
            records = fold(records, event)
    return _restraints(records, procesregisseur) if records else NONE


def _restraints(records: Mapping[str, dict[str, Any]], procesregisseur: str | None) -> Restraints:
    items = []
    for event_id, record in records.items():
        tegen = record.get("tegen")
        items.append(
            Restraint(
                kind=str(record["kind"]),
                event_id=event_id,
                ingang=_day(record.get("ingang")),
                tot=_day(record.get("tot")),
                lifted=bool(record.get("lifted")),
                besluit=record.get("besluit"),
                tegen=None if tegen is None else frozenset(str(o) for o in tegen),
            )
        )
    return Restraints(tuple(items), procesregisseur)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


Fields = dict[tuple[str, int, str], frozenset[str]]


def grantable(
    want: Fields,
    have: Fields,
    restraints: Restraints,
    custodian: str,
    today: date,
    author_of: Callable[[int], str | None],
) -> Fields:
    """What a re-grant may give, of what the policy wants per (organisation, event
    version, key): an organisation an upheld objection binds gets none of the content it
    did not write; one a beperking in force binds keeps what it was granted already (the
    content is stored, unserved) and gets nothing new until the beperking ends."""
    if not restraints:
        return want
    found: Fields = {}
    for key, names in want.items():
        org, version, _ = key
        binding = restraints.withheld(org, author_of(version), custodian, today)
        if not binding:
            found[key] = names
        elif not any(r.lasting for r in binding):
            kept = names & have.get(key, frozenset())
            if kept:
                found[key] = kept
    return found
