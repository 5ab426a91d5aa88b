"""A beperking (AVG art. 18) and an upheld bezwaar (art. 21), through the real read paths
on SQLite and PostgreSQL.

While a beperking is in force the partners receive the case's events as envelopes: no
organisation but the custodian, the procesregisseur and an event's own author opens any
content, whether it reads the case, its feed, the service's opened copy, the timeline or a
meeting pack, and whether or not the grants are reconciled meanwhile. When it is lifted or
its `tot` comes, what was kept back opens again. An upheld objection does the same for the
organisations it names, for good, and revokes their grants; one in behandeling or rejected
changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casestore.bootstrap import Services
from casestore.domain import errors
from casestore.domain.processing_restrictions import BEPERKT, BEZWAAR_TOEGEWEZEN
from casestore.entrypoints.web.pack_document import pack_html
from casestore.services.clients import ClientRole
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    POLITIE,
    ZVH,
    Clock,
    aanmelding,
    everything_read,
    fresh_bsn,
    include,
    netwerk,
    plaintexts,
    submit,
)

RECLASSERING = "reclassering-nederland"


def included_case(services: Services) -> UUID:
    """An included case with the police in its network."""
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE)).case_id
    include(store, case_id)
    store.append(case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    return case_id


def signal(services: Services, case_id: UUID, marker: str) -> str:
    """A signalering by the casusregisseur whose requested action (which the police
    receive) and explanation hold `marker`."""
    payload = {
        "categorie": "terugval",
        "ernst": 3,
        "gevraagde_actie": f"Bellen {marker}.",
        "toelichting": f"Toelichting {marker}.",
    }
    return services.store.append(case_id, submit("signalering", payload, GEMEENTE)).event_id


def beperking(services: Services, case_id: UUID, **more: Any) -> str:
    today = services.store.clock().date().isoformat()
    payload = {"grond": "juistheid_betwist", "ingang": today, **more}
    return services.store.append(case_id, submit("beperking", payload, ZVH)).event_id


def lift(services: Services, case_id: UUID, restriction: str) -> str:
    today = services.store.clock().date().isoformat()
    payload = {
        "beperking": restriction,
        "opgeheven_op": today,
        "betrokkene_geinformeerd_op": today,
    }
    return services.store.append(case_id, submit("beperking_opgeheven", payload, ZVH)).event_id


def bezwaar(services: Services, case_id: UUID, besluit: str, **more: Any) -> str:
    today = services.store.clock().date().isoformat()
    payload: dict[str, Any] = {"ingediend_op": today, "besluit": besluit, **more}
    if besluit != "in_behandeling":
        payload["besloten_op"] = today
    return services.store.append(case_id, submit("bezwaar", payload, ZVH)).event_id


def seen_by(services: Services, case_id: UUID) -> dict[str, str]:
    """Per organisation, everything it reads of the case, opened as it would open it."""
    reads = everything_read(services, case_id)
    return {org: plaintexts(services, {org: events}) for org, events in reads.items()}


def timeline_text(services: Services, reader: str, case_id: UUID) -> str:
    return repr(services.timelines.timeline(reader, case_id))


# ---- a beperking ------------------------------------------------------------------


def test_while_a_beperking_is_in_force_only_the_regie_and_the_author_open_content(
    services: Services,
) -> None:
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    before = seen_by(services, case_id)
    assert marker in before[POLITIE], "the police read the signal: the test tests something"

    restriction = beperking(services, case_id)
    later = uuid.uuid4().hex
    signal(services, case_id, later)  # recorded, signed and sealed during the restriction
    seen = seen_by(services, case_id)

    for org, text in seen.items():
        if org in (ZVH, GEMEENTE):  # the custodian and procesregisseur; the author
            continue
        assert marker not in text, f"{org} opens content under a beperking"
        assert later not in text, f"{org} opens content recorded under a beperking"
    assert marker in seen[ZVH] and later in seen[ZVH]
    assert marker in seen[GEMEENTE] and later in seen[GEMEENTE]
    police = services.disclosure.read_case(POLITIE, case_id)
    assert police, "the police still receive the envelopes"
    held = [e for e in police if e.author_org != POLITIE]
    assert all(e.restricted == [{"reason": BEPERKT, "beperking": restriction}] for e in held)
    assert all(not e.sealed and not e.grants for e in held)
    assert marker not in timeline_text(services, POLITIE, case_id)
    assert BEPERKT in timeline_text(services, POLITIE, case_id)
    assert marker in timeline_text(services, ZVH, case_id)
    # The custodian looking as the police does sees what the police see.
    as_police = repr(services.timelines.timeline(ZVH, case_id, view=POLITIE))
    assert marker not in as_police and BEPERKT in as_police

    lift(services, case_id, restriction)
    after = seen_by(services, case_id)
    assert marker in after[POLITIE] and later in after[POLITIE]
    assert all(not e.restricted for e in services.disclosure.read_case(POLITIE, case_id))


def test_a_beperking_ends_by_itself_on_its_tot(services: Services, clock: Clock) -> None:
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    tot = (clock().date() + timedelta(days=10)).isoformat()
    beperking(services, case_id, tot=tot)

    clock.advance(days=9)
    assert marker not in seen_by(services, case_id)[POLITIE]
    clock.advance(days=1)
    assert marker in seen_by(services, case_id)[POLITIE]


def test_a_beperking_from_a_later_day_holds_from_that_day(services: Services) -> None:
    """An ingang in the past holds at once (no later ingang can be recorded: it is a
    past date); a read cannot be undone, so only reads from then on are held."""
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    yesterday = (services.store.clock().date() - timedelta(days=1)).isoformat()
    services.store.append(
        case_id,
        submit("beperking", {"grond": "onrechtmatig", "ingang": yesterday}, ZVH),
    )
    assert marker not in seen_by(services, case_id)[POLITIE]


def test_re_grants_wait_while_a_beperking_is_in_force(services: Services) -> None:
    """A partner joining during a restriction gets its startdossier only once the
    restriction ends; a reconciliation meanwhile revokes nothing that was granted."""
    store, tables = services.store, services.store.records.tables
    case_id = included_case(services)
    referral = store.history(case_id)[0].event_id  # a joining reclassering's startdossier
    restriction = beperking(services, case_id)

    def holders() -> set[tuple[str, str]]:
        return {(g.org_id, g.event_id) for g in tables.grants_of_case(str(case_id))}

    stored = holders()
    store.append(case_id, submit("netwerkwijziging", netwerk(RECLASSERING), ZVH))
    services.grants.reconcile_case(case_id, "test")

    assert stored <= holders(), "a beperking keeps the stored grants"
    assert (RECLASSERING, referral) not in holders(), "no startdossier during the beperking"

    lift(services, case_id, restriction)
    assert (RECLASSERING, referral) in holders(), "lifted, the startdossier is granted"


def test_the_worker_grants_what_a_beperking_held_back_once_its_tot_has_come(
    services: Services, clock: Clock
) -> None:
    """A beperking that ends by its date is not lifted by any event: the housekeeping
    pass after its `tot` grants the startdossier it held back and tells the partner."""
    store, tables = services.store, services.store.records.tables
    case_id = included_case(services)
    referral = store.history(case_id)[0].event_id
    tot = clock().date() + timedelta(days=10)
    beperking(services, case_id, tot=tot.isoformat())
    store.append(case_id, submit("netwerkwijziging", netwerk(RECLASSERING), ZVH))

    def startdossier() -> bool:
        return any(
            (g.org_id, g.event_id) == (RECLASSERING, referral)
            for g in tables.grants_of_case(str(case_id))
        )

    services.housekeeping.run_once()
    assert not startdossier(), "held back while the beperking is in force"
    clock.advance(days=9)
    services.housekeeping.run_once()
    assert not startdossier(), "still the day before its tot"
    notified = len(services.policy.table.notices(RECLASSERING, 1_000))
    clock.advance(days=1)
    services.housekeeping.run_once()
    assert startdossier(), "granted by the first pass on its tot"
    notices = services.policy.table.notices(RECLASSERING, 1_000)
    assert len(notices) > notified, "and the partner is told"


def test_only_a_beperking_not_lifted_is_lifted(services: Services) -> None:
    case_id = included_case(services)
    with pytest.raises(errors.NoBeperkingToLift):
        lift(services, case_id, signal(services, case_id, "x"))
    restriction = beperking(services, case_id)
    with pytest.raises(errors.AuthorNotPermitted):
        services.store.append(
            case_id,
            submit(
                "beperking_opgeheven",
                {
                    "beperking": restriction,
                    "opgeheven_op": "2026-03-02",
                    "betrokkene_geinformeerd_op": "2026-03-02",
                },
                GEMEENTE,
            ),
        )
    lift(services, case_id, restriction)
    with pytest.raises(errors.NoBeperkingToLift):
        lift(services, case_id, restriction)


# ---- an objection ------------------------------------------------------------------


def test_an_upheld_objection_stops_the_named_organisations_for_good(
    services: Services,
) -> None:
    tables = services.store.records.tables
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    before = seen_by(services, case_id)
    assert marker in before[POLITIE]

    lodged = bezwaar(services, case_id, "in_behandeling", tegen=[POLITIE])
    assert marker in seen_by(services, case_id)[POLITIE], "lodging changes nothing"
    bezwaar(services, case_id, "toegewezen", bezwaar=lodged)

    seen = seen_by(services, case_id)
    assert marker not in seen[POLITIE]
    for org in set(seen) - {POLITIE}:  # the others read what they read before
        assert (marker in seen[org]) is (marker in before[org]), org
    assert POLITIE not in {g.org_id for g in tables.grants_of_case(str(case_id))}
    police = services.disclosure.read_case(POLITIE, case_id)
    assert {"reason": BEZWAAR_TOEGEWEZEN, "bezwaar": lodged} in police[-1].restricted
    later = uuid.uuid4().hex
    signal(services, case_id, later)
    services.grants.reconcile_case(case_id, "test")
    assert later not in seen_by(services, case_id)[POLITIE]


def test_a_rejected_objection_changes_nothing(services: Services) -> None:
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    lodged = bezwaar(services, case_id, "in_behandeling")
    bezwaar(services, case_id, "afgewezen", bezwaar=lodged)
    assert marker in seen_by(services, case_id)[POLITIE]


def test_an_objection_against_every_partner_spares_the_regie(services: Services) -> None:
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    bezwaar(services, case_id, "toegewezen")
    seen = seen_by(services, case_id)
    assert marker in seen[ZVH] and marker in seen[GEMEENTE]
    assert marker not in seen[POLITIE] and marker not in seen[FORENSISCH]


# ---- the property ------------------------------------------------------------------

STEP = st.one_of(
    st.tuples(st.just("signal"), st.sampled_from([GEMEENTE, ZVH])),
    st.tuples(st.just("beperking"), st.one_of(st.none(), st.integers(1, 5))),
    st.tuples(st.just("lift"), st.integers(0, 3)),
    st.tuples(st.just("bezwaar"), st.sampled_from(["in_behandeling", "toegewezen", "afgewezen"])),
    st.tuples(st.just("days"), st.integers(1, 4)),
    st.tuples(st.just("reconcile"), st.none()),
)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=2, max_size=8), against=st.booleans())
def test_no_other_organisation_opens_content_while_a_restriction_is_in_force(
    services: Services, clock: Clock, steps: list[tuple[str, Any]], against: bool
) -> None:
    """The model: a beperking holds from its recording until its `tot` or its lifting;
    an upheld objection holds from its decision on, against the police or everyone."""
    case_id = included_case(services)
    beperkingen: dict[str, date | None] = {}  # in force: id -> tot
    upheld: set[str | None] = set()  # the organisation objected to (None: every partner)
    markers: dict[str, str] = {}  # marker -> author
    for kind, arg in steps:
        today = clock().date()
        if kind == "signal":
            marker = uuid.uuid4().hex
            markers[marker] = arg
            services.store.append(
                case_id,
                submit(
                    "signalering",
                    {"categorie": "terugval", "ernst": 2, "gevraagde_actie": marker},
                    arg,
                ),
            )
        elif kind == "beperking":
            tot = None if arg is None else today + timedelta(days=arg)
            more = {} if tot is None else {"tot": tot.isoformat()}
            beperkingen[beperking(services, case_id, **more)] = tot
        elif kind == "lift" and beperkingen:
            chosen = sorted(beperkingen)[arg % len(beperkingen)]
            lift(services, case_id, chosen)
            del beperkingen[chosen]
        elif kind == "bezwaar":
            tegen = {"tegen": [POLITIE]} if against else {}
            bezwaar(services, case_id, arg, **tegen)
            if arg == "toegewezen":
                upheld.add(POLITIE if against else None)
        elif kind == "days":
            clock.advance(days=arg)
        elif kind == "reconcile":
            services.grants.reconcile_case(case_id, "property")
        today = clock().date()
        beperkingen = {k: t for k, t in beperkingen.items() if t is None or today < t}
        seen = seen_by(services, case_id)
        for org, text in seen.items():
            if org in (ZVH, GEMEENTE):
                continue
            held = bool(beperkingen) or None in upheld or org in upheld
            for marker, author in markers.items():
                if held and author != org:
                    assert marker not in text, f"{org} opened content under a restriction"


def test_a_meeting_pack_holds_no_content_under_a_beperking(services: Services) -> None:
    case_id = included_case(services)
    marker = uuid.uuid4().hex
    signal(services, case_id, marker)
    coordinator = services.clients.add(ZVH, ClientRole.coordinator, "procesregisseur").client
    meeting = services.meetings.plan(
        coordinator,
        soort="levenslooptafel",
        held_on=date(2026, 3, 5),
        title="Levenslooptafel maart",
        attendees=[POLITIE, GEMEENTE],
        cases=[str(case_id)],
    )
    zone = services.sealer.matrix.policy.zone

    def pack_text() -> str:
        pack = services.meetings.pack(coordinator, meeting.meeting_id, POLITIE, how="page")
        return pack_html(pack, zone)

    assert marker in pack_text(), "the police's pack held the signal: the test tests something"
    beperking(services, case_id)
    assert marker not in pack_text()
