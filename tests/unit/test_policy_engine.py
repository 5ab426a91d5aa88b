"""The access matrix: default deny, network membership, authorship, case roles, conditions,
validity, explanations and the startdossier.

The property tests at the end generate small random catalogues, policies and cases (case
roles, conditions in and out of force) and check the engine against a direct, naive reading
of the semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharing.errors import PolicyError, UnknownOrganisation
from sharing.policy import (
    AccessMatrix,
    Anchor,
    Basis,
    CaseContext,
    CaseRole,
    ConditionKind,
    ConditionUse,
    ConflictVanPlichten,
    EventTypeSpec,
    Ground,
    GroundKind,
    Kader,
    KaderCondition,
    KaderInForce,
    NearestKind,
    OnJoin,
    OnLeave,
    Organisation,
    Parties,
    PastEvent,
    Policy,
    Region,
    Retention,
    Role,
    Rule,
    Scope,
    Toestemming,
    compile_policy,
    parse_policy,
    policy_digest,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2025, 6, 1, 10, 0, tzinfo=AMSTERDAM)

CATALOGUE = {
    "signal": EventTypeSpec(
        content_fields=frozenset({"categorie", "diagnose", "toelichting"}),
    ),
    "plan": EventTypeSpec(
        content_fields=frozenset({"acties", "doelen", "contact"}),
        control_fields=frozenset({"versie"}),
        owned_fields=frozenset({"acties"}),
    ),
    "schaal": EventTypeSpec(
        content_fields=frozenset({"reden"}),
        control_fields=frozenset({"niveau"}),
    ),
    "monitor": EventTypeSpec(content_fields=frozenset({"bevindingen"})),
}

POLICY = """\
region: {id: testregio, name: Testregio}
version: 1
custodian: zvh
organisations:
  - {id: zvh, name: ZVH, roles: [zvh]}
  - {id: gemeente, name: Gemeente, roles: [gemeente]}
  - {id: politie, name: Politie, roles: [politie], regime: wpg}
  - {id: arkin, name: Arkin, roles: [ggz], beroepsgeheim: WGBO}
  - {id: inforsa, name: Inforsa, roles: [ggz, forensische-zorg], beroepsgeheim: WGBO}
  - {id: ymere, name: Ymere, roles: [woningcorporatie]}
  - {id: reclassering, name: Reclassering, roles: [reclassering]}
grounds:
  - {id: avg-6, kind: avg-6, basis: e, title: Publieke taak, reference: AVG art. 6 lid 1 sub e}
  - {id: avg-9, kind: avg-9, exception: h, uavg: art. 30 lid 3 sub a, title: Gezondheid,
     reference: AVG art. 9 lid 2 sub h jo. UAVG art. 30 lid 3 sub a}
  - {id: wpg-8, kind: sectoral, law: Wpg, covers: [health], title: Politietaak,
     reference: Wpg art. 8}
  - {id: toestemming, kind: door, door: toestemming, title: Toestemming,
     reference: art. 7:457 lid 1 BW}
  - {id: conflict, kind: door, door: conflict_van_plichten, title: Conflict van plichten,
     reference: KNMG-richtlijn}
agreements:
  - {id: convenant, kind: convenant, title: Convenant, reference: Convenant ZVH}
case_roles:
  - {id: behandelaar, description: Behandelt., held_by: [ggz, forensische-zorg], treatment: true}
  - {id: levensloopaanbieder, description: Draagt de levensloop., held_by: [ggz], treatment: true}
  - {id: wijkagent, description: Wijkagent., held_by: [politie]}
kaders:
  - {id: zorgmachtiging, title: Zorgmachtiging, reference: Wvggz hoofdstuk 6}
special_data:
  signal:
    fields: {diagnose: [health]}
rules:
  - id: signal-politie
    description: Politie ziet de categorie.
    event_types: [signal]
    authors: {roles: [gemeente]}
    recipients: {roles: [politie]}
    fields: [categorie]
    providing: [avg-6]
    receiving: [wpg-8]
    agreements: [convenant]
    purpose: Optreden bij dreiging.
    retention: {years: 1, from: event}
  - id: signal-zorg
    description: Zorg en ZVH zien alles.
    event_types: [signal]
    authors: {roles: [gemeente]}
    recipients: {roles: [ggz], organisations: [zvh]}
    fields: [categorie, diagnose, toelichting]
    providing: [avg-6, avg-9]
    receiving: [avg-6, avg-9]
    purpose: Behandelen.
    retention: {years: 5, from: case_end}
  - id: signal-behandelaar
    description: Een GGZ-signaal gaat naar de behandelaars.
    event_types: [signal]
    authors: {roles: [ggz]}
    recipients: {case_roles: [behandelaar]}
    fields: [categorie, diagnose]
    providing: [avg-6, avg-9]
    receiving: [avg-6, avg-9]
    purpose: Behandelen.
    retention: {years: 5, from: case_end}
  - id: signal-wijkagent-met-toestemming
    description: Met toestemming ziet de wijkagent de categorie van een GGZ-signaal.
    event_types: [signal]
    authors: {roles: [ggz]}
    recipients: {case_roles: [wijkagent]}
    fields: [categorie]
    providing: [avg-6, toestemming]
    receiving: [wpg-8]
    purpose: Optreden bij dreiging.
    retention: {years: 1, from: event}
    condition: toestemming
  - id: signal-politie-bij-conflict
    description: Bij een conflict van plichten ziet de politie de toelichting.
    event_types: [signal]
    authors: {roles: [ggz]}
    recipients: {roles: [politie]}
    fields: [toelichting]
    providing: [avg-6, conflict]
    receiving: [wpg-8]
    purpose: Afwenden van gevaar.
    retention: {years: 1, from: event}
    condition: conflict_van_plichten
  - id: signal-reclassering-onder-kader
    description: Onder een zorgmachtiging ziet de reclassering de categorie.
    event_types: [signal]
    authors: {roles: [gemeente]}
    recipients: {roles: [reclassering]}
    fields: [categorie]
    providing: [avg-6]
    receiving: [avg-6]
    purpose: Toezicht.
    retention: {years: 1, from: event}
    condition: {kader: [zorgmachtiging]}
  - id: plan-eigen
    description: Corporatie en politie zien eigen acties.
    event_types: [plan]
    authors: {roles: [gemeente]}
    recipients: {roles: [woningcorporatie, politie]}
    fields: [acties]
    own_only: true
    providing: [avg-6]
    receiving: [avg-6, wpg-8]
    purpose: Uitvoeren.
    retention: {months: 6, from: case_end}
    on_join: latest
    on_leave: keep
  - id: plan-contact
    description: Corporatie ziet het contact.
    event_types: [plan]
    authors: {roles: [gemeente]}
    recipients: {roles: [woningcorporatie]}
    fields: [contact]
    providing: [avg-6]
    receiving: [avg-6]
    purpose: Contact.
    retention: {years: 1, from: case_end}
    on_join: latest
  - id: plan-zorg
    description: Zorg ziet het plan.
    event_types: [plan]
    authors: {roles: [gemeente]}
    recipients: {roles: [ggz]}
    fields: [acties, doelen, contact]
    providing: [avg-6]
    receiving: [avg-6]
    purpose: Uitvoeren.
    retention: {years: 5, from: case_end}
    on_join: all
  - id: schaal-iedereen
    description: Iedereen ziet het niveau.
    event_types: [schaal]
    authors: {roles: [gemeente]}
    recipients: {roles: [zvh, politie, ggz, woningcorporatie, reclassering]}
    fields: []
    providing: [avg-6]
    receiving: [avg-6, wpg-8]
    purpose: Afstemmen.
    retention: {years: 5, from: case_end}
  - id: schaal-reden
    description: Reden voor de behandelaar.
    event_types: [schaal]
    authors: {roles: [gemeente]}
    recipients: {roles: [forensische-zorg]}
    fields: [reden]
    providing: [avg-6]
    receiving: [avg-6]
    purpose: Behandelen.
    retention: {years: 5, from: case_end}
  - id: monitor-pilot
    description: Pilot.
    event_types: [monitor]
    authors: {roles: [gemeente]}
    recipients: {organisations: [reclassering]}
    fields: [bevindingen]
    providing: [avg-6]
    receiving: [avg-6]
    purpose: Pilot.
    retention: {years: 2, from: case_end}
    valid_from: 2025-01-01
    valid_until: 2025-12-31
