"""The access matrix: default deny, network membership, authorship, validity, explanations.

The property tests at the end generate small random catalogues and policies and check the
engine against a direct reading of the semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharing.errors import PolicyError, UnknownOrganisation
from sharing.policy import (
    AccessMatrix,
    Basis,
    EventTypeSpec,
    Ground,
    NearestKind,
    Organisation,
    Policy,
    Region,
    Retention,
    Role,
    Rule,
    RuleRecipients,
    Scope,
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
  - {id: politie, name: Politie, roles: [politie]}
  - {id: arkin, name: Arkin, roles: [ggz]}
  - {id: inforsa, name: Inforsa, roles: [ggz, forensische-zorg]}
  - {id: ymere, name: Ymere, roles: [woningcorporatie]}
  - {id: reclassering, name: Reclassering, roles: [reclassering]}
grounds:
  - {id: avg-6, title: Publieke taak, reference: AVG art. 6 lid 1 sub e}
  - {id: avg-9, title: Gezondheid, reference: AVG art. 9 lid 2 sub h, special_category: true}
  - {id: convenant, title: Convenant, reference: Convenant ZVH}
special_category_fields:
  signal: [diagnose]
rules:
  - id: signal-politie
    description: Politie ziet de categorie.
    event_types: [signal]
    recipients: {roles: [politie]}
    fields: [categorie]
    grounds: [avg-6, convenant]
    purpose: Optreden bij dreiging.
    retention: {years: 1, after: signal}
  - id: signal-zorg
    description: Zorg ziet alles.
    event_types: [signal]
    recipients: {roles: [ggz], organisations: [zvh]}
    fields: [categorie, diagnose, toelichting]
    grounds: [avg-9]
    purpose: Behandelen.
    retention: {years: 5, after: monitor}
  - id: plan-eigen
    description: Corporatie en politie zien eigen acties.
    event_types: [plan]
    recipients: {roles: [woningcorporatie, politie]}
    fields: [acties]
    own_only: true
    grounds: [avg-6]
    purpose: Uitvoeren.
    retention: {months: 6, after: monitor}
  - id: plan-contact
    description: Corporatie ziet het contact.
    event_types: [plan]
    recipients: {roles: [woningcorporatie]}
    fields: [contact]
    grounds: [avg-6]
    purpose: Contact.
    retention: {years: 1, after: monitor}
  - id: plan-zorg
    description: Zorg ziet het plan.
    event_types: [plan]
    recipients: {roles: [ggz]}
    fields: [acties, doelen, contact]
    grounds: [avg-6]
    purpose: Uitvoeren.
    retention: {years: 5, after: monitor}
  - id: schaal-iedereen
    description: Iedereen ziet het niveau.
    event_types: [schaal]
    recipients: {roles: [zvh, politie, ggz, woningcorporatie, reclassering]}
    fields: []
    grounds: [avg-6]
    purpose: Afstemmen.
    retention: {years: 5, after: monitor}
  - id: schaal-reden
    description: Reden voor de behandelaar.
    event_types: [schaal]
    recipients: {roles: [forensische-zorg]}
    fields: [reden]
    grounds: [avg-6]
    purpose: Behandelen.
    retention: {years: 5, after: monitor}
  - id: monitor-pilot
    description: Pilot.
    event_types: [monitor]
    recipients: {organisations: [reclassering]}
    fields: [bevindingen]
    grounds: [avg-6]
    purpose: Pilot.
    retention: {years: 2, after: monitor}
    valid_from: 2025-01-01
    valid_until: 2025-12-31
"""

EVERYONE = ("zvh", "politie", "arkin", "inforsa", "ymere", "reclassering")


@pytest.fixture(scope="module")
def matrix() -> AccessMatrix:
    return compile_policy(parse_policy(POLICY, CATALOGUE), CATALOGUE)


# --- decide -------------------------------------------------------------------------------


