"""Every region policy under policies/ is sound, passes its own cases, and has every rule tested.

A policy `policies/<name>.yaml` must have `policies/<name>.tests.yaml` beside it; the cases
are run against the policy compiled with the real event catalogue, and any rule that no
allowed case shows granting fails the build. The last tests pin the behaviours the
Amsterdam-Amstelland policy was written for.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from casestore.domain.catalogue import describe
from sharing.errors import PolicyError
from sharing.policy import (
    AccessMatrix,
    Role,
    Scope,
    catalogue_from_description,
    compile_policy,
    load_policy,
    run_case_file,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TESTS_SUFFIX = ".tests.yaml"
CATALOGUE = catalogue_from_description(describe())
POLICY_FILES = sorted(p for p in POLICIES.glob("*.yaml") if not p.name.endswith(TESTS_SUFFIX))
NOW = datetime(2025, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


def cases_file(policy_file: Path) -> Path:
    return policy_file.with_name(policy_file.stem + TESTS_SUFFIX)


def compiled(policy_file: Path) -> AccessMatrix:
    return compile_policy(load_policy(policy_file, CATALOGUE), CATALOGUE)


def test_the_region_policies_are_found() -> None:
    assert "amsterdam-amstelland.yaml" in {p.name for p in POLICY_FILES}


@pytest.mark.parametrize("policy_file", POLICY_FILES, ids=lambda p: p.stem)
def test_every_policy_has_its_cases_beside_it(policy_file: Path) -> None:
    assert cases_file(policy_file).is_file(), (
        f"{policy_file.name} needs {cases_file(policy_file).name}"
    )


def test_every_cases_file_belongs_to_a_policy() -> None:
    orphans = [
        p.name
        for p in POLICIES.glob(f"*{TESTS_SUFFIX}")
        if not p.with_name(p.name.removesuffix(TESTS_SUFFIX) + ".yaml").is_file()
    ]
    assert orphans == []


@pytest.mark.parametrize("policy_file", POLICY_FILES, ids=lambda p: p.stem)
def test_every_policy_passes_its_cases(policy_file: Path) -> None:
    report = run_case_file(cases_file(policy_file), compiled(policy_file))

    assert report.cases > 0
    assert not report.failures, "\n".join(str(f) for f in report.failures)


@pytest.mark.parametrize("policy_file", POLICY_FILES, ids=lambda p: p.stem)
def test_every_rule_is_shown_granting_by_an_allowed_case(policy_file: Path) -> None:
    report = run_case_file(cases_file(policy_file), compiled(policy_file))

    assert report.unexercised_rules == (), (
        f"rules of {policy_file.name} that no allowed case exercises: "
        + ", ".join(report.unexercised_rules)
    )


# --- the case runner itself ---------------------------------------------------------------

AMSTERDAM = POLICIES / "amsterdam-amstelland.yaml"


@pytest.fixture(scope="module")
def amsterdam() -> AccessMatrix:
    return compiled(AMSTERDAM)


def write_cases(tmp_path: Path, cases: str) -> Path:
    path = tmp_path / "regio.tests.yaml"
    path.write_text(
        "now: 2025-06-01T10:00:00+02:00\n"
        "networks:\n  kern: [zvh-amsterdam-amstelland, politie-amsterdam, ymere]\n"
        f"cases:\n{cases}",
        encoding="utf-8",
    )
    return path


def test_a_case_with_the_wrong_expectation_fails_with_its_line(
    tmp_path: Path, amsterdam: AccessMatrix
) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: politie-amsterdam, event_type: signalering, field: ernst, network: kern,"
        " expect: allow}\n"
        "  - {org: politie-amsterdam, event_type: signalering, field: diagnose, network: kern,"
        " expect: allow}\n",
    )

    report = run_case_file(path, amsterdam)

    assert [str(f) for f in report.failures] == [
        "line 6: politie-amsterdam / signalering.diagnose: expected allow, got deny"
    ]


def test_a_wrong_scope_fails(tmp_path: Path, amsterdam: AccessMatrix) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: ymere, event_type: planwijziging, field: acties, network: kern,"
        " expect: allow, scope: all}\n",
    )

    [failure] = run_case_file(path, amsterdam).failures

    assert failure.actual == "allow (own)"


def test_rules_no_allowed_case_exercises_are_reported(
    tmp_path: Path, amsterdam: AccessMatrix
) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: politie-amsterdam, event_type: signalering, field: ernst, network: kern,"
        " expect: allow}\n"
        "  - {org: ymere, event_type: opschaling, network: kern, expect: allow}\n"
        "  - {org: ymere, event_type: signalering, field: toelichting, network: kern,"
        " author: ymere, expect: allow}\n",
    )

    report = run_case_file(path, amsterdam)

    assert not report.failures
    assert "signalering-politie" not in report.unexercised_rules
    assert "schaling-netwerk" not in report.unexercised_rules
    assert "signalering-zorg" in report.unexercised_rules  # authorship exercises no rule
    assert not report.ok


def test_a_case_naming_an_unknown_organisation_is_refused_with_its_line(
    tmp_path: Path, amsterdam: AccessMatrix
) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: politie-amsterdam, event_type: signalering, network: kern, expect: allow}\n"
        "  - {org: marechaussee, event_type: signalering, network: kern, expect: deny}\n",
    )

    with pytest.raises(PolicyError, match=r"regio.tests.yaml:6: case 2: unknown organisation"):
        run_case_file(path, amsterdam)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("{org: ymere, event_type: melding, network: kern, expect: deny}", "unknown event type"),
        (
            "{org: ymere, event_type: signalering, field: x, network: kern, expect: deny}",
            "no content field",
        ),
        (
            "{org: ymere, event_type: signalering, network: elders, expect: deny}",
            "no network named",
        ),
        (
            "{org: ymere, event_type: signalering, network: kern, expect: deny, scope: own}",
            "scope belongs",
        ),
        ("{org: ymere, event_type: signalering, network: kern, expect: maybe}", "allow"),
    ],
)
def test_malformed_cases_are_refused(
    tmp_path: Path, amsterdam: AccessMatrix, case: str, message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        run_case_file(write_cases(tmp_path, f"  - {case}\n"), amsterdam)


# --- what the Amsterdam-Amstelland policy promises ----------------------------------------

EVERYONE = tuple(sorted(compiled(AMSTERDAM).organisations))


def with_role(matrix: AccessMatrix, role: Role) -> set[str]:
    return {o.id for o in matrix.policy.organisations if role in o.roles}


def test_police_never_receive_diagnosis_fields(amsterdam: AccessMatrix) -> None:
    decision = amsterdam.decide("politie-amsterdam", "signalering", EVERYONE, NOW)

    assert set(decision.fields) == {"categorie", "ernst", "gevraagde_actie"}


def test_police_and_housing_corporations_never_receive_special_category_data(
    amsterdam: AccessMatrix,
) -> None:
    outsiders = with_role(amsterdam, Role.politie) | with_role(amsterdam, Role.woningcorporatie)
    for event_type, fields in amsterdam.policy.special_category_fields.items():
        recipients = amsterdam.recipients(event_type, EVERYONE, NOW)
        for field in fields:
            assert not recipients.of(field) & outsiders, f"{event_type}.{field}"


def test_diagnosis_and_medication_reach_only_care_providers(amsterdam: AccessMatrix) -> None:
    care = {Role.ggz, Role.forensische_zorg, Role.verslavingszorg, Role.lvb_zorg, Role.biz_kliniek}
    providers = {o.id for o in amsterdam.policy.organisations if care & set(o.roles)}
    recipients = amsterdam.recipients("signalering", EVERYONE, NOW)

    assert recipients.of("diagnose") == providers
    assert recipients.of("medicatie") == providers


def test_housing_corporations_receive_only_their_own_plan_actions_and_the_regisseurs_contact(
    amsterdam: AccessMatrix,
) -> None:
    for corporation in with_role(amsterdam, Role.woningcorporatie):
        decision = amsterdam.decide(corporation, "planwijziging", EVERYONE, NOW)

        assert {f: a.scope for f, a in decision.fields.items()} == {
            "acties": Scope.own,
            "casusregisseur_contact": Scope.all,
        }


def test_level_changes_reach_every_network_member_but_the_reason_only_regie_and_treatment(
    amsterdam: AccessMatrix,
) -> None:
    regie_and_treatment = {Role.zvh, Role.gemeente, Role.ggz, Role.forensische_zorg}
    expected = {o.id for o in amsterdam.policy.organisations if regie_and_treatment & set(o.roles)}
    for event_type in ("opschaling", "afschaling"):
        recipients = amsterdam.recipients(event_type, EVERYONE, NOW)

        assert recipients.receivers == set(EVERYONE)
        assert recipients.of("reden") == expected


def test_the_referral_in_full_goes_only_to_the_zvh_and_the_casusregisseur(
    amsterdam: AccessMatrix,
) -> None:
    regie = with_role(amsterdam, Role.zvh) | with_role(amsterdam, Role.gemeente)
    recipients = amsterdam.recipients("aanmelding", EVERYONE, NOW)

    assert recipients.of("risico_indicatie") == regie
    assert recipients.of("contactpersoon_aanmelder") == regie
    assert recipients.of("bsn") >= regie
    assert not recipients.of("bsn") & with_role(amsterdam, Role.politie)


def test_the_custodian_is_the_zvh(amsterdam: AccessMatrix) -> None:
    assert amsterdam.policy.custodian == "zvh-amsterdam-amstelland"
    assert len(amsterdam.policy.organisations) >= 9