"""

EVERYONE = ("zvh", "gemeente", "politie", "arkin", "inforsa", "ymere", "reclassering")
AUTHOR = "gemeente"
ROLES = {"behandelaar": "arkin", "levensloopaanbieder": "inforsa", "wijkagent": "politie"}
CASE = CaseContext.of(EVERYONE, ROLES)


@pytest.fixture(scope="module")
def matrix() -> AccessMatrix:
    return compile_policy(parse_policy(POLICY, CATALOGUE), CATALOGUE)


def toestemming(*recipients: str, **kwargs: Any) -> Toestemming:
    return Toestemming(id=kwargs.pop("id", "t-1"), recipients=frozenset(recipients), **kwargs)


# --- decide -------------------------------------------------------------------------------


def test_police_never_receive_diagnosis_fields(matrix: AccessMatrix) -> None:
    decision = matrix.decide("politie", "signal", EVERYONE, NOW, author=AUTHOR)

    assert decision.receives
    assert set(decision.fields) == {"categorie"}
    assert not decision.grants("diagnose")
    assert not decision.grants("toelichting")


def test_a_grant_names_its_rule_grounds_on_both_sides_agreements_purpose_and_retention(
    matrix: AccessMatrix,
) -> None:
    access = matrix.decide("politie", "signal", EVERYONE, NOW, author=AUTHOR).fields["categorie"]

    assert access.rules == ("signal-politie",)
    assert access.scope is Scope.all
    [grant] = access.grants
    assert (grant.providing, grant.receiving) == (("avg-6",), ("wpg-8",))
    assert grant.grounds == ("avg-6", "wpg-8")
    assert grant.agreements == ("convenant",)
    assert grant.purpose == "Optreden bij dreiging."
    assert grant.retention == Retention(years=1, counted_from=Anchor.event)
    assert grant.condition is None
    assert (grant.on_join, grant.on_leave) == (OnJoin.none, OnLeave.revoke)


def test_each_recipient_is_granted_on_the_receiving_grounds_of_its_own_regime(
    matrix: AccessMatrix,
) -> None:
    police = matrix.decide("politie", "plan", EVERYONE, NOW, author=AUTHOR).fields["acties"]
    ymere = matrix.decide("ymere", "plan", EVERYONE, NOW, author=AUTHOR).fields["acties"]

    assert police.grants[0].receiving == ("wpg-8",)
    assert ymere.grants[0].receiving == ("avg-6",)


def test_the_providing_side_names_the_door_a_beroepsgeheim_holder_shared_through(
    matrix: AccessMatrix,
) -> None:
    case = CaseContext.of(EVERYONE, ROLES, [toestemming("politie")])

    [grant] = (
        matrix.decide("politie", "signal", case, NOW, author="arkin").fields["categorie"].grants
    )

    assert grant.providing == ("avg-6", "toestemming")
    assert grant.condition == ConditionUse(ConditionKind.toestemming, "t-1")


def test_grants_of_several_rules_add_up(matrix: AccessMatrix) -> None:
    decision = matrix.decide("inforsa", "schaal", EVERYONE, NOW, author=AUTHOR)

    assert decision.receiving_rules == ("schaal-iedereen", "schaal-reden")
    assert decision.fields["reden"].rules == ("schaal-reden",)
    assert [g.rule for g in decision.rule_grants] == ["schaal-iedereen", "schaal-reden"]


def test_rules_name_organisations_as_well_as_roles(matrix: AccessMatrix) -> None:
    assert matrix.decide("zvh", "signal", EVERYONE, NOW, author=AUTHOR).grants("diagnose")


def test_a_rule_covers_only_events_of_its_authors(matrix: AccessMatrix) -> None:
    by_police = matrix.decide("zvh", "signal", EVERYONE, NOW, author="politie")
    by_nobody_known = matrix.decide("zvh", "signal", EVERYONE, NOW)

    assert not by_police.receives
    assert not by_nobody_known.receives  # every rule names its authors


def test_default_deny_a_network_member_without_a_rule_receives_nothing(
    matrix: AccessMatrix,
) -> None:
    decision = matrix.decide("ymere", "signal", EVERYONE, NOW, author=AUTHOR)

    assert not decision.receives
    assert decision.basis is Basis.no_rule
    assert decision.fields == {}


def test_an_organisation_outside_the_network_receives_nothing(matrix: AccessMatrix) -> None:
    decision = matrix.decide("arkin", "signal", ("zvh", "politie"), NOW, author=AUTHOR)

    assert not decision.receives
    assert decision.basis is Basis.not_in_network
    assert decision.fields == {}


def test_an_envelope_only_rule_grants_the_event_but_no_content(matrix: AccessMatrix) -> None:
    decision = matrix.decide("ymere", "schaal", EVERYONE, NOW, author=AUTHOR)

    assert decision.receives
    assert decision.basis is Basis.policy
    assert decision.receiving_rules == ("schaal-iedereen",)
    assert decision.fields == {}


def test_own_only_limits_an_owned_field_to_the_recipients_own_entries(
    matrix: AccessMatrix,
) -> None:
    decision = matrix.decide("ymere", "plan", EVERYONE, NOW, author=AUTHOR)

    assert decision.scope("acties") is Scope.own
    assert decision.scope("contact") is Scope.all
    assert decision.scope("doelen") is None


def test_a_full_grant_outweighs_an_own_only_grant() -> None:
    text = POLICY.replace("roles: [woningcorporatie, politie]}", "roles: [woningcorporatie, ggz]}")
    matrix = compile_policy(parse_policy(text, CATALOGUE), CATALOGUE)

    access = matrix.decide("arkin", "plan", EVERYONE, NOW, author=AUTHOR).fields["acties"]

    assert access.scope is Scope.all
    assert [g.scope for g in access.grants] == [Scope.own, Scope.all]


def test_the_author_reads_its_own_event_in_full(matrix: AccessMatrix) -> None:
    decision = matrix.decide("ymere", "signal", EVERYONE, NOW, author="ymere")

    assert decision.basis is Basis.author
    assert set(decision.fields) == CATALOGUE["signal"].content_fields
    assert all(a.as_author and a.scope is Scope.all for a in decision.fields.values())


def test_the_author_reads_its_own_event_even_outside_the_network(matrix: AccessMatrix) -> None:
    decision = matrix.decide("ymere", "plan", ("zvh",), NOW, author="ymere")

    assert decision.receives
    assert decision.scope("acties") is Scope.all
    assert decision.fields["acties"].grants == ()


def test_someone_elses_authorship_grants_nothing(matrix: AccessMatrix) -> None:
    decision = matrix.decide("politie", "signal", EVERYONE, NOW, author="arkin")

    assert not decision.grants("diagnose")


def test_rules_grant_only_within_their_validity(matrix: AccessMatrix) -> None:
    def grants(moment: datetime) -> bool:
        decision = matrix.decide("reclassering", "monitor", EVERYONE, moment, author=AUTHOR)
        return decision.grants("bevindingen")

    assert not grants(datetime(2024, 12, 31, 23, 59, tzinfo=AMSTERDAM))
    assert grants(datetime(2025, 1, 1, 0, 0, tzinfo=AMSTERDAM))
    assert grants(datetime(2025, 12, 31, 23, 59, tzinfo=AMSTERDAM))
    assert not grants(datetime(2026, 1, 1, 0, 0, tzinfo=AMSTERDAM))


def test_validity_dates_are_read_in_the_policy_timezone(matrix: AccessMatrix) -> None:
    # 23:30 UTC on 31 December is already 1 January in Amsterdam.
    late = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    early = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)

    assert not matrix.decide("reclassering", "monitor", EVERYONE, late, AUTHOR).grants(
        "bevindingen"
    )
    assert matrix.decide("reclassering", "monitor", EVERYONE, early, AUTHOR).grants("bevindingen")


def test_the_engine_refuses_a_moment_without_timezone(matrix: AccessMatrix) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        matrix.decide("politie", "signal", EVERYONE, datetime(2025, 6, 1, 10))


def test_unknown_organisations_and_event_types_are_errors_not_denials(
    matrix: AccessMatrix,
) -> None:
    with pytest.raises(UnknownOrganisation):
        matrix.decide("marechaussee", "signal", EVERYONE, NOW)
    with pytest.raises(UnknownOrganisation):
        matrix.decide("politie", "signal", EVERYONE, NOW, author="marechaussee")
    with pytest.raises(PolicyError, match="not in the catalogue"):
        matrix.decide("politie", "melding", EVERYONE, NOW)
    with pytest.raises(PolicyError, match="not in the catalogue"):
        matrix.recipients("melding", EVERYONE, NOW)


def test_network_members_the_policy_does_not_list_receive_nothing(matrix: AccessMatrix) -> None:
    recipients = matrix.recipients("schaal", (*EVERYONE, "onbekend"), NOW, author=AUTHOR)

    assert "onbekend" not in recipients.receivers


def test_view_shows_what_an_organisation_receives_of_every_event_type(
    matrix: AccessMatrix,
) -> None:
    view = matrix.view("ymere", NOW, author=AUTHOR)

    assert set(view) == set(CATALOGUE)
    assert {et for et, d in view.items() if d.receives} == {"plan", "schaal"}


# --- case roles -------------------------------------------------------------------------


def test_a_case_role_grants_its_holder_in_this_case_only(matrix: AccessMatrix) -> None:
    as_behandelaar = matrix.decide("arkin", "signal", CASE, NOW, author="inforsa")
    without_role = matrix.decide("arkin", "signal", EVERYONE, NOW, author="inforsa")

    assert as_behandelaar.fields["diagnose"].rules == ("signal-behandelaar",)
    assert not without_role.receives


def test_a_case_role_counts_only_for_a_member_whose_roles_may_hold_it(
    matrix: AccessMatrix,
) -> None:
    gone = CaseContext.of(set(EVERYONE) - {"arkin"}, ROLES)
    usurped = CaseContext.of(EVERYONE, {"behandelaar": "ymere"})

    assert not matrix.decide("arkin", "signal", gone, NOW, author="inforsa").receives
    assert not matrix.decide("ymere", "signal", usurped, NOW, author="inforsa").receives


def test_authorship_may_name_a_case_role() -> None:
    text = POLICY + (
        "authorship:\n"
        "  - description: De gemeente en de levensloopaanbieder schalen.\n"
        "    event_types: [schaal]\n"
        "    authors: {roles: [gemeente], case_roles: [levensloopaanbieder]}\n"
    )
    matrix = compile_policy(parse_policy(text, CATALOGUE), CATALOGUE)

    assert matrix.may_author("inforsa", "schaal", CASE)
    assert not matrix.may_author("arkin", "schaal", CASE)  # a behandelaar, not the aanbieder
    assert not matrix.may_author("inforsa", "schaal", EVERYONE)  # no case roles known
    assert matrix.may_ever_author("arkin", "schaal")  # a GGZ provider could be the aanbieder
    assert not matrix.may_ever_author("politie", "schaal")


# --- conditions -------------------------------------------------------------------------


def test_a_toestemming_grants_only_to_its_recipients_while_in_force(
    matrix: AccessMatrix,
) -> None:
    def police(*conditions: Any, at: datetime = NOW) -> bool:
        case = CaseContext.of(EVERYONE, ROLES, conditions)
        return matrix.decide("politie", "signal", case, at, author="inforsa").grants("categorie")

    given = datetime(2025, 5, 1, tzinfo=AMSTERDAM)
    withdrawn = datetime(2025, 7, 1, tzinfo=AMSTERDAM)
    consent = toestemming("politie", valid_from=given, valid_until=withdrawn)

    assert not police()
    assert police(consent)
    assert not police(consent, at=given - timedelta(seconds=1))
    assert not police(consent, at=withdrawn)
    assert not police(toestemming("ymere"))
    assert not police(toestemming("politie", authors=frozenset({"arkin"})))
    assert police(toestemming("politie", authors=frozenset({"inforsa"})))
    assert not police(toestemming("politie", event_types=frozenset({"plan"})))


def test_a_conflict_van_plichten_is_the_authors_own(matrix: AccessMatrix) -> None:
    recorded = ConflictVanPlichten(id="cvp-1", author="inforsa", recipients=frozenset({"politie"}))
    case = CaseContext.of(EVERYONE, ROLES, [recorded])

    by_inforsa = matrix.decide("politie", "signal", case, NOW, author="inforsa")
    by_arkin = matrix.decide("politie", "signal", case, NOW, author="arkin")

    assert by_inforsa.fields["toelichting"].conditions == (
        ConditionUse(ConditionKind.conflict_van_plichten, "cvp-1"),
    )
    assert not by_arkin.grants("toelichting")


def test_a_kader_condition_holds_while_the_kader_is_in_force(matrix: AccessMatrix) -> None:
    ends = datetime(2025, 6, 30, tzinfo=AMSTERDAM)
    kader = KaderInForce(id="zm-1", kader="zorgmachtiging", valid_until=ends)
    other = KaderInForce(id="x", kader="crisismaatregel")

    def grants(case: CaseContext, at: datetime = NOW) -> bool:
        return matrix.decide("reclassering", "signal", case, at, author=AUTHOR).grants("categorie")

    assert grants(CaseContext.of(EVERYONE, conditions=[kader]))
    assert not grants(CaseContext.of(EVERYONE, conditions=[kader]), at=ends)
    assert not grants(CaseContext.of(EVERYONE, conditions=[other]))
    assert not grants(CaseContext.of(EVERYONE))


def test_withdrawing_a_condition_takes_away_exactly_the_grants_that_rested_on_it(
    matrix: AccessMatrix,
) -> None:
    consent = toestemming("politie", id="t-1")
    conflict = ConflictVanPlichten(id="c-1", author="inforsa", recipients=frozenset({"politie"}))
    case = CaseContext.of(EVERYONE, ROLES, [consent, conflict])

    before = matrix.decide("politie", "signal", case, NOW, author="inforsa")
    after = matrix.decide("politie", "signal", case.without(consent), NOW, author="inforsa")

    assert set(before.fields) == {"categorie", "toelichting"}
    assert set(after.fields) == {"toelichting"}
    assert after.fields["toelichting"] == before.fields["toelichting"]


def test_the_same_decision_is_the_same_object(matrix: AccessMatrix) -> None:
    first = matrix.decide("politie", "signal", EVERYONE, NOW, author=AUTHOR)
    again = matrix.decide("politie", "signal", ["politie", "zvh"], NOW, author=AUTHOR)

    assert again is first


# --- recipients ---------------------------------------------------------------------------


def test_recipients_lists_every_content_field_with_who_reads_it(matrix: AccessMatrix) -> None:
    recipients = matrix.recipients("plan", ("zvh", "arkin", "ymere", "politie"), NOW, AUTHOR)

    assert recipients.receivers == {"arkin", "ymere", "politie", AUTHOR}
    assert set(recipients.fields) == CATALOGUE["plan"].content_fields
    assert recipients.of("doelen") == {"arkin", AUTHOR}
    assert recipients.of("acties") == {"arkin", "ymere", "politie", AUTHOR}
    assert recipients.own_only("acties") == {"ymere", "politie"}
    assert recipients.of("contact") == {"arkin", "ymere", AUTHOR}


def test_recipients_include_the_author_for_every_field(matrix: AccessMatrix) -> None:
    recipients = matrix.recipients("signal", ("politie",), NOW, author="gemeente")

    assert recipients.receivers == {"politie", "gemeente"}
    assert recipients.of("diagnose") == {"gemeente"}
    assert recipients.of("categorie") == {"politie", "gemeente"}


def test_a_field_nobody_may_read_is_listed_empty(matrix: AccessMatrix) -> None:
    recipients = matrix.recipients("signal", ("politie", "ymere"), NOW, author="zvh")

    assert recipients.of("diagnose") == {"zvh"}
    assert matrix.recipients("signal", ("politie",), NOW, "arkin").of("diagnose") == {"arkin"}
    assert matrix.recipients("monitor", ("politie",), NOW).of("bevindingen") == frozenset()


# --- joining ----------------------------------------------------------------------------


def test_a_partner_joining_late_receives_the_latest_plan_and_nothing_the_policy_keeps_back(
    matrix: AccessMatrix,
) -> None:
    past = [
        PastEvent(1, "plan", AUTHOR),
        PastEvent(2, "signal", AUTHOR),
        PastEvent(3, "plan", AUTHOR),
        PastEvent(4, "schaal", AUTHOR),
    ]

    ymere = matrix.startdossier("ymere", past, EVERYONE, NOW)
    arkin = matrix.startdossier("arkin", past, EVERYONE, NOW)

    assert set(ymere) == {3}  # the current plan only; signals and levels are not re-sent
    assert ymere[3].scope("acties") is Scope.own
    assert ymere[3].fields["contact"].rules == ("plan-contact",)
    assert set(arkin) == {1, 3}  # plan-zorg: on_join all
    assert matrix.startdossier("politie", past, ("zvh",), NOW)[3].receiving_rules == ("plan-eigen",)


def test_a_grant_says_whether_a_leaver_keeps_it(matrix: AccessMatrix) -> None:
    ymere = matrix.decide("ymere", "plan", EVERYONE, NOW, author=AUTHOR)

    assert ymere.fields["acties"].kept_on_leaving
    assert not ymere.fields["contact"].kept_on_leaving


# --- explain ------------------------------------------------------------------------------


def test_explain_names_the_granting_rule_and_its_grounds_on_both_sides(
    matrix: AccessMatrix,
) -> None:
    explanation = matrix.explain("politie", "signal", "categorie", NOW, author=AUTHOR)

    assert explanation.granted
    assert [g.rule for g in explanation.grants] == ["signal-politie"]
    assert explanation.text == (
        "signal.categorie → politie: granted by rule signal-politie on providing ground avg-6 "
        "(AVG art. 6 lid 1 sub e) and receiving ground wpg-8 (Wpg art. 8), under convenant, "
        "while politie is in the case network"
    )


def test_explain_names_the_condition_a_grant_rests_on(matrix: AccessMatrix) -> None:
    case = CaseContext.of(EVERYONE, ROLES, [toestemming("politie", id="toestemming-2025-04")])

    explanation = matrix.explain(
        "politie", "signal", "categorie", NOW, network=case, author="arkin"
    )

    assert explanation.text.endswith(
        "resting on toestemming toestemming-2025-04, while politie is in the case network"
    )


def test_explain_says_when_only_own_entries_are_granted(matrix: AccessMatrix) -> None:
    explanation = matrix.explain("ymere", "plan", "acties", NOW, author=AUTHOR)

    assert explanation.scope is Scope.own
    assert "granted for its own entries only by rule plan-eigen" in explanation.text


def test_a_denial_says_what_the_case_lacks_for_a_rule_that_would_grant(
    matrix: AccessMatrix,
) -> None:
    explanation = matrix.explain(
        "politie", "signal", "categorie", NOW, network=CASE, author="arkin"
    )

    assert not explanation.granted
    assert explanation.nearest is not None
    assert explanation.nearest.kind is NearestKind.needs
    assert explanation.nearest.needs == ("toestemming of the betrokkene for politie",)
    assert "nearest rule that would grant is signal-wijkagent-met-toestemming, given " in (
        explanation.text
    )


def test_without_a_case_a_denial_lists_everything_a_rule_would_need(
    matrix: AccessMatrix,
) -> None:
    explanation = matrix.explain("arkin", "signal", "diagnose", NOW)

    assert explanation.nearest is not None
    assert explanation.nearest.rule == "signal-zorg"
    assert explanation.nearest.needs == ("an author among roles gemeente",)


def test_a_denial_points_to_the_rule_granting_the_field_to_others(matrix: AccessMatrix) -> None:
    explanation = matrix.explain("politie", "signal", "diagnose", NOW, author=AUTHOR)

    assert not explanation.granted
    assert explanation.nearest is not None
    assert explanation.nearest.kind is NearestKind.other_recipients
    assert explanation.text == (
        "signal.diagnose → politie: denied: no rule in force grants it to politie (roles "
        "politie) for this author (gemeente) and case; nearest rule that would grant is "
        "signal-zorg (it grants roles ggz and organisations zvh)"
    )


def test_without_a_rule_for_the_field_a_denial_points_to_the_organisations_other_fields(
    matrix: AccessMatrix,
) -> None:
    text = POLICY.replace("fields: [acties, doelen, contact]", "fields: [acties, contact]")
    matrix = compile_policy(parse_policy(text, CATALOGUE), CATALOGUE)

    explanation = matrix.explain("ymere", "plan", "doelen", NOW, author=AUTHOR)

    assert explanation.nearest is not None
    assert explanation.nearest.kind is NearestKind.other_fields
    assert explanation.nearest.rule == "plan-eigen"
    assert "nearest rule that would grant is plan-eigen (it grants ymere fields acties)" in (
        explanation.text
    )


def test_a_denial_points_first_to_a_rule_for_it_that_is_not_in_force(
    matrix: AccessMatrix,
) -> None:
    later = datetime(2026, 3, 1, 12, tzinfo=AMSTERDAM)

    explanation = matrix.explain("reclassering", "monitor", "bevindingen", later, author=AUTHOR)

    assert explanation.nearest is not None
    assert explanation.nearest.kind is NearestKind.not_in_force
    assert "it is in force from 2025-01-01 until 2025-12-31, not on 2026-03-01" in explanation.text


def test_a_denial_with_no_rule_anywhere_says_so() -> None:
    without_pilot = POLICY.split("  - id: monitor-pilot")[0]
    matrix = compile_policy(parse_policy(without_pilot, CATALOGUE), CATALOGUE)

    explanation = matrix.explain("reclassering", "monitor", "bevindingen", NOW)

    assert explanation.nearest is None
    assert explanation.text.endswith("no rule would grant it")


def test_explaining_the_envelope_or_a_control_field_explains_receiving_the_event(
    matrix: AccessMatrix,
) -> None:
    header = matrix.explain("ymere", "schaal", None, NOW, author=AUTHOR)
    control = matrix.explain("ymere", "schaal", "niveau", NOW, author=AUTHOR)

    assert header.granted and control.granted
    assert control.field is None
    assert "schaal (header) → ymere: granted by rule schaal-iedereen" in control.text


def test_the_author_is_told_it_reads_its_own_event(matrix: AccessMatrix) -> None:
    explanation = matrix.explain("ymere", "signal", "diagnose", NOW, author="ymere")

    assert explanation.granted
    assert explanation.text == (
        "signal.diagnose → ymere: granted: it authored the event and reads it in full"
    )


def test_explain_refuses_a_field_the_event_type_does_not_have(matrix: AccessMatrix) -> None:
    with pytest.raises(PolicyError, match="has no field 'adres'"):
        matrix.explain("politie", "signal", "adres", NOW)


def test_the_matrix_carries_the_policy_version_and_digest(matrix: AccessMatrix) -> None:
    assert matrix.version == 1
    assert matrix.digest == policy_digest(matrix.policy)
    assert matrix.organisations == set(EVERYONE)
    assert matrix.rule("plan-eigen").on_leave is OnLeave.keep
    with pytest.raises(PolicyError, match="no rule 'plan-elders'"):
        matrix.rule("plan-elders")


# --- properties over random policies and cases ------------------------------------------

ORG_ROLES = (Role.zvh, Role.ggz, Role.politie, Role.woningcorporatie)
CASE_ROLES = ("regisseur", "behandelaar")
KADERS = ("zorgmachtiging", "voorwaarden")
FIELDS = ("a", "b", "c", "d")
DAY0 = date(2025, 1, 1)
START = datetime(2025, 1, 1, tzinfo=UTC)
# Strategies built once: creating strategies inside every draw dominates the run time.
BOOLEANS = st.booleans()
DAYS = st.none() | st.integers(0, 10)
HOURS = st.none() | st.integers(-48, 30 * 24)
T = TypeVar("T")


def subset(draw: st.DrawFn, items: Sequence[T]) -> list[T]:
    return [item for item in items if draw(BOOLEANS)]


@st.composite
def catalogues(draw: st.DrawFn) -> dict[str, EventTypeSpec]:
    catalogue = {}
    for index in range(draw(st.integers(1, 3))):
        content = subset(draw, FIELDS) or [FIELDS[index]]
        owned = subset(draw, content)
        control = frozenset({"niveau"}) if draw(BOOLEANS) else frozenset()
        catalogue[f"type_{index}"] = EventTypeSpec(frozenset(content), control, frozenset(owned))
    return catalogue


def draw_parties(draw: st.DrawFn, orgs: list[Organisation], *, required: bool) -> Parties | None:
    organisations = subset(draw, [o.id for o in orgs])
    held = sorted({role for org in orgs for role in org.roles})
    roles = subset(draw, held)
    case_roles = subset(draw, CASE_ROLES)
    if not (organisations or roles or case_roles):
        if not required and draw(BOOLEANS):
            return None
        roles = [held[0]]
    return Parties(
        case_roles=tuple(case_roles), roles=tuple(roles), organisations=tuple(organisations)
    )


def draw_rule(
    draw: st.DrawFn, index: int, catalogue: dict[str, EventTypeSpec], orgs: list[Organisation]
) -> Rule:
    event_types = subset(draw, sorted(catalogue)) or [sorted(catalogue)[0]]
    common = frozenset.intersection(*(catalogue[et].content_fields for et in event_types))
    fields = subset(draw, sorted(common))
    owned = all(f in catalogue[et].owned_fields for et in event_types for f in fields)
    start, length = draw(DAYS), draw(DAYS)
    valid_from = DAY0 + timedelta(days=start) if start is not None else None
    valid_until = (valid_from or DAY0) + timedelta(days=length) if length is not None else None
    drawn = draw(
        st.sampled_from(
            [None, ConditionKind.toestemming, ConditionKind.conflict_van_plichten, "kader"]
        )
    )
    condition: ConditionKind | KaderCondition | None = (
        KaderCondition(kader=tuple(subset(draw, KADERS) or KADERS[:1]))
        if drawn == "kader"
        else cast(ConditionKind | None, drawn)
    )
    return Rule(
        id=f"rule-{index}",
        description="generated",
        event_types=tuple(event_types),
        authors=draw_parties(draw, orgs, required=False),
        recipients=draw_parties(draw, orgs, required=True),
        fields=tuple(fields),
        own_only=bool(fields) and owned and draw(BOOLEANS),
        providing=("g1",),
        receiving=("g1",),
        purpose="generated",
        retention=Retention(years=1, counted_from=Anchor.case_end),
        condition=condition,
        valid_from=valid_from,
        valid_until=valid_until,
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Policy, dict[str, EventTypeSpec]]:
    catalogue = draw(catalogues())
    orgs = [
        Organisation(
            id=f"org-{i}", name=f"Org {i}", roles=tuple(subset(draw, ORG_ROLES) or ORG_ROLES[:1])
        )
        for i in range(draw(st.integers(1, 5)))
    ]
    orgs[0] = orgs[0].model_copy(update={"roles": (Role.zvh, *orgs[0].roles)})
    held = sorted({role for org in orgs for role in org.roles})
    policy = Policy(
        region=Region(id="random", name="Random"),
        version=1,
        custodian="org-0",
        organisations=tuple(orgs),
        grounds=(
            Ground(
                id="g1",
                kind=GroundKind.avg_6,
                basis="e",
                title="Ground",
                reference="AVG art. 6 lid 1 sub e",
            ),
        ),
        case_roles=tuple(
            CaseRole(id=role, description=role, held_by=tuple(subset(draw, held) or held[:1]))
            for role in CASE_ROLES
        ),
        kaders=tuple(Kader(id=k, title=k, reference=k) for k in KADERS),
        rules=tuple(draw_rule(draw, i, catalogue, orgs) for i in range(draw(st.integers(0, 6)))),
    )
    return policy, catalogue


def draw_when(draw: st.DrawFn) -> datetime | None:
    hours = draw(HOURS)
    return None if hours is None else START + timedelta(hours=hours)


@st.composite
def cases(draw: st.DrawFn, ids: list[str], event_types: list[str]) -> CaseContext:
    members = subset(draw, [*ids, "stranger"])
    roles = {role: subset(draw, ids) for role in CASE_ROLES}
    conditions: list[Any] = []
    for index in range(draw(st.integers(0, 4))):
        record_id, since, until = f"c-{index}", draw_when(draw), draw_when(draw)
        kind = draw(st.sampled_from(["toestemming", "conflict", "kader"]))
        types = frozenset(subset(draw, event_types)) if draw(BOOLEANS) else None
        if kind == "toestemming":
            authors = frozenset(subset(draw, ids)) if draw(BOOLEANS) else None
            conditions.append(
                Toestemming(
                    recipients=frozenset(subset(draw, ids)),
                    authors=authors,
                    event_types=types,
                    id=record_id,
                    valid_from=since,
                    valid_until=until,
                )
            )
        elif kind == "conflict":
            conditions.append(
                ConflictVanPlichten(
                    author=draw(st.sampled_from(ids)),
                    recipients=frozenset(subset(draw, ids)),
                    event_types=types,
                    id=record_id,
                    valid_from=since,
                    valid_until=until,
                )
            )
        else:
            kader = draw(st.sampled_from(KADERS))
            conditions.append(
                KaderInForce(kader=kader, id=record_id, valid_from=since, valid_until=until)
            )
    return CaseContext.of(members, roles, conditions)


Situation = tuple[Policy, AccessMatrix, CaseContext, datetime, str | None]


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    policy, catalogue = draw(worlds())
    ids = [o.id for o in policy.organisations]
    case = draw(cases(ids, sorted(catalogue)))
    minutes = draw(st.integers(-2 * 24 * 60, 24 * 24 * 60))
    now = START + timedelta(minutes=minutes)
    author = ids[draw(st.integers(0, len(ids) - 1))] if draw(BOOLEANS) else None
    return policy, compile_policy(policy, catalogue), case, now, author


def holds(policy: Policy, org_id: str | None, roles: Sequence[str], case: CaseContext) -> bool:
    """Whether the organisation is a member holding one of the case roles it may hold."""
    org = next((o for o in policy.organisations if o.id == org_id), None)
    if org is None or org.id not in case.members:
        return False
    for role_id in roles:
        role = next(r for r in policy.case_roles if r.id == role_id)
        if org.id in case.roles.get(role_id, ()) and set(org.roles) & set(role.held_by):
            return True
    return False


def named(policy: Policy, org_id: str | None, parties: Parties, case: CaseContext) -> bool:
    org = next((o for o in policy.organisations if o.id == org_id), None)
    if org is None:
        return False
    by_name = org.id in parties.organisations or bool(set(org.roles) & set(parties.roles))
    return by_name or holds(policy, org_id, parties.case_roles, case)


def in_force(condition: Any, now: datetime) -> bool:
    return (condition.valid_from is None or condition.valid_from <= now) and (
        condition.valid_until is None or now < condition.valid_until
    )


def supporting(
    rule: Rule, org_id: str, event_type: str, case: CaseContext, now: datetime, author: str | None
) -> list[str | None]:
    """The condition records that let the rule grant (None: it needs none); empty: it can't."""
    if rule.condition is None:
        return [None]
    records: list[str | None] = []
    for c in case.conditions:
        if not in_force(c, now):
            continue
        if rule.condition is ConditionKind.toestemming and isinstance(c, Toestemming):
            ok = org_id in c.recipients and (c.authors is None or author in c.authors)
        elif rule.condition is ConditionKind.conflict_van_plichten and isinstance(
            c, ConflictVanPlichten
        ):
            ok = c.author == author and org_id in c.recipients
        elif isinstance(rule.condition, KaderCondition) and isinstance(c, KaderInForce):
            ok = c.kader in rule.condition.kader
        else:
            ok = False
        if ok and not isinstance(c, KaderInForce):
            ok = c.event_types is None or event_type in c.event_types
        if ok:
            records.append(c.id)
    return records