def test_police_never_receive_diagnosis_fields(matrix: AccessMatrix) -> None:
    decision = matrix.decide("politie", "signal", EVERYONE, NOW)

    assert decision.receives
    assert set(decision.fields) == {"categorie"}
    assert not decision.grants("diagnose")
    assert not decision.grants("toelichting")


def test_a_grant_names_its_rules_grounds_purpose_retention_and_scope(matrix: AccessMatrix) -> None:
    access = matrix.decide("politie", "signal", EVERYONE, NOW).fields["categorie"]

    assert access.rules == ("signal-politie",)
    assert access.grounds == ("avg-6", "convenant")
    assert access.scope is Scope.all
    [grant] = access.grants
    assert grant.purpose == "Optreden bij dreiging."
    assert grant.retention == Retention(years=1, after="signal")


def test_grants_of_several_rules_add_up(matrix: AccessMatrix) -> None:
    decision = matrix.decide("inforsa", "schaal", EVERYONE, NOW)

    assert decision.receiving_rules == ("schaal-iedereen", "schaal-reden")
    assert decision.fields["reden"].rules == ("schaal-reden",)


def test_rules_name_organisations_as_well_as_roles(matrix: AccessMatrix) -> None:
    assert matrix.decide("zvh", "signal", EVERYONE, NOW).grants("diagnose")


def test_default_deny_a_network_member_without_a_rule_receives_nothing(
    matrix: AccessMatrix,
) -> None:
    decision = matrix.decide("ymere", "signal", EVERYONE, NOW)

    assert not decision.receives
    assert decision.basis is Basis.no_rule
    assert decision.fields == {}


def test_an_organisation_outside_the_network_receives_nothing(matrix: AccessMatrix) -> None:
    decision = matrix.decide("arkin", "signal", ("zvh", "politie"), NOW)

    assert not decision.receives
    assert decision.basis is Basis.not_in_network
    assert decision.fields == {}


def test_an_envelope_only_rule_grants_the_event_but_no_content(matrix: AccessMatrix) -> None:
    decision = matrix.decide("ymere", "schaal", EVERYONE, NOW)

    assert decision.receives
    assert decision.basis is Basis.policy
    assert decision.receiving_rules == ("schaal-iedereen",)
    assert decision.fields == {}


def test_own_only_limits_an_owned_field_to_the_recipients_own_entries(
    matrix: AccessMatrix,
) -> None:
    decision = matrix.decide("ymere", "plan", EVERYONE, NOW)

    assert decision.scope("acties") is Scope.own
    assert decision.scope("contact") is Scope.all
    assert decision.scope("doelen") is None


def test_a_full_grant_outweighs_an_own_only_grant() -> None:
    text = POLICY.replace("roles: [woningcorporatie, politie]}", "roles: [woningcorporatie, ggz]}")
    matrix = compile_policy(parse_policy(text, CATALOGUE), CATALOGUE)

    access = matrix.decide("arkin", "plan", EVERYONE, NOW).fields["acties"]

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


def test_an_author_in_the_network_keeps_its_rule_grants_on_record(matrix: AccessMatrix) -> None:
    decision = matrix.decide("ymere", "plan", EVERYONE, NOW, author="ymere")

    assert decision.fields["acties"].rules == ("plan-eigen",)
    assert decision.fields["acties"].scope is Scope.all


def test_someone_elses_authorship_grants_nothing(matrix: AccessMatrix) -> None:
    decision = matrix.decide("politie", "signal", EVERYONE, NOW, author="arkin")

    assert not decision.grants("diagnose")


def test_rules_grant_only_within_their_validity(matrix: AccessMatrix) -> None:
    def grants(moment: datetime) -> bool:
        return matrix.decide("reclassering", "monitor", EVERYONE, moment).grants("bevindingen")

    assert not grants(datetime(2024, 12, 31, 23, 59, tzinfo=AMSTERDAM))
    assert grants(datetime(2025, 1, 1, 0, 0, tzinfo=AMSTERDAM))
    assert grants(datetime(2025, 12, 31, 23, 59, tzinfo=AMSTERDAM))
    assert not grants(datetime(2026, 1, 1, 0, 0, tzinfo=AMSTERDAM))


