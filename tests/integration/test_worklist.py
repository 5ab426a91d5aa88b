"""The worklist raises each attention signal exactly when its date passes and clears it when
the event that answers it is recorded, on SQLite and PostgreSQL, with the clock injected.

One table row per signal: how a case comes to raise it, when (from the region's terms in
the policy in force), and the event that answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

import pytest

from casestore.bootstrap import Services
from casestore.domain.worklist import Signal
from casestore.services.case_store import CaseStore
from casestore.services.clients import Client, ClientRole
from casestore.services.worklist import Query, WorklistRefused, WorklistRow
from sharing.policy.law import add_months
from sharing.policy.model import AttentionTerms
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    INCLUSIE,
    UITSTROOM,
    ZVH,
    Clock,
    include,
    open_case,
    signalering,
    submit,
)

WONEN = "ymere"
TERMS = AttentionTerms()  # the demo region sets the defaults


def _included(store: CaseStore) -> UUID:
    case_id = open_case(store).case_id
    include(store, case_id)
    return case_id


def _plan(version: int) -> dict[str, object]:
    return {
        "planversie": version,
        "doelen": [{"levensdomein": "wonen", "doel": "Woning behouden."}],
        "acties": [{"organisatie": FORENSISCH, "actie": "Huisbezoek."}],
        "casusregisseur_contact": "S. Bakker, casusregisseur",
    }


def _kader(until: date) -> dict[str, object]:
    return {
        "kader": "bijzondere_voorwaarden",
        "ingangsdatum": "2026-01-15",
        "einddatum": until.isoformat(),
    }


KADER_END = date(2026, 7, 31)


@dataclass(frozen=True)
class Scenario:
    signal: Signal
    raise_it: Callable[[Services], UUID]  # at the start of the test's clock
    due: Callable[[Services, UUID, datetime], datetime]  # from that start
    answer: Callable[[CaseStore, UUID], object]


def _after(days: int) -> Callable[[Services, UUID, datetime], datetime]:
    return lambda services, case_id, start: start + timedelta(days=days)


def _stable_term(services: Services, case_id: UUID, start: datetime) -> datetime:
    """The region's stability term, in calendar months, the one an uitstroom as `stabiel`
    is held to."""
    months = services.store.sealer.matrix.policy.region.stability_months
    assert months is not None  # the demo region sets it
    return add_months(start, months)


def _with_plan(services: Services) -> UUID:
    case_id = _included(services.store)
    services.store.append(case_id, submit("planwijziging", _plan(1), GEMEENTE))
    return case_id


def _with_kader(services: Services) -> UUID:
    case_id = open_case(services.store).case_id
    services.store.append(case_id, submit("kaderwijziging", _kader(KADER_END), ZVH))
    return case_id


def _kader_notice(services: Services, case_id: UUID, start: datetime) -> datetime:
    zone = services.sealer.matrix.policy.zone
    first = KADER_END - timedelta(weeks=TERMS.kader_notice_weeks)
    return datetime.combine(first, time(0), tzinfo=zone)


def _asked(services: Services) -> UUID:
    case_id = open_case(services.store).case_id
    services.store.append(
        case_id,
        submit(
            "bekendheidsvraag",
            {"organisatie": WONEN, "naam": "J. de Wit", "geboortedatum": "1984-05-17"},
            ZVH,
        ),
    )
    return case_id


def _answered(store: CaseStore, case_id: UUID) -> None:
    [question] = store.case(case_id).open_questions
    answer = {"vraag": question, "organisatie": WONEN, "bekend": False}
    store.append(case_id, submit("bekendheidsantwoord", answer, WONEN))


def _signalled(services: Services) -> UUID:
    case_id = open_case(services.store).case_id
    services.store.append(case_id, submit("signalering", signalering(), GGZ))
    return case_id


def _followed_up(store: CaseStore, case_id: UUID) -> None:
    [signal] = store.case(case_id).signaleringen
    store.append(case_id, submit("reactie", {"signalering": signal, "opvolging": "opgepakt"}, ZVH))


def _ended(services: Services) -> UUID:
    case_id = _included(services.store)
    services.store.append(case_id, submit("uitstroom", UITSTROOM, ZVH))
    nazorg = {"herzien_op": "2027-01-01", "tot": "2040-01-01", "afspraken": "Jaarlijks contact."}
    services.store.append(case_id, submit("nazorg", nazorg, ZVH))
    return case_id


def _destruction_notice(services: Services, case_id: UUID, start: datetime) -> datetime:
    store = services.store
    term = services.worklist.terms.case_term(
        store.case(case_id), store.history(case_id), timedelta()
    )
    assert term is not None
    return term.due_at - timedelta(days=TERMS.retention_notice_days)


SCENARIOS = [
    Scenario(
        Signal.monitoring_overdue,
        lambda s: _included(s.store),
        _after(TERMS.monitoring_days),
        lambda store, case_id: store.append(
            case_id,
            submit(
                "monitoringsmoment", {"bevindingen": "Stabiel.", "risico_inschatting": "laag"}, ZVH
            ),
        ),
    ),
    Scenario(
        Signal.plan_review_due,
        _with_plan,
        _after(TERMS.plan_review_days),
        lambda store, case_id: store.append(case_id, submit("planwijziging", _plan(2), GEMEENTE)),
    ),
    Scenario(
        Signal.kader_ends,
        _with_kader,
        _kader_notice,
        lambda store, case_id: store.append(
            case_id, submit("kaderwijziging", _kader(KADER_END + timedelta(days=365)), ZVH)
        ),
    ),
    Scenario(
        Signal.not_triaged,
        lambda s: open_case(s.store).case_id,
        _after(TERMS.triage_days),
        lambda store, case_id: store.append(
            case_id,
            submit(
                "triagebesluit",
                {
                    "uitkomst": "inclusietafel",
                    "onderbouwing": "Voldoet.",
                    "doelgroepcriteria": ["lvb"],
                },
                ZVH,
            ),
        ),
    ),
    Scenario(Signal.bekendheid_unanswered, _asked, _after(TERMS.bekendheid_days), _answered),
    Scenario(
        Signal.signal_without_follow_up, _signalled, _after(TERMS.follow_up_days), _followed_up
    ),
    Scenario(
        Signal.actions_overdue,
        _with_plan,
        _after(TERMS.actions_days),
        lambda store, case_id: store.append(
            case_id,
            submit(
                "actiestatus", {"planversie": 1, "actie": 1, "status": "uitgevoerd"}, FORENSISCH
            ),
        ),
    ),
    Scenario(
        Signal.not_informed,
        lambda s: _included(s.store),
        _after(TERMS.informing_days),
        lambda store, case_id: store.append(
            case_id,
            submit(
                "betrokkene_geinformeerd",
                {
                    "datum": store.clock().date().isoformat(),
                    "door": "S. Bakker",
                    "wijze": "gesprek",
                },
                ZVH,
            ),
        ),
    ),
    Scenario(
        Signal.uitstroom_candidate,
        lambda s: _included(s.store),
        _stable_term,
        lambda store, case_id: store.append(case_id, submit("uitstroom", UITSTROOM, ZVH)),
    ),
    Scenario(
        Signal.retention_due,
        _ended,
        _destruction_notice,
        lambda store, case_id: store.append(
            case_id, submit("heraanmelding", {"reden": "Terugval."}, GEMEENTE)
        ),
    ),
]


def coordinator(services: Services, org: str) -> Client:
    return services.clients.add(org, ClientRole.coordinator, f"regie {org}").client


def row_of(services: Services, client: Client, case_id: UUID) -> WorklistRow | None:
    rows = services.worklist.for_client(client)
    return next((r for r in rows if r.case_id == str(case_id)), None)


def raised(services: Services, client: Client, case_id: UUID, signal: Signal) -> datetime | None:
    row = row_of(services, client, case_id)
    found = [a for a in (row.signals if row else []) if a.signal is signal]
    return found[0].since if found else None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.signal.value for s in SCENARIOS])
def test_a_signal_is_raised_when_its_date_passes_and_cleared_by_its_answer(
    services: Services, clock: Clock, scenario: Scenario
) -> None:
    regie = coordinator(services, ZVH)
    start = clock.now
    case_id = scenario.raise_it(services)
    due = scenario.due(services, case_id, start)
    assert due > start

    clock.now = due - timedelta(seconds=1)
    assert raised(services, regie, case_id, scenario.signal) is None
    clock.now = due
    assert raised(services, regie, case_id, scenario.signal) == due
    clock.now = due + timedelta(days=1)
    assert raised(services, regie, case_id, scenario.signal) == due

    scenario.answer(services.store, case_id)
    assert raised(services, regie, case_id, scenario.signal) is None


def test_a_coordinator_sees_the_cases_its_organisation_holds_regie_in(
    services: Services, clock: Clock
) -> None:
    store = services.store
    included = _included(store)  # gemeente is casusregisseur
    elsewhere = _included(store)
    store.append(
        elsewhere,
        submit(
            "regiewijziging",
            {
                "rol": "casusregisseur",
                "van": GEMEENTE,
                "naar": ZVH,
                "contactpersoon": "P. de Groot",
            },
            ZVH,
        ),
    )
    referred = open_case(store).case_id  # no regie yet: the custodian's

    seen_by_zvh = {r.case_id for r in services.worklist.for_client(coordinator(services, ZVH))}
    seen_by_gemeente = {
        r.case_id for r in services.worklist.for_client(coordinator(services, GEMEENTE))
    }
    assert {str(included), str(elsewhere), str(referred)} <= seen_by_zvh
    assert str(included) in seen_by_gemeente
    assert str(referred) not in seen_by_gemeente
    assert INCLUSIE["casusregisseur"] == GEMEENTE

    partner = services.clients.add(GEMEENTE, ClientRole.partner_system, "systeem").client
    with pytest.raises(WorklistRefused):
        services.worklist.for_client(partner)


def test_a_search_by_bsn_goes_through_the_pseudonym_and_is_audited(
    services: Services,
) -> None:
    bsn = "111222333"
    case_id = open_case(services.store, bsn).case_id
    open_case(services.store)
    regie = coordinator(services, ZVH)

    rows = services.worklist.for_client(regie, Query(search=bsn))
    assert [r.case_id for r in rows] == [str(case_id)]
    assert services.worklist.for_client(regie, Query(search=str(case_id)[:8]))[0].case_id == str(
        case_id
    )
    entries = [line["entry"] for line in services.audit.export()]
    trail = [e for e in entries if e["action"].startswith("search.")]
    assert [e["action"] for e in trail] == ["search.bsn", "search.case"]
    assert all(bsn not in str(e) for e in trail)
    assert trail[0]["person"] is not None


def test_filters_and_order(services: Services, clock: Clock) -> None:
    store = services.store
    first = _included(store)
    clock.advance(days=1)
    second = open_case(store).case_id
    clock.advance(days=TERMS.triage_days + 1)
    regie = coordinator(services, ZVH)

    untriaged = services.worklist.for_client(regie, Query(signal=Signal.not_triaged))
    assert [r.case_id for r in untriaged] == [str(second)]
    level_two = services.worklist.for_client(regie, Query(level=2))
    assert [r.case_id for r in level_two] == [str(first)]
    by_opening = services.worklist.for_client(regie, Query(sort="aangemeld", descending=False))
    assert [r.case_id for r in by_opening] == [str(first), str(second)]


def test_the_worker_folds_new_events_into_the_worklist_before_anyone_asks(
    services: Services,
) -> None:
    """After a bulk of recordings, the housekeeping pass catches the projection up, so the
    first coordinator's request has nothing left to fold; a second pass folds nothing."""
    tables = services.worklist.tables
    before = tables.position()
    cases = [_included(services.store) for _ in range(3)]
    for case_id in cases:
        services.store.append(case_id, submit("signalering", signalering(), GGZ))
    newest = services.store.events_after(before, 1_000)[-1].position
    assert tables.position() == before  # nobody asked yet
    assert services.housekeeping.catch_up_worklist() == newest
    assert tables.position() == newest
    assert set(tables.facts_of({str(c): [] for c in cases})) == {str(c) for c in cases}
    assert services.housekeeping.catch_up_worklist() == newest