def expected(
    policy: Policy,
    org_id: str,
    event_type: str,
    field: str | None,
    case: CaseContext,
    now: datetime,
    author: str | None,
) -> tuple[Scope | None, set[tuple[str, str | None]]]:
    """The semantics read directly: the scope (None = not received; for field None, the
    envelope) and the (rule, condition record) pairs that grant it."""
    if author == org_id:
        return Scope.all, set()
    if org_id not in case.members:
        return None, set()
    day = now.astimezone(AMSTERDAM).date()
    granting = {}
    for rule in policy.rules:
        if not rule.in_force(day) or event_type not in rule.event_types:
            continue
        if field is not None and field not in rule.fields:
            continue
        if rule.authors is not None and not named(policy, author, rule.authors, case):
            continue
        if not named(policy, org_id, rule.recipients, case):
            continue
        records = supporting(rule, org_id, event_type, case, now, author)
        if records:
            granting[rule] = records[0]
    if not granting:
        return None, set()
    scope = Scope.own if all(rule.own_only for rule in granting) else Scope.all
    return scope, {(rule.id, record) for rule, record in granting.items()}


def granted(access: Any) -> set[tuple[str, str | None]]:
    return {(g.rule, g.condition.record if g.condition else None) for g in access.grants}


@settings(max_examples=200, deadline=None)
@given(situations())
def test_decide_grants_exactly_what_a_rule_grants_for_this_author_case_and_moment(
    situation: Situation,
) -> None:
    policy, matrix, case, now, author = situation
    for org_id in matrix.organisations:
        for event_type in matrix.event_types:
            decision = matrix.decide(org_id, event_type, case, now, author)
            header, _ = expected(policy, org_id, event_type, None, case, now, author)
            assert decision.receives == (header is not None)
            for field in matrix.content_fields(event_type):
                scope, rules = expected(policy, org_id, event_type, field, case, now, author)
                assert decision.scope(field) == scope, (org_id, event_type, field)
                if scope is not None and author != org_id:
                    assert granted(decision.fields[field]) == rules