def test_validity_dates_are_read_in_the_policy_timezone(matrix: AccessMatrix) -> None:
    # 23:30 UTC on 31 December is already 1 January in Amsterdam.
    late = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    early = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)

    assert not matrix.decide("reclassering", "monitor", EVERYONE, late).grants("bevindingen")
    assert matrix.decide("reclassering", "monitor", EVERYONE, early).grants("bevindingen")


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
    recipients = matrix.recipients("schaal", (*EVERYONE, "onbekend"), NOW)

    assert "onbekend" not in recipients.receivers


def test_view_shows_what_an_organisation_receives_of_every_event_type(
    matrix: AccessMatrix,
) -> None:
    view = matrix.view("ymere", NOW)

    assert set(view) == set(CATALOGUE)
    assert {et for et, d in view.items() if d.receives} == {"plan", "schaal"}


# --- recipients ---------------------------------------------------------------------------


def test_recipients_lists_every_content_field_with_who_reads_it(matrix: AccessMatrix) -> None:
    recipients = matrix.recipients("plan", ("zvh", "arkin", "ymere", "politie"), NOW)

    assert recipients.receivers == {"arkin", "ymere", "politie"}
    assert set(recipients.fields) == CATALOGUE["plan"].content_fields
    assert recipients.of("doelen") == {"arkin"}
    assert recipients.of("acties") == {"arkin", "ymere", "politie"}
    assert recipients.own_only("acties") == {"ymere", "politie"}
    assert recipients.of("contact") == {"arkin", "ymere"}


def test_recipients_include_the_author_for_every_field(matrix: AccessMatrix) -> None:
    recipients = matrix.recipients("signal", ("politie",), NOW, author="ymere")

    assert recipients.receivers == {"politie", "ymere"}
    assert recipients.of("diagnose") == {"ymere"}
    assert recipients.of("categorie") == {"politie", "ymere"}


def test_a_field_nobody_may_read_is_listed_empty(matrix: AccessMatrix) -> None:
    assert matrix.recipients("signal", ("politie", "ymere"), NOW).of("diagnose") == frozenset()


# --- explain ------------------------------------------------------------------------------


def test_explain_names_the_granting_rule_and_its_grounds(matrix: AccessMatrix) -> None:
    explanation = matrix.explain("politie", "signal", "categorie", NOW)

    assert explanation.granted
    assert [g.rule for g in explanation.grants] == ["signal-politie"]
    assert "granted by rule signal-politie on grounds avg-6 (AVG art. 6 lid 1 sub e), " in str(
        explanation
    )
    assert "convenant (Convenant ZVH)" in explanation.text


def test_explain_says_when_only_own_entries_are_granted(matrix: AccessMatrix) -> None:
    explanation = matrix.explain("ymere", "plan", "acties", NOW)

    assert explanation.scope is Scope.own
    assert "granted for its own entries only by rule plan-eigen" in explanation.text


def test_a_denial_points_to_the_rule_granting_the_field_to_others(matrix: AccessMatrix) -> None:
    explanation = matrix.explain("politie", "signal", "diagnose", NOW)

    assert not explanation.granted
    assert explanation.nearest is not None
    assert explanation.nearest.kind is NearestKind.other_recipients
    assert explanation.text == (
        "signal.diagnose → politie: denied: no rule in force grants it to politie (roles "
        "politie); nearest rule that would grant is signal-zorg (it grants roles ggz and "
        "organisations zvh)"
    )


