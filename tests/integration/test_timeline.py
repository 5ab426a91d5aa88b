"""The reconstructed timeline, on SQLite and PostgreSQL: equal to the case rebuilt from its
events at any moment, and never holding a value the viewed organisation cannot open."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casestore.bootstrap import Services
from casestore.domain import errors
from casestore.entrypoints import demo
from casestore.services.clients import ClientRole
from casestore.services.timeline import Timelines
from sharing.client import open_event
from sharing.keys import OrgPrivateKeys, format_time
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    INCLUSIE,
    POLITIE,
    TRIAGE,
    ZVH,
    Clock,
    aanmelding,
    fresh_bsn,
    load_signed_demo,
    netwerk,
    submit,
)

ONCE_PER_FIXTURE = settings(
    max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WONEN = demo.WONEN


def _plan(version: int, marker: str) -> dict[str, Any]:
    return {
        "planversie": version,
        "doelen": [{"levensdomein": "wonen", "doel": f"Stabiel wonen {marker}"}],
        "acties": [
            {"organisatie": FORENSISCH, "actie": f"Behandeling {marker}", "termijn": "2026-01-05"},
            {"organisatie": GEMEENTE, "actie": f"Schuldhulp {marker}"},
        ],
        "casusregisseur_contact": "S. Bakker",
        "toelichting": f"Toelichting {marker}",
    }


def _signal(marker: str, author: str) -> dict[str, Any]:
    signal = {
        "categorie": "terugval",
        "ernst": 3,
        "gevraagde_actie": f"Huisbezoek {marker}",
        "toelichting": f"Toelichting {marker}",
    }
    if author != ZVH:  # only a care provider tells a diagnosis
        signal |= {"diagnose": f"Diagnose {marker}", "medicatie": f"Medicatie {marker}"}
    return signal


def _scaling(level: int, marker: str, meetings: list[str]) -> dict[str, Any]:
    """A level the custodian records as a meeting decided it (the first, if any)."""
    scaling: dict[str, Any] = {"niveau": max(1, min(level, 4)), "reden": f"Reden {marker}"}
    if meetings:
        scaling["casusoverleg"] = meetings[-1]
    return scaling


STEPS = st.sampled_from(
    [
        "opschaling",
        "afschaling",
        "signalering",
        "reactie",
        "join",
        "leave",
        "kader",
        "plan",
        "overleg",
        "risico",
    ]
)


def _play(
    services: Services,
    clock: Clock,
    steps: list[tuple[str, int, int]],
    marker: str,
    care: str = ZVH,
) -> tuple[UUID, list[datetime]]:
    """A random history: each step after `minutes`, told as having happened `back`
    minutes earlier (recorded later than it occurred); steps the process or the policy
    refuses are left out, as a partner's refused event is. `care` refers the person and
    writes the signals (a care provider's are shared with few)."""
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), care)).case_id
    clock.advance(minutes=5)
    store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    clock.advance(minutes=5)
    store.append(case_id, submit("inclusiebesluit", INCLUSIE, ZVH))
    moments = [clock.now]
    signals: list[str] = []
    meetings: list[str] = []
    plan = 0
    for kind, minutes, back in steps:
        now = clock.advance(minutes=minutes)
        occurred = max(now - timedelta(minutes=back), moments[0])
        level = store.case(case_id).level or 2
        event_type, payload, author = {
            "opschaling": ("opschaling", _scaling(level + 1, marker, meetings), ZVH),
            "afschaling": ("afschaling", _scaling(level - 1, marker, meetings), ZVH),
            "signalering": ("signalering", _signal(marker, care), care),
            "reactie": (
                "reactie",
                {"signalering": signals[-1] if signals else str(uuid4()), "opvolging": "opgepakt"},
                GEMEENTE,
            ),
            "join": ("netwerkwijziging", netwerk(POLITIE), ZVH),
            "leave": ("netwerkwijziging", netwerk(POLITIE, "uitgetreden"), ZVH),
            "kader": (
                "kaderwijziging",
                {
                    "kader": "zorgmachtiging",
                    "ingangsdatum": (occurred - timedelta(days=1)).date().isoformat(),
                    "einddatum": (occurred + timedelta(days=back)).date().isoformat(),
                    "voorwaarden": f"Voorwaarden {marker}",
                },
                ZVH,
            ),
            "plan": ("planwijziging", _plan(plan + 1, marker), GEMEENTE),
            "overleg": (
                "casusoverleg",
                {
                    "soort": "levenslooptafel",
                    "deelnemers": [ZVH, GEMEENTE],
                    "besluiten": f"Besluit {marker}",
                },
                ZVH,
            ),
            "risico": (
                "risicotaxatie",
                {
                    "datum": occurred.date().isoformat(),
                    "instrument": "hkt_r",
                    "beoordelaar": FORENSISCH,
                    "uitkomst": "hoog",
                },
                ZVH,
            ),
        }[kind]
        submission = submit(event_type, payload, author)
        try:
            recorded = store.append(
                case_id,
                type(submission)(event_type, payload, submission.author, occurred_at=occurred),
            )
        except (errors.ProcessViolation, errors.AuthorNotPermitted, errors.PayloadInvalid):
            continue
        if kind == "signalering":
            signals.append(recorded.event_id)
        if kind == "plan":
            plan += 1
        if kind == "overleg":
            meetings.append(recorded.event_id)
        moments.extend([occurred, now, now - timedelta(seconds=1)])
    return case_id, moments


