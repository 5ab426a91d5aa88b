"""The case as a coordinator reads it back: a fold over the events one organisation sees.

The fold takes each event with its control attributes and, per content field, either the
value the reader may read or a `Withheld` naming the rule that keeps it back; it never
decrypts and never looks anything up, so the same events always give the same timeline.
Status, care level, network, regie, plan version, kaders and which signals were answered
are changed by each event type's own `evolve` (the rules the case aggregate applies), on
a state of the same shape; what the aggregate does not keep (the level's history, the
plan's goals and actions, the meetings and their decisions) is gathered beside it from
the readable fields only. A field the reader may not read never reaches the result as a
value: only its `Withheld` does.

`as_of` asks for the case as it was at a moment. By default that is the case as known now
(every event that occurred by then, including those recorded later, which are marked);
with `known=True` it is the case as it was known then (only events recorded by then).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from casestore.domain.events import EVENT_TYPES
from casestore.domain.events.intake import NEW_IN_V2, NEW_IN_V3, REGIE_ROLES
from casestore.domain.status import Status

NO_RULE = "no-rule"
"""The rule a field is withheld under when no rule in force grants the reader any of the
event's fields: it receives the header only."""


@dataclass(frozen=True, slots=True)
class Withheld:
    """A content field the reader may not read, and the rule under which it receives the
    event without it (or `NO_RULE`)."""

    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"withheld": True, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class Sealed:
    """A content field the reader is granted but that the service does not open for it
    (an organisation whose private key the service does not hold)."""

    def to_json(self) -> dict[str, Any]:
        return {"sealed": True}


@dataclass(frozen=True, slots=True)
class Owned:
    """An owned field (a plan's actions): the entries the reader may read, by their place
    in the whole list (0-based), and the rule withholding the others if any exist."""

    entries: tuple[tuple[int, Any], ...]
    withheld: Withheld | None = None

    def to_json(self) -> Any:
        shown: list[Any] = [{"nr": i + 1, **entry} for i, entry in self.entries]
        if self.withheld is not None:
            shown.append(self.withheld.to_json())
        return shown


@dataclass(frozen=True, slots=True)
class Fact:
    """One event as the reader sees it."""

    version: int
    event_id: str
    event_type: str
    author_org: str
    author_user: str
    occurred_at: datetime
    recorded_at: datetime
    control: Mapping[str, Any]  # as recorded: the fold needs the internal attributes too
    fields: Mapping[str, Any]  # content field -> value | Withheld | Sealed | Owned
    visible_control: Mapping[str, Any] = field(default_factory=dict)
    # Derived once, as a reader that keeps its facts shows them again and again.
    occurred_text: str = ""
    recorded_text: str = ""
    shown_fields: Mapping[str, Any] = field(default_factory=dict)
    entry: Mapping[str, Any] = field(default_factory=dict)  # as listed, recorded by then

    def __post_init__(self) -> None:
        object.__setattr__(self, "occurred_text", _time(self.occurred_at))
        object.__setattr__(self, "recorded_text", _time(self.recorded_at))
        shown_fields = {name: shown(value) for name, value in self.fields.items()}
        object.__setattr__(self, "shown_fields", shown_fields)
        entry = {
            "version": self.version,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "author_org": self.author_org,
            "author_user": self.author_user,
            "occurred_at": self.occurred_text,
            "recorded_at": self.recorded_text,
            "recorded_later": False,
            "control": dict(self.visible_control),
            "fields": shown_fields,
        }
        object.__setattr__(self, "entry", entry)

    def listed(self, as_of: datetime) -> Mapping[str, Any]:
        """The fact as an entry of the timeline at `as_of`: the same object every time
        unless it was recorded after that moment."""
        if self.recorded_at > as_of:
            return {**self.entry, "recorded_later": True}
        return self.entry

    # what the event types' evolve reads off an event
    @property
    def timestamp(self) -> datetime:
        return self.recorded_at

    def value(self, name: str) -> Any:
        """A readable value of a field, None when withheld, sealed or absent."""
        value = self.fields.get(name)
        if isinstance(value, Withheld | Sealed):
            return None
        if isinstance(value, Owned):
            return [entry for _, entry in value.entries]
        return value


def shown(value: Any) -> Any:
    """A field value as the timeline shows it."""
    if isinstance(value, Withheld | Sealed | Owned):
        return value.to_json()
    return value


