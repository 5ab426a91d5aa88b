"""The steps between the milestones, through the store: who may write them, what they
change in the case and the person index, and what the policy then grants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from casestore.bootstrap import Services
from casestore.domain import errors
from casestore.domain.status import Status
from casestore.services.case_store import CaseStore
from casestore.services.region_settings import stable_long_enough, uitstroom_candidates
from casestore.services.sealing import case_context
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    TRIAGE,
    UITSTROOM,
    ZVH,
    Clock,
    aanmelding,
    fresh_bsn,
    include,
    open_case,
    signalering,
    submit,
)

WONEN = "ymere"
POLITIE = "politie-amsterdam"


def plan(owners: list[str]) -> dict[str, object]:
    return {
        "planversie": 1,
        "doelen": [{"levensdomein": "wonen", "doel": "Woning behouden."}],
        "acties": [{"organisatie": org, "actie": "Eigen actie."} for org in owners],
        "casusregisseur_contact": "S. Bakker, casusregisseur",
    }


def vraag(aan: str) -> dict[str, object]:
    return {"organisatie": aan, "naam": "J. de Wit", "geboortedatum": "1984-05-17"}


def antwoord(vraag_id: str, van: str) -> dict[str, object]:
    return {"vraag": vraag_id, "organisatie": van, "bekend": True, "contactpersoon": "H. Koster"}


@pytest.fixture
def store(services: Services) -> CaseStore:
    return services.store


def test_only_the_asked_organisation_answers_and_only_the_zvh_reads_the_answer(
    services: Services, store: CaseStore
) -> None:
    case_id = open_case(store).case_id
    asked = store.append(case_id, submit("bekendheidsvraag", vraag(WONEN), ZVH))

    with pytest.raises(errors.NotAsked):
        store.append(
            case_id, submit("bekendheidsantwoord", antwoord(asked.event_id, POLITIE), POLITIE)
        )
    with pytest.raises(errors.QuestionNotOpen):
        store.append(case_id, submit("bekendheidsantwoord", antwoord("elders", WONEN), WONEN))
    # Not in the network, and answering without joining it.
    answered = store.append(
        case_id, submit("bekendheidsantwoord", antwoord(asked.event_id, WONEN), WONEN)
    )

    case = store.case(case_id)
    assert WONEN not in case.network and case.open_questions == {}
    [read] = [
        e
        for e in services.disclosure.read_case(ZVH, case_id, decrypt=True)
        if e.event_id == answered.event_id
    ]
    assert read.payload is not None and read.payload["bekend"] is True
    # The referrer (a care provider in the network) does not receive the answer.
    seen = {e.event_type for e in services.disclosure.read_case(GGZ, case_id)}
    assert "bekendheidsantwoord" not in seen
    # Once answered the question is closed: a second answer is refused.
    with pytest.raises(errors.QuestionNotOpen):
        store.append(case_id, submit("bekendheidsantwoord", antwoord(asked.event_id, WONEN), WONEN))


def test_only_the_owner_of_an_action_reports_on_it_and_no_one_sees_the_owners(
    services: Services, store: CaseStore
) -> None:
    case_id = open_case(store).case_id
    include(store, case_id)
    store.append(case_id, submit("netwerkwijziging", _join(WONEN), ZVH))
    store.append(case_id, submit("planwijziging", plan([WONEN, FORENSISCH]), GEMEENTE))
    status = {"planversie": 1, "actie": 1, "status": "niet_mogelijk", "reden": "Niet thuis."}

    with pytest.raises(errors.NotActionOwner):
        store.append(case_id, submit("actiestatus", status, FORENSISCH))
    with pytest.raises(errors.ActionNotInPlan):
        store.append(case_id, submit("actiestatus", {**status, "actie": 3}, WONEN))
    store.append(case_id, submit("actiestatus", status, WONEN))

    for org in (WONEN, GEMEENTE, FORENSISCH):
        for event in services.disclosure.read_case(org, case_id):
            assert "actiehouders" not in event.control


def _join(org: str) -> dict[str, object]:
    return {"organisatie": org, "wijziging": "toegetreden", "rol_in_casus": "verhuurder"}


def test_a_kader_is_a_condition_of_the_case_for_its_period(store: CaseStore, clock: Clock) -> None:
    case_id = open_case(store).case_id
    kader = {
        "kader": "bijzondere_voorwaarden",
        "ingangsdatum": "2026-01-15",
        "einddatum": "2026-06-30",
    }
    recorded = store.append(case_id, submit("kaderwijziging", kader, ZVH))

    case = store.case(case_id)
    assert case.kaders_in_force(date(2026, 6, 30)) == ["bijzondere_voorwaarden"]
    assert case.kaders_in_force(date(2026, 7, 1)) == []
    [condition] = case_context(case, {}).at(clock.now).kaders()
    assert (condition.kader, condition.id) == ("bijzondere-voorwaarden", recorded.event_id)
    clock.advance(days=121)  # 1 July 2026
    assert case_context(case, {}).at(clock.now).kaders() == ()


def test_a_regie_transfer_moves_what_the_role_may_write(store: CaseStore) -> None:
    case_id = open_case(store).case_id
    include(store, case_id)  # inforsa is the levensloopaanbieder
    transfer = {"rol": "levensloopaanbieder", "van": GGZ, "naar": GGZ, "contactpersoon": "D. M."}
    with pytest.raises(errors.NotRoleHolder):
        store.append(case_id, submit("regiewijziging", transfer, ZVH))
    store.append(case_id, submit("regiewijziging", {**transfer, "van": FORENSISCH}, ZVH))

    assert store.case(case_id).regie["levensloopaanbieder"] == GGZ
    opschaling = {"niveau": 3, "reden": "Decompensatie."}
    with pytest.raises(errors.NotLevensloopaanbieder):
        store.append(case_id, submit("opschaling", opschaling, FORENSISCH))
    store.append(case_id, submit("opschaling", opschaling, GGZ))
    # The former holder may now leave the network.
    leave = {"organisatie": FORENSISCH, "wijziging": "uitgetreden", "rol_in_casus": "behandelaar"}
    store.append(case_id, submit("netwerkwijziging", leave, ZVH))


def _ended_with_nazorg(store: CaseStore) -> tuple[UUID, str]:
    """A case after its uitstroom, in nazorg; and the BSN of its person."""
    bsn = fresh_bsn()
    case_id = open_case(store, bsn).case_id
    include(store, case_id)
    store.append(case_id, submit("uitstroom", UITSTROOM, ZVH))
    nazorg = {"herzien_op": "2026-06-01", "tot": "2026-12-01", "afspraken": "Huisarts belt."}
    store.append(case_id, submit("nazorg", nazorg, ZVH))
    return case_id, bsn


def test_a_heraanmelding_reopens_the_case_and_the_person_index_knows(store: CaseStore) -> None:
    case_id, bsn = _ended_with_nazorg(store)
    assert store.case(case_id).status is Status.uitgestroomd

    store.append(case_id, submit("heraanmelding", {"reden": "Terugval."}, GEMEENTE))

    case = store.case(case_id)
    assert case.status is Status.geincludeerd and case.closed_at is None
    # A network member that refers the person again is pointed at the reopened case.
    with pytest.raises(errors.PersonHasOpenCase) as caught:
        store.open_case(submit("aanmelding", aanmelding(bsn), GGZ))
    assert caught.value.case_id == str(case_id)


def test_no_heraanmelding_while_another_case_of_the_person_is_open(store: CaseStore) -> None:
    case_id, bsn = _ended_with_nazorg(store)
    store.open_case(submit("aanmelding", aanmelding(bsn), POLITIE))

    with pytest.raises(errors.CannotReopen):
        store.append(case_id, submit("heraanmelding", {"reden": "Terugval."}, GEMEENTE))
    assert store.case(case_id).status is Status.uitgestroomd


# ---- the region's settings, ages and partner roles ------------------------------------


def test_a_schaling_names_a_setting_of_its_level_as_the_region_names_it(store: CaseStore) -> None:
    case_id = open_case(store).case_id
    include(store, case_id)  # inforsa is the levensloopaanbieder, at level 2
    up = {"niveau": 3, "reden": "Decompensatie.", "setting": "beschermd_wonen"}
    with pytest.raises(errors.PayloadInvalid, match="klinisch") as caught:
        store.append(case_id, submit("opschaling", up, FORENSISCH))
    assert [p.field for p in caught.value.problems] == ["setting"]
    assert store.case(case_id).level == 2  # nothing written

    financed = {**up, "setting": "klinisch", "ingangsdatum": "2026-03-01", "financier": "zvw"}
    store.append(case_id, submit("opschaling", {**financed, "kader": "zorgmachtiging"}, FORENSISCH))
    assert store.case(case_id).level == 3


def test_an_uitstroom_as_stabiel_waits_for_the_regions_stability_term(
    services: Services, store: CaseStore, clock: Clock
) -> None:
    region = services.store.sealer.matrix.policy.region
    assert region.stability_months == 24
    case_id = open_case(store).case_id
    include(store, case_id)
    clock.advance(days=200)
    store.append(case_id, submit("signalering", signalering(), GGZ))
    stabiel = {"reden": "stabiel", "toelichting": "Twee jaar zonder terugval."}

    clock.advance(days=700)  # 23 months after the signalering
    assert not stable_long_enough(region, store.history(case_id), clock.now)
    with pytest.raises(errors.NotStableLongEnough):
        store.append(case_id, submit("uitstroom", stabiel, ZVH))
    assert store.case(case_id).is_open

    assert str(case_id) not in {c for c, _ in uitstroom_candidates(store, clock.now)}
    clock.advance(days=31)  # 24 months after it
    assert stable_long_enough(region, store.history(case_id), clock.now)
    candidates = dict(uitstroom_candidates(store, clock.now))
    assert candidates[str(case_id)] == store.history(case_id)[-1].occurred_at  # the signal
    store.append(case_id, submit("uitstroom", stabiel, ZVH))
    assert str(case_id) not in dict(uitstroom_candidates(store, clock.now))
    assert store.case(case_id).status is Status.uitgestroomd


def test_the_birth_date_decides_the_age_criterion_and_reaches_no_recipient(
    services: Services, store: CaseStore, clock: Clock
) -> None:
    young = {**aanmelding(fresh_bsn()), "geboortedatum": "2008-09-01"}  # 18 on 1 Sep 2026
    case_id = store.open_case(submit("aanmelding", young, GGZ)).case_id
    with pytest.raises(errors.MinorClaimedAdult):
        store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    assert store.case(case_id).status is Status.aangemeld

    clock.now = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    assert store.case(case_id).status is Status.getrieerd
    for org in (GGZ, ZVH):
        for event in services.disclosure.read_case(org, case_id):
            assert not {"minderjarig_tot", "meerderjarig_geclaimd"} & set(event.control)


def test_a_partner_role_in_the_case_is_the_policys_case_role(store: CaseStore) -> None:
    case_id = open_case(store).case_id
    include(store, case_id)
    store.append(case_id, submit("netwerkwijziging", _join(WONEN), ZVH))  # as verhuurder
    joined = {"organisatie": POLITIE, "wijziging": "toegetreden", "rol_in_casus": "wijkagent"}
    store.append(case_id, submit("netwerkwijziging", joined, ZVH))
    as_regie = {"organisatie": GEMEENTE, "wijziging": "uitgetreden", "rol_in_casus": "overig"}
    with pytest.raises(errors.RegisseurMustStay):
        store.append(case_id, submit("netwerkwijziging", as_regie, ZVH))

    context = case_context(store.case(case_id), {})
    assert context.holders("verhuurder") == {WONEN}
    assert context.holders("wijkagent") == {POLITIE}
    assert context.holders("casusregisseur") == {GEMEENTE}

    leave = {**joined, "wijziging": "uitgetreden"}
    store.append(case_id, submit("netwerkwijziging", leave, ZVH))
    assert case_context(store.case(case_id), {}).holders("wijkagent") == frozenset()


def test_a_netwerkwijziging_names_no_regie_holder(store: CaseStore) -> None:
    case_id = open_case(store).case_id
    include(store, case_id)
    claim = {"organisatie": WONEN, "wijziging": "toegetreden", "rol_in_casus": "casusregisseur"}
    store.append(case_id, submit("netwerkwijziging", claim, ZVH))

    assert case_context(store.case(case_id), {}).holders("casusregisseur") == {GEMEENTE}