def test_without_a_rule_for_the_field_a_denial_points_to_the_organisations_other_fields(
    matrix: AccessMatrix,
) -> None:
    text = POLICY.replace("fields: [acties, doelen, contact]", "fields: [acties, contact]")
    matrix = compile_policy(parse_policy(text, CATALOGUE), CATALOGUE)

    explanation = matrix.explain("ymere", "plan", "doelen", NOW)

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

    explanation = matrix.explain("reclassering", "monitor", "bevindingen", later)

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
    header = matrix.explain("ymere", "schaal", None, NOW)
    control = matrix.explain("ymere", "schaal", "niveau", NOW)

    assert header.granted and control.granted
    assert control.field is None
    assert "schaal (header) → ymere: granted by rule schaal-iedereen" in control.text


def test_explain_refuses_a_field_the_event_type_does_not_have(matrix: AccessMatrix) -> None:
    with pytest.raises(PolicyError, match="has no field 'adres'"):
        matrix.explain("politie", "signal", "adres", NOW)


def test_the_matrix_carries_the_policy_version_and_digest(matrix: AccessMatrix) -> None:
    assert matrix.version == 1
    assert matrix.digest == policy_digest(matrix.policy)
    assert matrix.organisations == set(EVERYONE)


# --- properties over random policies ------------------------------------------------------

ROLES = (Role.zvh, Role.ggz, Role.politie, Role.woningcorporatie)
FIELDS = ("a", "b", "c", "d")
DAY0 = date(2025, 1, 1)
# Strategies built once: creating strategies inside every draw dominates the run time.
BOOLEANS = st.booleans()
DAYS = st.none() | st.integers(0, 10)
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


def draw_rule(
    draw: st.DrawFn, index: int, catalogue: dict[str, EventTypeSpec], orgs: list[Organisation]
) -> Rule:
    event_types = subset(draw, sorted(catalogue)) or [sorted(catalogue)[0]]
    common = frozenset.intersection(*(catalogue[et].content_fields for et in event_types))
    fields = subset(draw, sorted(common))
    owned = all(f in catalogue[et].owned_fields for et in event_types for f in fields)
    recipient_orgs = subset(draw, [o.id for o in orgs])
    held = sorted({role for org in orgs for role in org.roles})
    recipient_roles = subset(draw, held) or ([] if recipient_orgs else [held[0]])
    start, length = draw(DAYS), draw(DAYS)
    valid_from = DAY0 + timedelta(days=start) if start is not None else None
    valid_until = (valid_from or DAY0) + timedelta(days=length) if length is not None else None
    return Rule(
        id=f"rule-{index}",
        description="generated",
        event_types=tuple(event_types),
        recipients=RuleRecipients(
            roles=tuple(recipient_roles), organisations=tuple(recipient_orgs)
        ),
        fields=tuple(fields),
        own_only=bool(fields) and owned and draw(BOOLEANS),
        grounds=("g1",),
        purpose="generated",
        retention=Retention(years=1, after=event_types[0]),
        valid_from=valid_from,
        valid_until=valid_until,
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Policy, dict[str, EventTypeSpec]]:
    catalogue = draw(catalogues())
    orgs = [
        Organisation(id=f"org-{i}", name=f"Org {i}", roles=tuple(subset(draw, ROLES) or ROLES[:1]))
        for i in range(draw(st.integers(1, 5)))
    ]
    orgs[0] = orgs[0].model_copy(update={"roles": (Role.zvh, *orgs[0].roles)})
    policy = Policy(
        region=Region(id="random", name="Random"),
        version=1,
        custodian="org-0",
        organisations=tuple(orgs),
        grounds=(Ground(id="g1", title="Ground", reference="AVG art. 6 lid 1 sub e"),),
        rules=tuple(draw_rule(draw, i, catalogue, orgs) for i in range(draw(st.integers(0, 6)))),
    )
    return policy, catalogue


Situation = tuple[Policy, AccessMatrix, list[str], datetime, str | None]


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    policy, catalogue = draw(worlds())
    ids = [o.id for o in policy.organisations]
    network = subset(draw, [*ids, "stranger"])
    minutes = draw(st.integers(-2 * 24 * 60, 24 * 24 * 60))
    now = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    author = ids[draw(st.integers(0, len(ids) - 1))] if draw(BOOLEANS) else None
    return policy, compile_policy(policy, catalogue), network, now, author


