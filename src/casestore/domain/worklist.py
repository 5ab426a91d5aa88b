"""The coordinator's worklist: what a case's own dates say needs attention, and when.

A worklist must come from the readable part of each event (type, time, control
attributes), never from sealed content, so that it needs no decryption key and costs no
replay of a case. `fold` keeps a small summary of a case (its *facts*) up to date one
event at a time; the service keeps those summaries in a table and folds in what was
recorded since. `attention` then says, for a moment and the region's terms, which
signals a case raises. Every signal has a date from which it is raised (`since`), so a
signal is raised exactly when that date passes and clears when the event that answers it
is folded in.

Facts are plain JSON (a dict): they are stored as they are. Times are ISO 8601 strings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from casestore.domain.events.intake import REGIE_ROLES
from casestore.domain.stability import unsettles
from casestore.domain.status import OPEN_STATUSES, Status
from sharing.policy.law import add_months

Facts = dict[str, Any]


class Signal(StrEnum):
    """The attention signals, each with the region's term that drives it."""

    monitoring_overdue = "monitoring_achterstallig"
    plan_review_due = "plan_herzien"
    kader_ends = "kader_loopt_af"
    not_triaged = "aanmelding_niet_getrieerd"
    bekendheid_unanswered = "bekendheidsvraag_onbeantwoord"
    signal_without_follow_up = "signalering_zonder_opvolging"
    actions_overdue = "acties_achterstallig"
    not_informed = "betrokkene_niet_geinformeerd"
    uitstroom_candidate = "uitstroom_kandidaat"
    retention_due = "bewaartermijn_verstreken"


LABELS: dict[Signal, str] = {
    Signal.monitoring_overdue: "monitoring achterstallig",
    Signal.plan_review_due: "plan toe aan herziening",
    Signal.kader_ends: "kader loopt af",
    Signal.not_triaged: "aanmelding niet getrieerd",
    Signal.bekendheid_unanswered: "bekendheidsvraag onbeantwoord",
    Signal.signal_without_follow_up: "signalering zonder opvolging",
    Signal.actions_overdue: "acties achterstallig",
    Signal.not_informed: "betrokkene niet geïnformeerd",
    Signal.uitstroom_candidate: "stabiel: kandidaat voor uitstroom",
    Signal.retention_due: "bewaartermijn loopt af: vernietigen",
}


@dataclass(frozen=True)
class Terms:
    """The region's terms, as its policy document's `attention_terms` sets them."""

    monitoring: timedelta
    plan_review: timedelta
    kader_notice: timedelta
    triage: timedelta
    bekendheid: timedelta
    follow_up: timedelta
    actions: timedelta
    informing: timedelta
    stable: timedelta
    retention_notice: timedelta
    stable_months: int | None = None  # the region's stability term, when it sets one


@dataclass(frozen=True)
class Attention:
    signal: Signal
    since: datetime  # the moment the signal was raised
    detail: str = ""  # ids or names of what raised it: never content

    @property
    def label(self) -> str:
        return LABELS[self.signal]


# ---- folding events into facts --------------------------------------------------------------


def new_facts() -> Facts:
    return {
        "status": None,
        "level": None,
        "regie": {},
        "opened": None,
        "included": None,
        "closed": None,
        "last": {},  # event type -> latest occurred_at
        "plan": None,  # {"version", "at", "actions", "reported": [action numbers]}
        "questions": {},  # bekendheidsvraag event id -> asked at
        "signals": {},  # open signalering event id -> occurred_at
        "kaders": {},  # kader -> end date (or None)
        "informing": {"status": "niet_geinformeerd", "datum": None},
        "stable_since": None,  # the last event that unsettled it (domain/stability.py)
        "beperkingen": {},  # beperking event id -> its tot (or None) until lifted
    }


def fold(
    facts: Facts | None, event_type: str, event_id: str, at: datetime, control: dict[str, Any]
) -> Facts:
    """The facts of a case after one more of its events (in the case's order)."""
    f = new_facts() if facts is None else copy.deepcopy(facts)
    when = at.isoformat()
    last = f["last"]
    if last.get(event_type) is None or last[event_type] < when:
        last[event_type] = when
    handler = _FOLDS.get(event_type)
    if handler is not None:
        handler(f, event_id, when, control)
    if unsettles(event_type, control) and f["status"] == Status.geincludeerd.value:
        f["stable_since"] = max(f["stable_since"] or when, when)
    _answer_signal(f, control)
    return f