@settings(max_examples=150, deadline=None)
@given(situations(), st.data())
def test_withdrawing_a_condition_removes_exactly_the_grants_that_rested_on_it(
    situation: Situation, data: st.DataObject
) -> None:
    _, matrix, case, now, author = situation
    if not case.conditions:
        return
    withdrawn = data.draw(st.sampled_from(case.conditions))
    after = case.without(withdrawn)
    for org_id in matrix.organisations - {author}:
        for event_type in matrix.event_types:
            before_decision = matrix.decide(org_id, event_type, case, now, author)
            after_decision = matrix.decide(org_id, event_type, after, now, author)
            for field in matrix.content_fields(event_type):
                had = before_decision.fields.get(field)
                has = after_decision.fields.get(field)
                old = granted(had) if had else set()
                new = granted(has) if has else set()
                # Nothing new, and every grant that did not rest on it is still there.
                assert {rule for rule, _ in new} <= {rule for rule, _ in old}
                assert {g for g in old if g[1] != withdrawn.id} <= new
                assert all(record != withdrawn.id for _, record in new)


@settings(max_examples=150, deadline=None)
@given(situations())
def test_recipients_agree_with_decide(
    situation: Situation,
) -> None:
    _, matrix, case, now, author = situation
    for event_type in matrix.event_types:
        recipients = matrix.recipients(event_type, case, now, author)
        decisions = {
            o: matrix.decide(o, event_type, case, now, author) for o in matrix.organisations
        }
        assert recipients.receivers == {o for o, d in decisions.items() if d.receives}
        assert set(recipients.fields) == matrix.content_fields(event_type)
        for field, readers in recipients.fields.items():
            assert dict(readers) == {
                o: d.scope(field) for o, d in decisions.items() if d.grants(field)
            }