class CaseState:
    """The control state the event types evolve, shaped as the case aggregate is (the same
    attribute names), so that each type's own `evolve` moves it."""

    def __init__(self) -> None:
        self._status = str(Status.aangemeld)
        self.person_id = ""
        self.network: list[str] = []
        self.level: int | None = None
        self.plan_version = 0
        self.regie: dict[str, str] = {}
        self.conditions: dict[str, dict[str, Any]] = {}
        self.closed_at: datetime | None = None
        self.opened_occurred_at: datetime | None = None
        self.signaleringen: dict[str, bool] = {}
        self.meetings: list[str] = []
        for name, empty in (NEW_IN_V2 | NEW_IN_V3).items():
            setattr(self, name, copy.deepcopy(empty))

    @property
    def status(self) -> Status:
        return Status(self._status)

    @status.setter
    def status(self, value: Status) -> None:
        self._status = str(value)

    def close(self, status: Status, when: datetime) -> None:
        self.status = status
        self.closed_at = when


def _day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


class Projection:
    """The incremental fold: `apply` one fact at a time, in the order recorded; `result`
    says where the case stands."""

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.state = CaseState()
        self.facts: list[Fact] = []
        self.levels: list[dict[str, Any]] = []
        self.kader_history: list[dict[str, Any]] = []
        self.kaders: dict[str, dict[str, Any]] = {}
        self.risicotaxaties: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.action_status: dict[tuple[int, int], dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.signals: dict[str, dict[str, Any]] = {}
        self.overleggen: list[dict[str, Any]] = []
        self._occurred: list[Fact] | None = None  # the facts in the order they occurred

    @property
    def occurred(self) -> list[Fact]:
        """The facts applied, in the order they occurred (sorted once per change)."""
        if self._occurred is None:
            self._occurred = sorted(self.facts, key=lambda f: (f.occurred_at, f.version))
        return self._occurred

    def apply(self, fact: Fact) -> None:
        schema = EVENT_TYPES.schema_of(fact.event_type)
        # Each type's own rule, in place on this fold's own state (`Payload.fold`): a copy
        # per event, as the aggregate makes, would make a fold over thousands of signals
        # quadratic. A view of one organisation folds only what it receives: an event may
        # refer to one it never saw (a withdrawal of a consent kept from it); its fact
        # still counts.
        with contextlib.suppress(KeyError, TypeError, ValueError):
            schema.fold(self.state, fact)  # type: ignore[arg-type]
        self.facts.append(fact)
        self._occurred = None
        gather = _GATHER.get(fact.event_type)
        if gather is not None:
            gather(self, fact)

    # ---- what the aggregate does not keep ---------------------------------------------

    def _level(self, fact: Fact, level: Any) -> None:
        if level is None:
            return
        self.levels.append(
            {
                "at": fact.occurred_text,
                "level": int(level),
                "event_id": fact.event_id,
                "event_type": fact.event_type,
                "reden": shown(fact.fields.get("reden", fact.fields.get("onderbouwing"))),
            }
        )

    def _network(self, org: str, fact: Fact, rol: Any = None) -> None:
        member = self.members.setdefault(org, {"since": fact.occurred_text})
        if rol is not None:
            member["rol_in_casus"] = shown(rol)


def _aanmelding(p: Projection, fact: Fact) -> None:
    for org in fact.control.get("netwerk", []):
        p._network(str(org), fact)


def _inclusie(p: Projection, fact: Fact) -> None:
    if fact.control.get("geincludeerd"):
        for role in REGIE_ROLES:
            if fact.control.get(role):
                p._network(str(fact.control[role]), fact)
        p._level(fact, fact.control.get("startniveau"))


def _schaling(p: Projection, fact: Fact) -> None:
    p._level(fact, fact.control.get("niveau"))


def _netwerk(p: Projection, fact: Fact) -> None:
    org = str(fact.control["organisatie"])
    if fact.control.get("wijziging") == "uitgetreden":
        p.members.pop(org, None)
    else:
        p._network(org, fact, fact.fields.get("rol_in_casus"))


def _regie(p: Projection, fact: Fact) -> None:
    org = str(fact.control["naar"])
    p._network(org, fact)
    p.contacts[str(fact.control["rol"])] = {
        "organisatie": org,
        "contactpersoon": shown(fact.fields.get("contactpersoon")),
        "plaatsvervanger": shown(fact.fields.get("plaatsvervanger")),
    }


def _kader(p: Projection, fact: Fact) -> None:
    period = {
        "kader": str(fact.control["kader"]),
        "van": fact.control.get("ingangsdatum"),
        "tot": fact.control.get("einddatum"),
        "event_id": fact.event_id,
        "at": fact.occurred_text,
        "toezichthouder": shown(fact.fields.get("toezichthouder")),
        "voorwaarden": shown(fact.fields.get("voorwaarden")),
    }
    p.kader_history.append(period)
    p.kaders[period["kader"]] = period


def _risico(p: Projection, fact: Fact) -> None:
    p.risicotaxaties.append(
        {
            "event_id": fact.event_id,
            "datum": fact.control.get("datum"),
            "author_org": fact.author_org,
            **{
                name: shown(fact.fields.get(name))
                for name in ("instrument", "beoordelaar", "uitkomst", "rapport")
            },
        }
    )


def _plan(p: Projection, fact: Fact) -> None:
    acties = fact.fields.get("acties")
    if isinstance(acties, Owned):
        actions = [{"nr": i + 1, **entry} for i, entry in acties.entries]
        withheld = acties.withheld.to_json() if acties.withheld else None
    elif isinstance(acties, list):
        actions = [{"nr": i + 1, **entry} for i, entry in enumerate(acties)]
        withheld = None
    else:
        actions, withheld = [], shown(acties)
    doelen = fact.fields.get("doelen")
    by_domain: Any
    if isinstance(doelen, list):
        by_domain = {}
        for doel in doelen:
            by_domain.setdefault(str(doel["levensdomein"]), []).append(doel["doel"])
    else:
        by_domain = shown(doelen)
    p.plans.append(
        {
            "version": int(fact.control["planversie"]),
            "event_id": fact.event_id,
            "at": fact.occurred_text,
            "author_org": fact.author_org,
            "doelen": by_domain,
            "acties": actions,
            "acties_withheld": withheld,
            "casusregisseur_contact": shown(fact.fields.get("casusregisseur_contact")),
            "toelichting": shown(fact.fields.get("toelichting")),
        }
    )


def _actiestatus(p: Projection, fact: Fact) -> None:
    key = (int(fact.control["planversie"]), int(fact.control["actie"]))
    p.action_status[key] = {
        "status": fact.control.get("status"),
        "reden": shown(fact.fields.get("reden")),
        "at": fact.occurred_text,
        "event_id": fact.event_id,
    }


def _signalering(p: Projection, fact: Fact) -> None:
    p.signals[fact.event_id] = {
        "event_id": fact.event_id,
        "at": fact.occurred_text,
        "author_org": fact.author_org,
        **fact.shown_fields,
        "answers": [],
    }


def _answers(p: Projection, fact: Fact) -> None:
    signal = fact.control.get("signalering")
    if signal is None or str(signal) not in p.signals:
        return
    p.signals[str(signal)]["answers"].append(
        {
            "event_id": fact.event_id,
            "event_type": fact.event_type,
            "author_org": fact.author_org,
            "at": fact.occurred_text,
            "opvolging": fact.control.get("opvolging"),
        }
    )


def _schaling_answers(p: Projection, fact: Fact) -> None:
    _schaling(p, fact)
    _answers(p, fact)


def _overleg(p: Projection, fact: Fact) -> None:
    _answers(p, fact)
    p.overleggen.append(
        {
            "event_id": fact.event_id,
            "at": fact.occurred_text,
            "soort": fact.control.get("soort"),
            "author_org": fact.author_org,
            **{
                name: shown(fact.fields.get(name))
                for name in ("voorzitter", "deelnemers", "afwezig", "besluiten", "actiepunten")
            },
        }
    )


_GATHER = {
    "aanmelding": _aanmelding,
    "inclusiebesluit": _inclusie,
    "opschaling": _schaling_answers,
    "afschaling": _schaling_answers,
    "netwerkwijziging": _netwerk,
    "regiewijziging": _regie,
    "kaderwijziging": _kader,
    "risicotaxatie": _risico,
    "planwijziging": _plan,
    "actiestatus": _actiestatus,
    "signalering": _signalering,
    "reactie": _answers,
    "casusoverleg": _overleg,
}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def plan_diff(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict[str, Any]:
    """What a plan version changed against the one before: goals and actions added and
    removed (an action is its owner, its text and its due date)."""

    def goals(plan: Mapping[str, Any] | None) -> set[tuple[str, str]]:
        doelen = plan.get("doelen") if plan else None
        if not isinstance(doelen, dict) or not all(isinstance(v, list) for v in doelen.values()):
            return set()  # withheld or sealed
        return {(domain, str(goal)) for domain, items in doelen.items() for goal in items}

    def actions(plan: Mapping[str, Any] | None) -> set[tuple[str, str, str]]:
        return {
            (str(a.get("organisatie")), str(a.get("actie")), str(a.get("termijn")))
            for a in (plan.get("acties") or [] if plan else [])
        }

    old_goals, new_goals = goals(previous), goals(current)
    old_actions, new_actions = actions(previous), actions(current)
    return {
        "from_version": previous["version"] if previous else None,
        "doelen_toegevoegd": [
            {"levensdomein": d, "doel": g} for d, g in sorted(new_goals - old_goals)
        ],
        "doelen_vervallen": [
            {"levensdomein": d, "doel": g} for d, g in sorted(old_goals - new_goals)
        ],
        "acties_toegevoegd": [
            {"organisatie": o, "actie": a, "termijn": None if t == "None" else t}
            for o, a, t in sorted(new_actions - old_actions)
        ],
        "acties_vervallen": [
            {"organisatie": o, "actie": a, "termijn": None if t == "None" else t}
            for o, a, t in sorted(old_actions - new_actions)
        ],
    }


def project(facts: Iterable[Fact], as_of: datetime, *, known: bool = False) -> dict[str, Any]:
    """The timeline of one case at `as_of` from its facts in recorded order (see the
    module's docstring for `known`)."""
    projection = Projection(as_of)
    for fact in facts:
        moment = fact.recorded_at if known else fact.occurred_at
        if moment <= as_of:
            projection.apply(fact)
    return result(projection, known=known)


def result(p: Projection, *, known: bool = False, as_of: datetime | None = None) -> dict[str, Any]:
    """Where the case stands after the facts applied, as JSON-ready data, at `as_of`
    (default: the projection's moment; a kept projection serves each moment that takes in
    the same facts). The entries are the facts' own: read them, do not change them."""
    moment = as_of or p.as_of
    state, today = p.state, moment.date()
    plan = p.plans[-1] if p.plans else None
    previous = p.plans[-2] if len(p.plans) > 1 else None
    current_plan = None
    if plan is not None:
        acties = []
        for action in plan["acties"]:
            done = p.action_status.get((plan["version"], int(action["nr"])))
            due = _day(action.get("termijn"))
            finished = done is not None and done["status"] == "uitgevoerd"
            acties.append(
                {
                    **action,
                    "status": done["status"] if done else "open",
                    "status_reden": done["reden"] if done else None,
                    "overdue": due is not None and due < today and not finished,
                }
            )
        current_plan = {**plan, "acties": acties, "diff": plan_diff(previous, plan)}
    roles_of: dict[str, list[str]] = {}
    for role, org in sorted(state.regie.items()):
        roles_of.setdefault(org, []).append(role)
    network = [
        {
            "organisatie": org,
            "rol_in_casus": p.members.get(org, {}).get("rol_in_casus"),
            "regie": roles_of.get(org, []),
            "contacts": [
                {"rol": role, **contact}
                for role, contact in sorted(p.contacts.items())
                if contact["organisatie"] == org
            ],
            "since": p.members.get(org, {}).get("since"),
        }
        for org in state.network
    ]
    signals = []
    for signal_id, signal in p.signals.items():
        answered = bool(state.signaleringen.get(signal_id)) or bool(signal["answers"])
        signals.append({**signal, "answered": answered})
    kaders = [
        {
            **period,
            "in_force": (_day(period["van"]) or date.max) <= today
            and (period["tot"] is None or today <= (_day(period["tot"]) or date.min)),
        }
        for _, period in sorted(p.kaders.items())
    ]
    entries = [f.listed(moment) for f in p.occurred]
    return {
        "as_of": _time(moment),
        "known": known,
        "status": str(state.status) if p.facts else None,
        "level": state.level,
        "level_history": p.levels,
        "kaders": kaders,
        "kader_history": p.kader_history,
        "risicotaxaties": p.risicotaxaties,
        "plan": current_plan,
        "plan_version": state.plan_version,
        "regie": dict(sorted(state.regie.items())),
        "network": network,
        "signals": signals,
        "open_signals": sum(1 for s in signals if not s["answered"]),
        "overleggen": p.overleggen,
        "entries": entries,
    }