HISTORIES = st.lists(
    st.tuples(STEPS, st.integers(1, 600), st.integers(0, 900)), min_size=1, max_size=14
)


@ONCE_PER_FIXTURE
@given(steps=HISTORIES, pick=st.data())
def test_the_timeline_at_a_moment_is_the_case_rebuilt_from_its_events_up_to_it(
    services: Services, clock: Clock, steps: list[tuple[str, int, int]], pick: st.DataObject
) -> None:
    case_id, moments = _play(services, clock, steps, "m")
    moment = pick.draw(st.sampled_from(moments))
    timelines = services.timelines
    # The custodian writes or receives every event of these histories.
    received = services.store.records.tables.access_positions(ZVH, str(case_id))
    assert set(received) == set(range(1, services.store.case(case_id).version + 1))

    # As it was known at the moment: the aggregate rebuilt from the events recorded by then.
    known = timelines.timeline(ZVH, case_id, as_of=moment, known=True)
    case = services.store.case(case_id, as_of=moment)
    assert known["status"] == str(case.status)
    assert known["level"] == case.level
    assert [m["organisatie"] for m in known["network"]] == case.network
    assert known["regie"] == case.regie
    assert known["plan_version"] == case.plan_version
    assert {k["kader"]: (k["van"], k["tot"]) for k in known["kaders"]} == {
        k: (p["van"], p["tot"]) for k, p in case.kaders.items()
    }
    assert {s["event_id"]: s["answered"] for s in known["signals"]} == case.signaleringen
    assert [e["version"] for e in sorted(known["entries"], key=lambda e: e["version"])] == list(
        range(1, case.version + 1)
    )
    if case.level is not None:
        assert known["level_history"][-1]["level"] == case.level

    # As it was at the moment, as known now: every event that occurred by then, those
    # recorded after it marked.
    history = services.store.history(case_id)
    at = timelines.timeline(ZVH, case_id, as_of=moment)
    expected = {e.event_id: e.timestamp > moment for e in history if e.occurred_at <= moment}
    assert {e["event_id"]: e["recorded_later"] for e in at["entries"]} == expected
    occurred = [datetime.fromisoformat(e["occurred_at"]) for e in at["entries"]]
    assert occurred == sorted(occurred)


def _own_key(services: Services, org: str) -> OrgPrivateKeys:
    path = services.settings.key_directory / "private" / f"{org}.json"
    return OrgPrivateKeys.from_json(json.loads(path.read_text()))


def _markers(value: Any, marker: str) -> set[str]:
    """The marked strings in a JSON value."""
    found: set[str] = set()
    if isinstance(value, str):
        if marker in value:
            found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            found |= _markers(item, marker)
    elif isinstance(value, list):
        for item in value:
            found |= _markers(item, marker)
    return found