def expected_scope(
    policy: Policy,
    org_id: str,
    event_type: str,
    field: str | None,
    network: list[str],
    now: datetime,
    author: str | None,
) -> Scope | None:
    """The semantics read directly: None = not received; for field None, the envelope."""
    if author == org_id:
        return Scope.all
    if org_id not in network:
        return None
    day = now.astimezone(AMSTERDAM).date()
    org = next(o for o in policy.organisations if o.id == org_id)
    granting = [
        rule
        for rule in policy.rules
        if (rule.valid_from is None or rule.valid_from <= day)
        and (rule.valid_until is None or day <= rule.valid_until)
        and event_type in rule.event_types
        and (field is None or field in rule.fields)
        and (org.id in rule.recipients.organisations or set(org.roles) & set(rule.recipients.roles))
    ]
    if not granting:
        return None
    return Scope.own if all(rule.own_only for rule in granting) else Scope.all


@settings(max_examples=150, deadline=None)
@given(situations())
def test_decide_grants_exactly_what_a_valid_rule_names_for_a_network_member_or_the_author(
    situation: Situation,
) -> None:
    policy, matrix, network, now, author = situation
    for org_id in matrix.organisations:
        for event_type in matrix.event_types:
            decision = matrix.decide(org_id, event_type, network, now, author)
            header = expected_scope(policy, org_id, event_type, None, network, now, author)
            assert decision.receives == (header is not None)
            for field in matrix.content_fields(event_type):
                expected = expected_scope(policy, org_id, event_type, field, network, now, author)
                assert decision.scope(field) == expected, (org_id, event_type, field)


@settings(max_examples=150, deadline=None)
@given(situations())
def test_recipients_agree_with_decide(
    situation: Situation,
) -> None:
    _, matrix, network, now, author = situation
    for event_type in matrix.event_types:
        recipients = matrix.recipients(event_type, network, now, author)
        decisions = {
            o: matrix.decide(o, event_type, network, now, author) for o in matrix.organisations
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
    _, matrix, network, now, author = situation
    for org_id in matrix.organisations - set(network) - {author}:
        for event_type in matrix.event_types:
            decision = matrix.decide(org_id, event_type, network, now, author)
            assert not decision.receives
            assert decision.fields == {}


@settings(max_examples=150, deadline=None)
@given(situations())
def test_rules_outside_their_validity_never_grant(
    situation: Situation,
) -> None:
    policy, matrix, network, now, author = situation
    day = now.astimezone(AMSTERDAM).date()
    in_force = {rule.id for rule in policy.rules if rule.in_force(day)}
    for org_id in matrix.organisations:
        for event_type in matrix.event_types:
            decision = matrix.decide(org_id, event_type, network, now, author)
            assert set(decision.receiving_rules) <= in_force
            for access in decision.fields.values():
                assert set(access.rules) <= in_force


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
    authors: {roles: [zvh, politie, ggz, woningcorporatie, reclassering]}
  - description: Zorg en de ZVH schalen.
    event_types: [schaal, plan]
    authors: {roles: [ggz], organisations: [zvh]}
"""


def test_nobody_may_author_what_the_policy_does_not_name(matrix: AccessMatrix) -> None:
    assert not any(matrix.may_author(org, et) for org in EVERYONE for et in CATALOGUE)


def test_authorship_follows_roles_and_named_organisations() -> None:
    matrix = compile_policy(parse_policy(POLICY + AUTHORSHIP, CATALOGUE), CATALOGUE)
    assert {o for o in EVERYONE if matrix.may_author(o, "schaal")} == {"zvh", "arkin", "inforsa"}
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
    matrix = compile_policy(parse_policy(POLICY + AUTHORSHIP, CATALOGUE), CATALOGUE)
    with pytest.raises(UnknownOrganisation):
        matrix.may_author("ggd", "signal")
    with pytest.raises(PolicyError):
        matrix.may_author("zvh", "nope")
