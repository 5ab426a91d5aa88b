"""The levensloop process as the case aggregate enforces it.

Cases are built with `Case.open` and `Case.record`, fed with control and content values
that the real catalogue parsed, so these tests also hold the catalogue to the process.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from casestore.domain import errors
from casestore.domain.case import Case
from casestore.domain.catalogue import parse_payload
from casestore.domain.header import EventHeader
from casestore.domain.status import Status
from tests.factories import DOELGROEPCRITERIA, ELSEWHERE, pending, replayed

TODAY = date(2026, 3, 2)
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE_ID = UUID("5d1c9a3e-0000-4000-8000-000000000001")
PERSON_ID = UUID("7e2f0b4d-0000-4000-8000-000000000002")

POLITIE = "politie-zuid"  # the referrer
ZVH = "zvh-zuid"  # the custodian
GGZ = "ggz-noord"
GEMEENTE = "gemeente-zuid"
WOONSTAD = "woonstad"
RECLASSERING = "reclassering"

PAYLOADS: dict[str, dict[str, Any]] = {
    "aanmelding": {
        "bsn": "111222333",
        "naam": "J. de Vries",
        "geboortedatum": "1984-06-12",
        "aanmeldreden": "Dreigend gedrag richting buren.",
        "risico_indicatie": "Hoog.",
        "contactpersoon_aanmelder": "Wijkagent P. Jansen",
    },
    "triagebesluit": {
        "uitkomst": "inclusietafel",
        "onderbouwing": "Voldoet aan de doelgroepcriteria.",
        "doelgroepcriteria": DOELGROEPCRITERIA,
    },
    "inclusiebesluit": {
        "geincludeerd": True,
        "levensloopaanbieder": GGZ,
        "casusregisseur": GEMEENTE,
        "procesregisseur": ZVH,
        "startniveau": 2,
        "onderbouwing": "Langdurige begeleiding nodig.",
    },
    "netwerkwijziging": {
        "organisatie": WOONSTAD,
        "wijziging": "toegetreden",
        "rol_in_casus": "verhuurder",
    },
    "planwijziging": {
        "planversie": 1,
        "doelen": [{"levensdomein": "wonen", "doel": "Woning behouden."}],
        "acties": [{"organisatie": GGZ, "actie": "Depotmedicatie."}],
        "casusregisseur_contact": "M. Bakker",
    },
    "signalering": {"categorie": "terugval", "ernst": 3, "gevraagde_actie": "Huisbezoek."},
    "opschaling": {"niveau": 3, "reden": "Toename dreiging."},
    "afschaling": {"niveau": 1, "reden": "Stabiel."},
    "casusoverleg": {
        "soort": "levenslooptafel",
        "deelnemers": [GGZ, ZVH],
        "besluiten": "Woonstad aanhaken.",
    },
    "monitoringsmoment": {"bevindingen": "Gaat goed.", "risico_inschatting": "laag"},
    "uitstroom": {"reden": "doelen_bereikt", "nazorg": "Huisarts houdt contact."},
}
NEGATIVE_INCLUSION = {
    "geincludeerd": False,
    "afsluitreden": "andere_aanpak_passend",
    "onderbouwing": "Andere aanpak volstaat.",
}
APPENDABLE = sorted(set(PAYLOADS) - {"aanmelding"})

_event_ids = itertools.count(1)


def header(
    author: str = ZVH,
    *,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    digest: str | None = None,
) -> EventHeader:
    event_id = event_id or f"evt-{next(_event_ids):04d}"
    occurred_at = occurred_at or OPENED + timedelta(hours=1)
    return EventHeader(
        event_id=event_id,
        author_org=author,
        author_user=f"medewerker@{author}",
        occurred_at=occurred_at,
        recorded_at=occurred_at + timedelta(minutes=1),
        digest=digest or f"digest-of-{event_id}",
    )


def values(event_type: str, data: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    payload = parse_payload(event_type, {**(data or PAYLOADS[event_type]), **changes}, today=TODAY)
    return {"control": payload.recorded_control(), "content": payload.content_values()}


def open_case(network: tuple[str, ...] = (POLITIE, ZVH), **envelope_args: Any) -> Case:
    envelope_args.setdefault("occurred_at", OPENED)
    return Case.open(
        case_id=CASE_ID,
        person_id=PERSON_ID,
        network=list(network),
        header=header(POLITIE, **envelope_args),
        **values("aanmelding"),
    )


def record(
    case: Case,
    event_type: str,
    data: dict[str, Any] | None = None,
    *,
    author: str | None = None,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    digest: str | None = None,
    **changes: Any,
) -> None:
    # The care level is scaled by the levensloopaanbieder (GGZ in these cases).
    author = author or (GGZ if event_type in ("opschaling", "afschaling") else ZVH)
    case.record(
        event_type,
        header=header(author, occurred_at=occurred_at, event_id=event_id, digest=digest),
        **values(event_type, data, **changes),
    )


def triaged() -> Case:
    case = open_case()
    record(case, "triagebesluit")
    return case


def included(startniveau: int = 2) -> Case:
    case = triaged()
    record(case, "inclusiebesluit", startniveau=startniveau)
    return case


def state(case: Case) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in case.__dict__.items() if k != "_pending_events"})


# ---- opening ------------------------------------------------------------------------


def test_a_case_opens_only_with_an_aanmelding() -> None:
    case = open_case()

    [event] = pending(case)
    assert type(event) is Case.event_class("aanmelding")
    assert event.event_type == "aanmelding"
    assert case.id == CASE_ID
    assert case.version == 1
    assert case.status is Status.aangemeld
    assert case.is_open


def test_an_opened_case_starts_without_level_plan_or_regie() -> None:
    case = open_case()

    assert case.person_id == str(PERSON_ID)
    assert case.level is None
    assert case.plan_version == 0
    assert case.regie == {}
    assert case.closed_at is None
    assert case.opened_occurred_at == OPENED


def test_the_opening_network_is_the_one_the_caller_chose_sorted_and_without_repeats() -> None:
    case = open_case(network=(ZVH, POLITIE, ZVH))

    assert case.network == [POLITIE, ZVH]


def test_the_aanmelding_keeps_person_and_network_as_control_and_the_rest_as_content() -> None:
    case = open_case()

    [event] = pending(case)
    assert event.control == {"person_id": str(PERSON_ID), "netwerk": [POLITIE, ZVH]}
    assert event.content["bsn"] == "111222333"
    assert event.content["naam"] == "J. de Vries"
    assert "bsn" not in event.control


def test_a_second_aanmelding_on_a_case_is_refused() -> None:
    case = open_case()
    before = state(case)

    with pytest.raises(errors.CaseAlreadyOpened):
        record(case, "aanmelding", author=POLITIE)

    assert state(case) == before


def test_an_unknown_event_type_is_refused() -> None:
    case = included()
    before = state(case)

    with pytest.raises(errors.UnknownEventType) as caught:
        case.record("verhuizing", header=header(), control={}, content={})

    assert caught.value.event_type == "verhuizing"
    assert not isinstance(caught.value, errors.ProcessViolation)
    assert state(case) == before


# ---- what every recorded event carries ----------------------------------------------


def test_a_recorded_event_carries_its_envelope_control_and_content() -> None:
    case = included()
    case.collect_events()
    sent = header(GGZ, occurred_at=OPENED + timedelta(days=3), event_id="evt-sig")

    case.record("signalering", header=sent, **values("signalering"))

    [event] = pending(case)
    assert type(event) is Case.event_class("signalering")
    assert event.originator_id == CASE_ID
    assert event.originator_version == 4
    assert event.event_id == "evt-sig"
    assert event.author_org == GGZ
    assert event.author_user == "medewerker@ggz-noord"
    assert event.occurred_at == OPENED + timedelta(days=3)
    assert event.timestamp == OPENED + timedelta(days=3, minutes=1)
    assert event.digest == "digest-of-evt-sig"
    assert event.control == {}
    assert event.content == {
        "categorie": "terugval",
        "ernst": 3,
        "gevraagde_actie": "Huisbezoek.",
        "toelichting": None,
        "diagnose": None,
        "medicatie": None,
    }


def test_the_version_counts_every_recorded_event() -> None:
    case = included()
    record(case, "signalering")
    record(case, "casusoverleg")

    assert case.version == 5


# ---- triage ---------------------------------------------------------------------------


def test_triage_to_the_inclusietafel_moves_the_case_on() -> None:
    case = open_case()

    record(case, "triagebesluit")

    assert case.status is Status.getrieerd
    assert case.is_open
    assert case.closed_at is None


def test_negative_triage_closes_the_case() -> None:
    case = open_case()
    when = OPENED + timedelta(days=2)

    record(case, "triagebesluit", ELSEWHERE, occurred_at=when)

    assert case.status is Status.afgesloten
    assert not case.is_open
    assert case.closed_at == when
    assert case.level is None


def young_case(born: str) -> Case:
    return Case.open(
        case_id=CASE_ID,
        person_id=PERSON_ID,
        network=[POLITIE, ZVH],
        header=header(POLITIE, occurred_at=OPENED),
        **values("aanmelding", geboortedatum=born),
    )


ADULT_CLAIMED = {**PAYLOADS["triagebesluit"], "doelgroepcriteria": DOELGROEPCRITERIA}


def test_a_triage_may_not_find_a_person_adult_before_the_birth_date_says_so() -> None:
    case = young_case("2008-09-01")  # 17 when referred on 2 March 2026
    assert case.minderjarig_tot == "2026-09-01"

    with pytest.raises(errors.MinorClaimedAdult):
        record(case, "triagebesluit", ADULT_CLAIMED, occurred_at=datetime(2026, 8, 31, tzinfo=UTC))
    refused_status = case.status

    unknown = {**DOELGROEPCRITERIA, "meerderjarig": "niet_voldaan"}
    young = {**ADULT_CLAIMED, "doelgroepcriteria": unknown}
    record(case, "triagebesluit", young, occurred_at=datetime(2026, 8, 31, tzinfo=UTC))
    assert (refused_status, case.status) == (Status.aangemeld, Status.getrieerd)


def test_on_the_18th_birthday_the_criterion_may_be_met() -> None:
    case = young_case("2008-09-01")
    record(case, "triagebesluit", ADULT_CLAIMED, occurred_at=datetime(2026, 9, 1, tzinfo=UTC))
    with pytest.raises(errors.MinorClaimedAdult):
        young = young_case("2008-09-02")
        record(young, "triagebesluit", ADULT_CLAIMED, occurred_at=datetime(2026, 9, 1, tzinfo=UTC))
    assert case.status is Status.getrieerd


def test_an_inclusion_may_not_find_a_minor_adult_either() -> None:
    case = young_case("2008-09-01")
    undecided = {**DOELGROEPCRITERIA, "meerderjarig": "onbekend"}
    record(case, "triagebesluit", {**ADULT_CLAIMED, "doelgroepcriteria": undecided})
    inclusion = {**PAYLOADS["inclusiebesluit"], "doelgroepcriteria": DOELGROEPCRITERIA}
    with pytest.raises(errors.MinorClaimedAdult):
        record(case, "inclusiebesluit", inclusion, occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    record(case, "inclusiebesluit", inclusion, occurred_at=datetime(2026, 9, 2, tzinfo=UTC))
    assert case.status is Status.geincludeerd


def test_an_adult_referral_keeps_nothing_of_the_birth_date() -> None:
    assert open_case().minderjarig_tot is None
    aanmelding = parse_payload("aanmelding", PAYLOADS["aanmelding"], today=TODAY)
    assert aanmelding.recorded_control() == {}


def test_a_case_ended_before_inclusion_names_its_own_reason() -> None:
    with pytest.raises(errors.PayloadInvalid, match="afsluitreden"):
        values("triagebesluit", {**ELSEWHERE, "afsluitreden": None})
    with pytest.raises(errors.PayloadInvalid, match="afsluitreden"):
        values("inclusiebesluit", {**NEGATIVE_INCLUSION, "afsluitreden": None})
    with pytest.raises(errors.PayloadInvalid, match="afsluitreden"):
        values("triagebesluit", {**PAYLOADS["triagebesluit"], "afsluitreden": "overig"})
    case = triaged()
    record(case, "inclusiebesluit", NEGATIVE_INCLUSION)
    assert case.closed_at is not None  # the retention clock runs from here


def test_a_triage_to_the_inclusietafel_names_a_stoornis_met() -> None:
    none_met = {**DOELGROEPCRITERIA, "psychiatrische_stoornis": "onbekend", "verslaving": "nee"}
    with pytest.raises(errors.PayloadInvalid):
        values("triagebesluit", doelgroepcriteria=none_met)
    none_met["verslaving"] = "niet_voldaan"
    with pytest.raises(errors.PayloadInvalid, match="psychiatrische_stoornis"):
        values("triagebesluit", doelgroepcriteria=none_met)


def test_a_listed_triage_reads_as_the_checklist() -> None:
    listed = values("triagebesluit", doelgroepcriteria=["lvb", "nah"])["content"]
    checklist = listed["doelgroepcriteria"]
    assert checklist["lvb"] == checklist["nah"] == "voldaan"
    assert checklist["meerderjarig"] == checklist["psychiatrische_stoornis"] == "onbekend"


@pytest.mark.parametrize("build", [triaged, included], ids=["getrieerd", "geincludeerd"])
def test_a_second_triagebesluit_is_refused(build: Any) -> None:
    case = build()
    before = state(case)

    with pytest.raises(errors.AlreadyTriaged):
        record(case, "triagebesluit")

    assert state(case) == before


# ---- inclusion ----------------------------------------------------------------------


def test_inclusion_before_triage_is_refused() -> None:
    case = open_case()
    before = state(case)

    with pytest.raises(errors.TriageRequired):
        record(case, "inclusiebesluit")

    assert state(case) == before


def test_inclusion_sets_the_start_level_and_the_regie() -> None:
    case = triaged()

    record(case, "inclusiebesluit", startniveau=3)

    assert case.status is Status.geincludeerd
    assert case.level == 3
    assert case.regie == {
        "levensloopaanbieder": GGZ,
        "casusregisseur": GEMEENTE,
        "procesregisseur": ZVH,
    }
    assert case.is_open


def test_inclusion_adds_regie_to_the_network() -> None:
    case = triaged()
    assert case.network == [POLITIE, ZVH]

    record(case, "inclusiebesluit")

    assert case.network == [GEMEENTE, GGZ, POLITIE, ZVH]


def test_not_included_closes_the_case() -> None:
    case = triaged()
    when = OPENED + timedelta(days=9)

    record(case, "inclusiebesluit", NEGATIVE_INCLUSION, occurred_at=when)

    assert case.status is Status.afgesloten
    assert not case.is_open
    assert case.closed_at == when
    assert case.level is None
    assert case.regie == {}
    assert case.network == [POLITIE, ZVH]


def test_a_second_inclusiebesluit_is_refused() -> None:
    case = included()
    before = state(case)

    with pytest.raises(errors.AlreadyDecided):
        record(case, "inclusiebesluit", startniveau=4)

    assert state(case) == before


# ---- what needs inclusion -------------------------------------------------------------


@pytest.mark.parametrize("build", [open_case, triaged], ids=["aangemeld", "getrieerd"])
def test_plan_before_inclusion_is_refused(build: Any) -> None:
    case = build()
    before = state(case)

    with pytest.raises(errors.InclusionRequired) as caught:
        record(case, "planwijziging")

    assert "planwijziging" in str(caught.value)
    assert state(case) == before


@pytest.mark.parametrize(
    "event_type", ["opschaling", "afschaling", "monitoringsmoment", "uitstroom"]
)
@pytest.mark.parametrize("build", [open_case, triaged], ids=["aangemeld", "getrieerd"])
def test_level_changes_monitoring_and_uitstroom_need_inclusion(event_type: str, build: Any) -> None:
    case = build()
    before = state(case)

    with pytest.raises(errors.InclusionRequired) as caught:
        record(case, event_type, author=ZVH)

    assert event_type in str(caught.value)
    assert state(case) == before


@pytest.mark.parametrize("event_type", ["signalering", "casusoverleg", "netwerkwijziging"])
@pytest.mark.parametrize("build", [open_case, triaged], ids=["aangemeld", "getrieerd"])
def test_signals_meetings_and_network_changes_are_allowed_before_inclusion(
    event_type: str, build: Any
) -> None:
    case = build()
    version = case.version

    record(case, event_type)

    assert case.version == version + 1


def test_monitoring_is_recorded_after_inclusion() -> None:
    case = included()

    record(case, "monitoringsmoment")

    assert case.version == 4
    assert case.status is Status.geincludeerd


# ---- the plan -------------------------------------------------------------------------


def test_plan_versions_count_up_by_one() -> None:
    case = included()

    for version in (1, 2, 3):
        record(case, "planwijziging", planversie=version)
        assert case.plan_version == version


@pytest.mark.parametrize("given", [2, 5])
def test_a_plan_version_that_skips_ahead_is_refused(given: int) -> None:
    case = included()
    before = state(case)

    with pytest.raises(errors.PlanVersionOutOfOrder) as caught:
        record(case, "planwijziging", planversie=given)

    assert str(caught.value) == f"planversie must be 1, not {given}"
    assert state(case) == before


def test_a_plan_version_cannot_be_repeated() -> None:
    case = included()
    record(case, "planwijziging", planversie=1)
    record(case, "planwijziging", planversie=2)
    before = state(case)

    with pytest.raises(errors.PlanVersionOutOfOrder) as caught:
        record(case, "planwijziging", planversie=2)

    assert str(caught.value) == "planversie must be 3, not 2"
    assert state(case) == before


# ---- care level -----------------------------------------------------------------------


def test_opschaling_raises_the_level() -> None:
    case = included(startniveau=1)

    record(case, "opschaling", niveau=2)
    record(case, "opschaling", niveau=4)

    assert case.level == 4


@pytest.mark.parametrize("requested", [1, 2])
def test_opschaling_to_a_lower_or_the_same_level_is_refused(requested: int) -> None:
    case = included(startniveau=2)
    before = state(case)

    with pytest.raises(errors.LevelNotHigher) as caught:
        record(case, "opschaling", niveau=requested)

    assert str(caught.value) == f"opschaling goes up: level {requested} is not above 2"
    assert state(case) == before


def test_opschaling_to_a_lower_level_is_refused() -> None:
    case = included(startniveau=3)

    with pytest.raises(errors.LevelNotHigher):
        record(case, "opschaling", niveau=1)

    assert case.level == 3


def test_opschaling_from_the_highest_level_is_refused() -> None:
    case = included(startniveau=4)

    with pytest.raises(errors.LevelNotHigher):
        record(case, "opschaling", niveau=4)


def test_afschaling_lowers_the_level() -> None:
    case = included(startniveau=4)

    record(case, "afschaling", niveau=3)
    record(case, "afschaling", niveau=1)

    assert case.level == 1


@pytest.mark.parametrize("requested", [3, 4])
def test_afschaling_to_a_higher_or_the_same_level_is_refused(requested: int) -> None:
    case = included(startniveau=3)
    before = state(case)

    with pytest.raises(errors.LevelNotLower) as caught:
        record(case, "afschaling", niveau=requested)

    assert str(caught.value) == f"afschaling goes down: level {requested} is not below 3"
    assert state(case) == before


def test_afschaling_from_the_lowest_level_is_refused() -> None:
    case = included(startniveau=1)

    with pytest.raises(errors.LevelNotLower):
        record(case, "afschaling", niveau=1)


# ---- the end of a case ---------------------------------------------------------------


def test_uitstroom_ends_the_case() -> None:
    case = included()
    when = OPENED + timedelta(days=400)

    record(case, "uitstroom", occurred_at=when)

    assert case.status is Status.uitgestroomd
    assert not case.is_open
    assert case.closed_at == when


@pytest.mark.parametrize("event_type", APPENDABLE)
def test_nothing_may_follow_uitstroom(event_type: str) -> None:
    case = included()
    record(case, "uitstroom")
    before = state(case)

    with pytest.raises(errors.CaseClosed) as caught:
        record(case, event_type, author=GGZ)

    assert str(caught.value) == f"the case is uitgestroomd: no {event_type} may follow"
    assert state(case) == before
    assert pending(case)[-1].event_type == "uitstroom"


@pytest.mark.parametrize("event_type", APPENDABLE)
def test_nothing_may_follow_a_negative_triage(event_type: str) -> None:
    case = open_case()
    record(case, "triagebesluit", ELSEWHERE)
    before = state(case)

    with pytest.raises(errors.CaseClosed) as caught:
        record(case, event_type)

    assert str(caught.value) == f"the case is afgesloten: no {event_type} may follow"
    assert state(case) == before


@pytest.mark.parametrize("event_type", APPENDABLE)
def test_nothing_may_follow_a_decision_not_to_include(event_type: str) -> None:
    case = triaged()
    record(case, "inclusiebesluit", NEGATIVE_INCLUSION)
    before = state(case)

    with pytest.raises(errors.CaseClosed):
        record(case, event_type)

    assert state(case) == before


# ---- the network ---------------------------------------------------------------------


def test_a_partner_joins_the_network() -> None:
    case = open_case()

    record(case, "netwerkwijziging", organisatie=WOONSTAD, wijziging="toegetreden")

    assert case.network == [POLITIE, WOONSTAD, ZVH]


def test_a_partner_leaves_the_network() -> None:
    case = included()
    record(case, "netwerkwijziging", organisatie=WOONSTAD, wijziging="toegetreden")

    record(case, "netwerkwijziging", organisatie=POLITIE, wijziging="uitgetreden")

    assert case.network == [GEMEENTE, GGZ, WOONSTAD, ZVH]


def test_joining_a_network_one_is_in_is_refused() -> None:
    case = open_case()
    before = state(case)

    with pytest.raises(errors.AlreadyInNetwork) as caught:
        record(case, "netwerkwijziging", organisatie=POLITIE, wijziging="toegetreden")

    assert str(caught.value) == "politie-zuid is in the case network already"
    assert state(case) == before


def test_leaving_a_network_one_is_not_in_is_refused() -> None:
    case = open_case()
    before = state(case)

    with pytest.raises(errors.NotInNetwork) as caught:
        record(case, "netwerkwijziging", organisatie=RECLASSERING, wijziging="uitgetreden")

    assert str(caught.value) == "reclassering is not in the case network"
    assert state(case) == before


@pytest.mark.parametrize("regisseur", [GGZ, GEMEENTE, ZVH])
def test_regisseur_cannot_leave_the_network(regisseur: str) -> None:
    case = included()
    before = state(case)

    with pytest.raises(errors.RegisseurMustStay) as caught:
        record(case, "netwerkwijziging", organisatie=regisseur, wijziging="uitgetreden")

    assert regisseur in str(caught.value)
    assert state(case) == before
    assert regisseur in case.network


def test_only_network_members_write() -> None:
    case = included()
    before = state(case)

    with pytest.raises(errors.AuthorNotInNetwork) as caught:
        record(case, "signalering", author=RECLASSERING)

    assert caught.value.organisation == RECLASSERING
    assert str(caught.value) == "reclassering is not in the case network and cannot write to it"
    assert state(case) == before


@pytest.mark.parametrize("event_type", APPENDABLE)
def test_a_non_member_is_refused_whatever_it_writes(event_type: str) -> None:
    case = included()

    with pytest.raises(errors.AuthorNotInNetwork):
        record(case, event_type, author=RECLASSERING)


def test_a_partner_that_left_can_no_longer_write() -> None:
    case = open_case()
    record(case, "netwerkwijziging", organisatie=POLITIE, wijziging="uitgetreden")

    with pytest.raises(errors.AuthorNotInNetwork):
        record(case, "signalering", author=POLITIE)


def test_a_partner_that_joined_may_write() -> None:
    case = open_case()
    record(case, "netwerkwijziging", organisatie=WOONSTAD, wijziging="toegetreden")

    record(case, "signalering", author=WOONSTAD)

    assert case.version == 3


def test_regie_named_at_inclusion_may_write_at_once() -> None:
    case = included()

    record(case, "planwijziging", author=GEMEENTE)

    assert case.plan_version == 1


# ---- time -----------------------------------------------------------------------------


def test_event_before_the_aanmelding_is_refused() -> None:
    case = open_case()
    before = state(case)

    with pytest.raises(errors.OccurredBeforeOpening):
        record(case, "triagebesluit", occurred_at=OPENED - timedelta(seconds=1))

    assert state(case) == before


def test_an_event_at_the_moment_of_the_aanmelding_is_accepted() -> None:
    case = open_case()

    record(case, "triagebesluit", occurred_at=OPENED)

    assert case.status is Status.getrieerd


# ---- what a retry is recognised by ---------------------------------------------------


def test_each_event_keeps_the_id_and_digest_a_retry_is_recognised_by() -> None:
    case = open_case(event_id="evt-open", digest="d-open")
    record(case, "triagebesluit", event_id="evt-triage", digest="d-triage")
    record(case, "signalering", event_id="evt-signal", digest="d-signal")

    events = pending(case)

    assert [(e.originator_version, e.event_id, e.digest) for e in events] == [
        (1, "evt-open", "d-open"),
        (2, "evt-triage", "d-triage"),
        (3, "evt-signal", "d-signal"),
    ]


def test_a_refused_event_leaves_nothing_to_save() -> None:
    case = open_case()
    case.collect_events()

    with pytest.raises(errors.InclusionRequired):
        record(case, "planwijziging", event_id="evt-refused")

    assert case.collect_events() == []
    assert case.version == 1


def test_signatures_travel_with_the_event_unchanged() -> None:
    signature = {"alg": "ed25519", "key": "politie-zuid#1", "sig": "c2lnbmF0dXJl"}
    countersignature = {"alg": "ed25519", "key": "zvh-zuid#1", "sig": "Y291bnRlcg=="}
    case = open_case()
    sent = EventHeader(
        event_id="evt-signed",
        author_org=POLITIE,
        author_user="agent",
        occurred_at=OPENED,
        recorded_at=OPENED,
        digest="d",
        signature=signature,
        countersignature=countersignature,
    )

    case.record("signalering", header=sent, **values("signalering"))

    event = pending(case)[-1]
    assert event.signature == signature
    assert event.countersignature == countersignature


def test_an_unsigned_envelope_records_no_signature() -> None:
    case = open_case()

    [event] = pending(case)

    assert event.signature is None
    assert event.countersignature is None


# ---- audience -------------------------------------------------------------------------


def test_an_event_is_shared_with_the_network_before_it() -> None:
    case = included()

    assert case.audience(values("signalering")["control"]) == [GEMEENTE, GGZ, POLITIE, ZVH]


def test_a_joining_partner_sees_its_own_joining() -> None:
    case = open_case()
    control = values("netwerkwijziging", organisatie=WOONSTAD, wijziging="toegetreden")["control"]

    assert case.audience(control) == [POLITIE, WOONSTAD, ZVH]


def test_a_leaving_partner_sees_its_own_leaving() -> None:
    case = open_case()
    control = values("netwerkwijziging", organisatie=POLITIE, wijziging="uitgetreden")["control"]

    assert case.audience(control) == [POLITIE, ZVH]
    record(case, "netwerkwijziging", organisatie=POLITIE, wijziging="uitgetreden")
    assert case.network == [ZVH]


def test_the_regie_named_by_an_inclusion_sees_that_inclusion() -> None:
    case = triaged()
    control = values("inclusiebesluit")["control"]

    assert case.audience(control) == [GEMEENTE, GGZ, POLITIE, ZVH]


def test_a_decision_not_to_include_is_shared_with_the_network_only() -> None:
    case = triaged()

    assert case.audience(values("inclusiebesluit", NEGATIVE_INCLUSION)["control"]) == [
        POLITIE,
        ZVH,
    ]


def test_asking_for_the_audience_changes_nothing() -> None:
    case = triaged()
    before = state(case)

    case.audience(values("inclusiebesluit")["control"])

    assert state(case) == before


# ---- rebuilding -----------------------------------------------------------------------


def test_a_case_rebuilt_from_its_events_equals_the_live_case() -> None:
    case = included(startniveau=2)
    record(case, "planwijziging", planversie=1, author=GEMEENTE)
    record(case, "netwerkwijziging", organisatie=WOONSTAD, wijziging="toegetreden")
    record(case, "opschaling", niveau=4, author=GGZ)
    record(case, "afschaling", niveau=3, author=GGZ)
    record(case, "signalering", author=WOONSTAD)
    record(case, "uitstroom", occurred_at=OPENED + timedelta(days=700))

    events = pending(case)
    again = replayed(events)

    assert [e.event_type for e in events] == [
        "aanmelding",
        "triagebesluit",
        "inclusiebesluit",
        "planwijziging",
        "netwerkwijziging",
        "opschaling",
        "afschaling",
        "signalering",
        "uitstroom",
    ]
    assert state(again) == state(case)
    assert again.status is Status.uitgestroomd
    assert again.level == 3
    assert again.network == [GEMEENTE, GGZ, POLITIE, WOONSTAD, ZVH]


# ---- every refusal is a process violation --------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        errors.OpeningEventRequired("signalering"),
        errors.CaseAlreadyOpened(),
        errors.CaseClosed("signalering", "uitgestroomd"),
        errors.TriageRequired(),
        errors.AlreadyTriaged(),
        errors.InclusionRequired("planwijziging"),
        errors.AlreadyDecided(),
        errors.LevelNotHigher(3, 2),
        errors.LevelNotLower(1, 2),
        errors.PlanVersionOutOfOrder(2, 4),
        errors.AlreadyInNetwork(GGZ),
        errors.NotInNetwork(GGZ),
        errors.RegisseurMustStay(GGZ),
        errors.AuthorNotInNetwork(GGZ),
        errors.OccurredBeforeOpening(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_process_refusal_is_a_process_violation(error: Exception) -> None:
    assert isinstance(error, errors.ProcessViolation)
    assert isinstance(error, errors.CaseStoreError)


def test_a_snapshot_from_before_the_steps_between_milestones_starts_them_empty() -> None:
    case = included()
    snapshot = {
        k: v for k, v in state(case).items() if k not in ("open_questions", "kaders", "meetings")
    }

    Case.upcast_v1_v2(snapshot)

    assert snapshot["open_questions"] == {} and snapshot["kaders"] == {}
    assert snapshot["meetings"] == []


def test_a_snapshot_from_before_ages_and_case_roles_knows_neither() -> None:
    case = included()
    snapshot = {k: v for k, v in state(case).items() if k not in ("minderjarig_tot", "case_roles")}

    Case.upcast_v2_v3(snapshot)

    assert snapshot["minderjarig_tot"] is None and snapshot["case_roles"] == {}
    assert Case.class_version == 3