@ONCE_PER_FIXTURE
@given(
    steps=HISTORIES,
    org=st.sampled_from([POLITIE, GEMEENTE, GGZ, FORENSISCH, WONEN, "om-amsterdam"]),
)
def test_a_view_holds_no_value_that_its_organisation_cannot_open(
    services: Services, clock: Clock, steps: list[tuple[str, int, int]], org: str
) -> None:
    marker = f"MARK{uuid4().hex[:10]}"
    case_id, _ = _play(services, clock, steps, marker, care=GGZ)
    services.store.append(case_id, submit("netwerkwijziging", netwerk(WONEN), ZVH))
    try:
        view = services.timelines.timeline(ZVH, case_id, view=org)
    except errors.CaseNotFound:
        assert not services.disclosure.receives_any(org, case_id)
        return
    # What the organisation opens itself, with its own private key, from what it receives.
    key = _own_key(services, org).decryption_key
    own: set[str] = set()
    for event in services.disclosure.read_case(org, case_id):
        own |= _markers(open_event(event.to_json(), [key], verify=False), marker)
    shown = _markers(view, marker)
    assert shown <= own, sorted(shown - own)


def test_the_police_view_shows_a_signalering_without_its_explanation(
    services: Services,
) -> None:
    case_id = next(r.case_id for r in load_signed_demo(services) if r.version == 1)
    view = services.timelines.timeline(ZVH, case_id, view=demo.POLITIE)
    assert view["view"] == demo.POLITIE and view["reader"] == ZVH
    [passed_on] = [e for e in view["entries"] if e["event_type"] == "signalering"]
    assert passed_on["author_org"] == ZVH
    fields = passed_on["fields"]
    assert fields["categorie"] == "dreiging"
    assert fields["gevraagde_actie"].startswith("Politie alert")
    withheld = fields["toelichting"]
    assert withheld["withheld"] is True
    assert withheld["rule"].startswith("signalering-")
    assert "Doorgegeven" not in json.dumps(view)
    # The provider's own signal with diagnosis and medication is not in the police's view.
    assert "Schizofrenie" not in json.dumps(view)
    # The custodian's own timeline reads the explanation.
    own = services.timelines.timeline(ZVH, case_id)
    [mine] = [e for e in own["entries"] if e["event_id"] == passed_on["event_id"]]
    assert mine["fields"]["toelichting"].startswith("Doorgegeven")


def test_every_timeline_is_a_read_in_the_audit_trail(services: Services) -> None:
    case_id = next(r.case_id for r in load_signed_demo(services) if r.version == 1)
    services.timelines.timeline(ZVH, case_id, view=demo.POLITIE)
    rows = services.audit.page(case=str(case_id), limit=1000)
    [entry] = [json.loads(r.entry) for r in rows if r.action == "case.timeline"]
    assert entry["receiver"] == demo.POLITIE


@pytest.mark.parametrize(
    ("org", "role", "view", "allowed"),
    [
        (ZVH, ClientRole.coordinator, POLITIE, True),
        (ZVH, ClientRole.privacy_officer, POLITIE, True),
        (POLITIE, ClientRole.privacy_officer, POLITIE, True),
        (POLITIE, ClientRole.partner_system, POLITIE, False),
        (ZVH, ClientRole.partner_system, POLITIE, False),
        (GEMEENTE, ClientRole.coordinator, POLITIE, False),
        (GEMEENTE, ClientRole.privacy_officer, POLITIE, False),
    ],
)
def test_who_may_see_a_case_as_another_organisation(
    services: Services, org: str, role: ClientRole, view: str, allowed: bool
) -> None:
    if allowed:
        services.timelines.check_view(org, role, view)
    else:
        with pytest.raises(errors.ViewNotAllowed):
            services.timelines.check_view(org, role, view)


# ---- the timeline a process keeps folded -------------------------------------------------


def _consent(until: datetime) -> dict[str, Any]:
    """The person's consent that the regie knows the GGZ's referral, until a moment."""
    return {
        "ontvangers": [ZVH],
        "gebeurtenistypen": ["aanmelding"],
        "gegeven_door": "betrokkene",
        "gegeven_op": "2026-03-01",
        "motivering": "Betrokkene wil dat de regie de aanmelding kent.",
        "geldig_tot": format_time(until),
    }