@settings(max_examples=150, deadline=None)
@given(situations())
def test_an_organisation_outside_the_network_never_receives_anything_but_its_own_events(
    situation: Situation,
) -> None:
    _, matrix, case, now, author = situation
    for org_id in matrix.organisations - case.members - {author}:
        for event_type in matrix.event_types:
            decision = matrix.decide(org_id, event_type, case, now, author)
            assert not decision.receives
            assert decision.fields == {}


@settings(max_examples=150, deadline=None)
@given(situations())
def test_rules_outside_their_validity_never_grant(
    situation: Situation,
) -> None:
    policy, matrix, case, now, author = situation
    day = now.astimezone(AMSTERDAM).date()
    in_force_today = {rule.id for rule in policy.rules if rule.in_force(day)}
    for org_id in matrix.organisations:
        for event_type in matrix.event_types:
            decision = matrix.decide(org_id, event_type, case, now, author)
            assert set(decision.receiving_rules) <= in_force_today
            for access in decision.fields.values():
                assert set(access.rules) <= in_force_today


@settings(max_examples=100, deadline=None)
@given(situations(), st.randoms())
def test_the_digest_does_not_depend_on_the_order_of_rules_or_organisations(
    situation: Situation,
    random: Random,
) -> None:
    policy = situation[0]
    shuffled_rules = list(policy.rules)
    shuffled_orgs = list(policy.organisations)
    random.shuffle(shuffled_rules)
    random.shuffle(shuffled_orgs)
    shuffled = policy.model_copy(
        update={"rules": tuple(shuffled_rules), "organisations": tuple(shuffled_orgs)}
    )

    assert policy_digest(shuffled) == policy_digest(policy)