def _aanmelding(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    fresh = new_facts()
    fresh["last"] = f["last"]
    f.clear()
    f.update(fresh)
    f["status"] = Status.aangemeld.value
    f["opened"] = when


def _triage(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    if control.get("uitkomst") == "inclusietafel":
        f["status"] = Status.getrieerd.value
    else:
        _close(f, Status.afgesloten, when)


def _inclusion(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    if not control.get("geincludeerd"):
        _close(f, Status.afgesloten, when)
        return
    f["status"] = Status.geincludeerd.value
    f["level"] = control.get("startniveau")
    f["regie"] = {role: str(control[role]) for role in REGIE_ROLES if control.get(role)}
    f["included"] = when


def _close(f: Facts, status: Status, when: str) -> None:
    f["status"] = status.value
    f["closed"] = when


def _question(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["questions"][event_id] = when


def _answer(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["questions"].pop(str(control.get("vraag")), None)


def _signalering(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["signals"][event_id] = when


def _schaling(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    if control.get("niveau") is not None:
        f["level"] = int(control["niveau"])


def _plan(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["plan"] = {
        "version": int(control["planversie"]),
        "at": when,
        "actions": len(control.get("actiehouders", [])),
        "reported": [],
    }


def _action_status(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    plan = f["plan"]
    if plan is not None and int(control["planversie"]) == plan["version"]:
        number = int(control["actie"])
        if number not in plan["reported"]:
            plan["reported"] = sorted([*plan["reported"], number])


def _kader(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["kaders"][str(control["kader"])] = control.get("einddatum")


def _informed(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["informing"] = {"status": "geinformeerd", "datum": str(control["datum"])}


def _postponed(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["informing"] = {"status": "uitgesteld", "datum": str(control["herzien_op"])}


def _regie(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["regie"] = {**f["regie"], str(control["rol"]): str(control["naar"])}


def _uitstroom(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    _close(f, Status.uitgestroomd, when)


def _beperking(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f.setdefault("beperkingen", {})[event_id] = control.get("tot")


def _beperking_lifted(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f.setdefault("beperkingen", {}).pop(str(control.get("beperking")), None)


def restriction_ends(facts: Facts) -> list[date]:
    """The days on which the case's beperkingen end by themselves (their `tot`): from
    then on its content is shared again, and nothing else happens at that moment to
    re-grant what was held back."""
    return sorted(date.fromisoformat(str(t)) for t in facts.get("beperkingen", {}).values() if t)


def _heraanmelding(f: Facts, event_id: str, when: str, control: dict[str, Any]) -> None:
    f["status"] = Status.geincludeerd.value
    f["closed"] = None


def _answer_signal(f: Facts, control: dict[str, Any]) -> None:
    # A reactie, a change of level or a casusoverleg that names a signalering follows it up.
    answered = control.get("signalering")
    if answered is not None:
        f["signals"].pop(str(answered), None)


_FOLDS = {
    "aanmelding": _aanmelding,
    "triagebesluit": _triage,
    "inclusiebesluit": _inclusion,
    "bekendheidsvraag": _question,
    "bekendheidsantwoord": _answer,
    "signalering": _signalering,
    "opschaling": _schaling,
    "afschaling": _schaling,
    "planwijziging": _plan,
    "actiestatus": _action_status,
    "kaderwijziging": _kader,
    "betrokkene_geinformeerd": _informed,
    "informeren_uitgesteld": _postponed,
    "regiewijziging": _regie,
    "uitstroom": _uitstroom,
    "heraanmelding": _heraanmelding,
    "beperking": _beperking,
    "beperking_opgeheven": _beperking_lifted,
}


# ---- reading facts ---------------------------------------------------------------------------

OPEN = frozenset(s.value for s in OPEN_STATUSES)
INCLUDED = Status.geincludeerd.value
REFERRED = Status.aangemeld.value
ONE_DAY = timedelta(days=1)


def is_open(facts: Facts) -> bool:
    return facts["status"] in OPEN


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _days(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max((now - since).days, 0)


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True)
class Anchors:
    """The dates of a case that drive its signals, parsed once per version of its facts
    (a worklist judges every case on every request; parsing is most of that work)."""

    status: str
    level: int | None
    regie: dict[str, str]
    opened: datetime | None
    included: datetime | None
    closed: datetime | None
    last: dict[str, datetime]  # event type -> latest occurred_at
    plan_version: int | None
    plan_at: datetime | None
    open_actions: tuple[int, ...]  # actions of the plan in force with no status reported
    questions: tuple[str, ...]
    first_question: datetime | None
    signals: tuple[str, ...]
    first_signal: datetime | None
    kader_ends: tuple[tuple[str, date], ...]
    informing: str
    informing_until: date | None
    stable_since: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def last_signal(self) -> datetime | None:
        return self.last.get("signalering")

    @property
    def last_monitoring(self) -> datetime | None:
        return self.last.get("monitoringsmoment")

    def plan_age_days(self, now: datetime) -> int | None:
        return _days(self.plan_at, now)

    def monitoring_age_days(self, now: datetime) -> int | None:
        return _days(self.last_monitoring, now)


def anchors(facts: Facts) -> Anchors:
    plan = facts["plan"]
    questions, signals = facts["questions"], facts["signals"]
    informing = facts["informing"]
    return Anchors(
        status=str(facts["status"]),
        level=facts["level"],
        regie=dict(facts["regie"]),
        opened=_time(facts["opened"]),
        included=_time(facts["included"]),
        closed=_time(facts["closed"]),
        last={t: datetime.fromisoformat(at) for t, at in facts["last"].items()},
        plan_version=None if plan is None else int(plan["version"]),
        plan_at=None if plan is None else _time(plan["at"]),
        open_actions=()
        if plan is None
        else tuple(n for n in range(1, plan["actions"] + 1) if n not in plan["reported"]),
        questions=tuple(sorted(questions)),
        first_question=_time(min(questions.values())) if questions else None,
        signals=tuple(sorted(signals)),
        first_signal=_time(min(signals.values())) if signals else None,
        kader_ends=tuple(
            (kader, date.fromisoformat(end))
            for kader, end in sorted(facts["kaders"].items())
            if end is not None
        ),
        informing=str(informing["status"]),
        informing_until=None
        if informing["datum"] is None
        else date.fromisoformat(str(informing["datum"])),
        stable_since=_time(facts["stable_since"]),
    )


def attention(
    case: Anchors,
    terms: Terms,
    now: datetime,
    zone: ZoneInfo,
    retention_due_at: datetime | None = None,
) -> list[Attention]:
    """The signals the case raises at `now`, in the order of `Signal`: each once the
    moment it is due from has come (`since`). Details are ids and dates, never content.

    `retention_due_at` is when the ended case is due for destruction (the service reads it
    from the policy's retention rules); None for an open case or one held.
    """
    raised: list[Attention] = []
    status = case.status
    is_open = status in OPEN
    included = status == INCLUDED
    if included:
        since = (case.last_monitoring or case.included or now) + terms.monitoring
        if now >= since:
            raised.append(Attention(Signal.monitoring_overdue, since))
        since = (case.plan_at or case.included or now) + terms.plan_review
        if now >= since:
            raised.append(Attention(Signal.plan_review_due, since))
    if is_open:
        for kader, last_day in case.kader_ends:
            since = _start_of(last_day - terms.kader_notice, zone)
            if since <= now < _start_of(last_day + ONE_DAY, zone):
                raised.append(
                    Attention(Signal.kader_ends, since, f"{kader} tot {last_day.isoformat()}")
                )
    if status == REFERRED and case.opened is not None:
        since = case.opened + terms.triage
        if now >= since:
            raised.append(Attention(Signal.not_triaged, since))
    if is_open and case.first_question is not None:
        since = case.first_question + terms.bekendheid
        if now >= since:
            raised.append(Attention(Signal.bekendheid_unanswered, since, ",".join(case.questions)))
    if is_open and case.first_signal is not None:
        since = case.first_signal + terms.follow_up
        if now >= since:
            raised.append(Attention(Signal.signal_without_follow_up, since, ",".join(case.signals)))
    if included and case.open_actions and case.plan_at is not None:
        since = case.plan_at + terms.actions
        if now >= since:
            numbers = ", ".join(map(str, case.open_actions))
            raised.append(
                Attention(
                    Signal.actions_overdue, since, f"plan {case.plan_version}: actie {numbers}"
                )
            )
    if included:
        if case.informing == "niet_geinformeerd" and case.included is not None:
            since = case.included + terms.informing
            if now >= since:
                raised.append(Attention(Signal.not_informed, since))
        elif case.informing == "uitgesteld" and case.informing_until is not None:
            since = _start_of(case.informing_until, zone)
            if now >= since:
                until = case.informing_until.isoformat()
                raised.append(Attention(Signal.not_informed, since, f"uitgesteld tot {until}"))
        if case.stable_since is not None:
            since = (
                case.stable_since + terms.stable
                if terms.stable_months is None
                else add_months(case.stable_since, terms.stable_months)
            )
            if now >= since:
                raised.append(Attention(Signal.uitstroom_candidate, since))
    if not is_open and retention_due_at is not None:
        since = retention_due_at - terms.retention_notice
        if now >= since:
            raised.append(Attention(Signal.retention_due, since))
    return raised