def _fields_of(timeline: dict[str, Any], version: int) -> dict[str, Any]:
    [entry] = [e for e in timeline["entries"] if e["version"] == version]
    fields: dict[str, Any] = entry["fields"]
    return fields


def test_a_kept_timeline_shows_a_new_event_and_a_grant_given_or_taken_at_the_next_read(
    services: Services, clock: Clock
) -> None:
    store, timelines = services.store, services.timelines
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)).case_id
    with pytest.raises(errors.CaseNotFound):  # no door yet: the regie receives nothing
        timelines.timeline(ZVH, case_id)

    # A consent given after the referral grants it to the regie after the fact.
    store.append(case_id, submit("toestemming", _consent(clock.now + timedelta(days=1)), GGZ))
    first = timelines.timeline(ZVH, case_id)
    assert _fields_of(first, 1)["naam"] == "J. de Wit"
    assert timelines.timeline(ZVH, case_id)["entries"] == first["entries"]  # kept, unchanged

    # A new event shows at the next read.
    clock.advance(minutes=5)
    triage = store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    second = timelines.timeline(ZVH, case_id)
    assert [e["version"] for e in second["entries"]] == [1, 2, triage.version]
    assert second["status"] == str(store.case(case_id).status)

    # The consent ends: housekeeping revokes the referral's grant (and the regie no
    # longer receives it at all), no event is written, and the next read drops it.
    services.housekeeping.run_once()
    clock.now = clock.now + timedelta(days=1, minutes=1)
    services.housekeeping.run_once()
    assert store.case(case_id).version == triage.version
    third = timelines.timeline(ZVH, case_id)
    assert 1 not in [e["version"] for e in third["entries"]]
    assert "J. de Wit" not in json.dumps(third)
    fresh = Timelines(store, store.sealer).timeline(ZVH, case_id)
    assert {k: v for k, v in third.items() if k != "as_of"} == {
        k: v for k, v in fresh.items() if k != "as_of"
    }

    # A consent given again grants it again: the next read opens it.
    store.append(case_id, submit("toestemming", _consent(clock.now + timedelta(days=1)), GGZ))
    assert _fields_of(timelines.timeline(ZVH, case_id), 1)["naam"] == "J. de Wit"


@ONCE_PER_FIXTURE
@given(steps=HISTORIES, more=st.lists(st.tuples(STEPS, st.integers(1, 600))), pick=st.data())
def test_a_kept_timeline_equals_one_read_afresh_after_more_events(
    services: Services,
    clock: Clock,
    steps: list[tuple[str, int, int]],
    more: list[tuple[str, int]],
    pick: st.DataObject,
) -> None:
    """Read, append more, read again at now or at an earlier moment, as the custodian and
    as another organisation: the kept timeline answers as a process that kept nothing."""
    case_id, moments = _play(services, clock, steps, "m")
    org = pick.draw(st.sampled_from([ZVH, POLITIE, GEMEENTE]))
    known = pick.draw(st.booleans())
    timelines = services.timelines
    view = None if org == ZVH else org
    try:
        timelines.timeline(ZVH, case_id, view=view, known=known)
    except errors.CaseNotFound:
        return
    for kind, minutes in more[:6]:
        clock.advance(minutes=minutes)
        event_type, payload = {
            "join": ("netwerkwijziging", netwerk(POLITIE)),
            "leave": ("netwerkwijziging", netwerk(POLITIE, "uitgetreden")),
        }.get(kind, ("signalering", _signal("n", ZVH)))
        try:
            services.store.append(case_id, submit(event_type, payload, ZVH))
        except (errors.ProcessViolation, errors.AuthorNotPermitted):
            continue
    moment = pick.draw(st.sampled_from([None, *moments]))
    kept = timelines.timeline(ZVH, case_id, as_of=moment, view=view, known=known)
    fresh = Timelines(services.store, services.store.sealer).timeline(
        ZVH, case_id, as_of=moment, view=view, known=known
    )
    if moment is None:
        kept.pop("as_of"), fresh.pop("as_of")
    assert kept == fresh