# ---- authorship -----------------------------------------------------------------------

AUTHORSHIP = """\
authorship:
  - description: Iedereen signaleert.
    event_types: [signal]
    authors: {roles: [zvh, gemeente, politie, ggz, woningcorporatie, reclassering]}
  - description: Zorg en de ZVH schalen.
    event_types: [schaal, plan]
    authors: {roles: [ggz, gemeente], organisations: [zvh]}
"""


def test_nobody_may_author_what_the_policy_does_not_name(matrix: AccessMatrix) -> None:
    assert not any(matrix.may_author(org, et) for org in EVERYONE for et in CATALOGUE)


def test_authorship_follows_roles_and_named_organisations() -> None:
    matrix = compile_policy(parse_policy(POLICY + AUTHORSHIP, CATALOGUE), CATALOGUE)
    assert {o for o in EVERYONE if matrix.may_author(o, "schaal")} == {
        "zvh",
        "gemeente",
        "arkin",
        "inforsa",
    }
    assert {o for o in EVERYONE if matrix.may_author(o, "signal")} == set(EVERYONE)
    assert not matrix.may_author("politie", "plan")
    assert not any(matrix.may_author(o, "monitor") for o in EVERYONE)


def test_authorship_of_an_unknown_event_type_or_organisation_is_refused() -> None:
    with pytest.raises(
        PolicyError, match=r":\d+: unknown event type 'nope' \(at authorship.1.event_types.1\)"
    ):
        parse_policy(POLICY + AUTHORSHIP.replace("[schaal, plan]", "[schaal, nope]"), CATALOGUE)
    with pytest.raises(PolicyError, match="unknown organisation 'ggd'"):
        parse_policy(
            POLICY + AUTHORSHIP.replace("organisations: [zvh]", "organisations: [ggd]"), CATALOGUE
        )
    with pytest.raises(PolicyError, match="unknown case role 'aanbieder'"):
        parse_policy(
            POLICY + AUTHORSHIP.replace("organisations: [zvh]", "case_roles: [aanbieder]"),
            CATALOGUE,
        )
    matrix = compile_policy(parse_policy(POLICY + AUTHORSHIP, CATALOGUE), CATALOGUE)
    with pytest.raises(UnknownOrganisation):
        matrix.may_author("ggd", "signal")
    with pytest.raises(PolicyError):
        matrix.may_author("zvh", "nope")
