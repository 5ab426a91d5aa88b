"""The worklist's judgement of one case, against a model: whatever signaleringen arrive and
whichever of them a reactie, a change of level or a casusoverleg follows up, the signal
"signalering zonder opvolging" is raised exactly from the oldest one left open plus the
region's term, and an inclusion's monitoring clock restarts with every monitoringsmoment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from casestore.domain.stability import stable_since
from casestore.domain.worklist import Facts, Signal, Terms, anchors, attention, fold

ZONE = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TERMS = Terms(
    monitoring=timedelta(days=42),
    plan_review=timedelta(days=91),
    kader_notice=timedelta(weeks=6),
    triage=timedelta(days=10),
    bekendheid=timedelta(days=5),
    follow_up=timedelta(days=3),
    actions=timedelta(days=28),
    informing=timedelta(days=14),
    stable=timedelta(days=182),
    retention_notice=timedelta(days=30),
)
ANSWERS = ("reactie", "opschaling", "casusoverleg")

steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4 * 24),  # hours after the previous step
        st.one_of(st.just("signalering"), st.tuples(st.sampled_from(ANSWERS), st.integers(0, 20))),
    ),
    max_size=25,
)


def _included() -> Facts:
    facts = fold(None, "aanmelding", "e-open", START, {})
    facts = fold(facts, "triagebesluit", "e-triage", START, {"uitkomst": "inclusietafel"})
    return fold(
        facts,
        "inclusiebesluit",
        "e-incl",
        START,
        {"geincludeerd": True, "startniveau": 1, "casusregisseur": "gemeente-amsterdam"},
    )


@given(steps, st.integers(min_value=0, max_value=10 * 24))
def test_a_signal_stays_raised_from_the_oldest_open_signalering_until_followed_up(
    script: list[tuple[int, object]], hours_after: int
) -> None:
    facts = _included()
    at = START
    open_signals: dict[str, datetime] = {}  # the model
    level = 1
    for number, (hours, step) in enumerate(script):
        at += timedelta(hours=hours)
        event_id = f"e{number}"
        if step == "signalering":
            facts = fold(facts, "signalering", event_id, at, {})
            open_signals[event_id] = at
            continue
        assert isinstance(step, tuple)
        kind, which = step
        signalled = sorted({*open_signals, *(f"e{n}" for n in range(number))})
        answered = signalled[which % len(signalled)] if signalled else None
        control: dict[str, object] = {"signalering": answered}
        if kind == "opschaling":
            level += 1
            control["niveau"] = level
        facts = fold(facts, kind, event_id, at, control)
        if answered is not None:
            open_signals.pop(answered, None)
    now = at + timedelta(hours=hours_after)

    raised = {a.signal: a for a in attention(anchors(facts), TERMS, now, ZONE)}
    if open_signals and now >= min(open_signals.values()) + TERMS.follow_up:
        found = raised[Signal.signal_without_follow_up]
        assert found.since == min(open_signals.values()) + TERMS.follow_up
        assert found.detail == ",".join(sorted(open_signals))
    else:
        assert Signal.signal_without_follow_up not in raised


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=8), st.integers(0, 80))
def test_monitoring_is_overdue_exactly_the_term_after_the_last_moment(
    gaps: list[int], days_after: int
) -> None:
    facts = _included()
    last = START
    for number, gap in enumerate(gaps):
        last += timedelta(days=gap)
        facts = fold(facts, "monitoringsmoment", f"m{number}", last, {})
    now = last + timedelta(days=days_after)
    raised = {a.signal: a.since for a in attention(anchors(facts), TERMS, now, ZONE)}
    if days_after >= TERMS.monitoring.days:
        assert raised[Signal.monitoring_overdue] == last + TERMS.monitoring
    else:
        assert Signal.monitoring_overdue not in raised


ANY_EVENT = st.sampled_from(
    [
        ("signalering", {}),
        ("opschaling", {"niveau": 3}),
        ("afschaling", {"niveau": 1}),
        ("escalatie", {}),
        ("reactie", {}),
        ("casusoverleg", {"soort": "crisisoverleg"}),
        ("casusoverleg", {"soort": "regulier"}),
        ("planwijziging", {"planversie": 2, "actiehouders": []}),
        ("monitoringsmoment", {}),
    ]
)


@given(st.lists(st.tuples(ANY_EVENT, st.integers(min_value=-48, max_value=30 * 24)), max_size=30))
def test_the_worklist_and_the_uitstroom_check_agree_since_when_a_case_is_stable(
    script: list[tuple[tuple[str, dict[str, object]], int]],
) -> None:
    """The worklist's uitstroom candidate and the refusal of an early uitstroom as stabiel
    count from the same moment, also when an event is recorded late about an earlier day."""
    facts = _included()
    events: list[tuple[str, datetime, Mapping[str, object]]] = [
        ("aanmelding", START, {}),
        ("triagebesluit", START, {"uitkomst": "inclusietafel"}),
        ("inclusiebesluit", START, {"geincludeerd": True}),
    ]
    latest = START
    for number, ((event_type, control), hours) in enumerate(script):
        at = START + timedelta(hours=hours)
        facts = fold(facts, event_type, f"e{number}", at, dict(control))
        events.append((event_type, at, control))
        if event_type in ("signalering", "opschaling", "escalatie") or (
            control.get("soort") == "crisisoverleg"
        ):
            latest = max(latest, at)
    since = stable_since(events)
    assert since is not None
    assert facts["stable_since"] == since.isoformat() == latest.isoformat()
