"""Every region policy under policies/ is sound, passes its own cases, and has every rule tested.

A policy `policies/<name>.yaml` must have `policies/<name>.tests.yaml` beside it; the cases
are run against the policy compiled with the real event catalogue, and any rule that no
allowed case shows granting fails the build. The last tests pin the behaviours the
Amsterdam-Amstelland policy was written for.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casestore.domain.catalogue import describe
from casestore.domain.events.fields import Setting
from sharing.errors import PolicyError
from sharing.policy import (
    AccessMatrix,
    CaseContext,
    ConflictVanPlichten,
    KaderInForce,
    Role,
    Scope,
    Toestemming,
    catalogue_from_description,
    compile_policy,
    load_policy,
    run_case_file,
)
from sharing.policy.model import Region

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
        " author: zvh-amsterdam-amstelland, expect: allow}\n"
        "  - {org: politie-amsterdam, event_type: signalering, field: diagnose, network: kern,"
        " author: zvh-amsterdam-amstelland, expect: allow}\n",
    )

    report = run_case_file(path, amsterdam)

    assert [str(f) for f in report.failures] == [
        "line 6: politie-amsterdam / signalering.diagnose: expected allow, got deny"
    ]


def test_a_wrong_scope_fails(tmp_path: Path, amsterdam: AccessMatrix) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: ymere, event_type: planwijziging, field: acties, network: kern,"
        " author: gemeente-amsterdam, expect: allow, scope: all}\n",
    )

    [failure] = run_case_file(path, amsterdam).failures

    assert failure.actual == "allow (own)"


def test_a_case_pinning_the_wrong_rule_fails(tmp_path: Path, amsterdam: AccessMatrix) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: politie-amsterdam, event_type: signalering, field: ernst, network: kern,"
        " author: zvh-amsterdam-amstelland, expect: allow, rule: signalering-justitie}\n",
    )

    [failure] = run_case_file(path, amsterdam).failures

    assert str(failure) == (
        "line 5: politie-amsterdam / signalering.ernst: expected allow by rule "
        "signalering-justitie, got allow by rules signalering-politie"
    )


def test_rules_no_allowed_case_exercises_are_reported(
    tmp_path: Path, amsterdam: AccessMatrix
) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: politie-amsterdam, event_type: signalering, field: ernst, network: kern,"
        " author: zvh-amsterdam-amstelland, expect: allow}\n"
        "  - {org: ymere, event_type: signalering, network: kern, author: gemeente-amsterdam,"
        " expect: allow}\n"
        "  - {org: ymere, event_type: signalering, field: toelichting, network: kern,"
        " author: ymere, expect: allow}\n",
    )

    report = run_case_file(path, amsterdam)

    assert not report.failures
    assert "signalering-politie" not in report.unexercised_rules
    assert "signalering-corporatie" not in report.unexercised_rules
    # authorship exercises no rule
    assert "signalering-partners-aan-regie-en-behandelaars" in report.unexercised_rules
    assert not report.ok


def test_a_case_naming_an_unknown_organisation_is_refused_with_its_line(
    tmp_path: Path, amsterdam: AccessMatrix
) -> None:
    path = write_cases(
        tmp_path,
        "  - {org: politie-amsterdam, event_type: signalering, network: kern, expect: deny}\n"
        "  - {org: marechaussee, event_type: signalering, network: kern, expect: deny}\n",
    )

    with pytest.raises(PolicyError, match=r"regio.tests.yaml:6: case 2: unknown organisation"):
        run_case_file(path, amsterdam)


def write_case_network(tmp_path: Path, network: str) -> Path:
    path = tmp_path / "regio.tests.yaml"
    path.write_text(
        "now: 2025-06-01T10:00:00+02:00\n"
        "networks:\n  kern: [zvh-amsterdam-amstelland, politie-amsterdam, ymere, arkin]\n"
        f"  casus:\n{network}"
        "cases:\n  - {org: ymere, event_type: signalering, network: casus, expect: deny}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (
            "    members: kern\n    roles: {verhuurder: politie-amsterdam}\n",
            "case role 'verhuurder' is held by politie-amsterdam (roles politie), but the policy "
            "lets only roles woningcorporatie hold it",
        ),
        ("    members: kern\n    roles: {regisseur: ymere}\n", "unknown case role 'regisseur'"),
        ("    members: elders\n", "members names no plain network 'elders'"),
        (
            "    members: kern\n    kaders: [{id: k, kader: ibs}]\n",
            "unknown kader(s) ibs",
        ),
        (
            "    members: kern\n    toestemming: [{id: t, recipients: [marechaussee]}]\n",
            "unknown organisation(s) marechaussee",
        ),
    ],
)
def test_a_case_that_cannot_exist_is_refused_with_its_line(
    tmp_path: Path, amsterdam: AccessMatrix, network: str, message: str
) -> None:
    with pytest.raises(PolicyError, match=r"regio.tests.yaml:4: network 'casus': ") as caught:
        run_case_file(write_case_network(tmp_path, network), amsterdam)

    assert message in str(caught.value)


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
        (
            "{org: ymere, event_type: signalering, network: kern, expect: deny,"
            " rule: signalering-politie}",
            "rule belongs only to an allowed case",
        ),
        (
            "{org: ymere, event_type: signalering, network: kern, expect: allow, rule: nope}",
            "unknown rule 'nope'",
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


def anything_goes(matrix: AccessMatrix) -> CaseContext:
    """A case where every organisation holds every case role it may hold, and every door is
    open: consent to everyone, a conflict van plichten of every author to everyone, every
    kader in force. What no rule grants even here, no case can grant."""
    policy = matrix.policy
    roles = {
        role.id: [o.id for o in policy.organisations if set(o.roles) & set(role.held_by)]
        for role in policy.case_roles
    }
    everyone = frozenset(EVERYONE)
    conditions: list[Any] = [Toestemming(id="t", recipients=everyone)]
    conditions += [
        ConflictVanPlichten(id=f"c-{org}", author=org, recipients=everyone) for org in EVERYONE
    ]
    conditions += [KaderInForce(id=f"k-{k.id}", kader=k.id) for k in policy.kaders]
    return CaseContext.of(EVERYONE, roles, conditions)


def readers(matrix: AccessMatrix, event_type: str, field: str) -> set[str]:
    """Who reads the field of an event by anyone but themselves, in any case."""
    case = anything_goes(matrix)
    return {
        org
        for author in EVERYONE
        for org in matrix.recipients(event_type, case, NOW, author=author).of(field) - {author}
    }


CARE = {Role.ggz, Role.forensische_zorg, Role.verslavingszorg, Role.lvb_zorg, Role.biz_kliniek}


def test_police_never_receive_diagnosis_fields_whatever_the_door(amsterdam: AccessMatrix) -> None:
    police = with_role(amsterdam, Role.politie)
    case = anything_goes(amsterdam)

    for author in EVERYONE:
        decision = amsterdam.decide("politie-amsterdam", "signalering", case, NOW, author=author)
        if author not in police:
            assert set(decision.fields) <= {"categorie", "ernst", "gevraagde_actie"}, author


def test_medical_content_reaches_only_beroepsgeheim_holders_and_the_regie(
    amsterdam: AccessMatrix,
) -> None:
    bound = {o.id for o in amsterdam.policy.organisations if o.beroepsgeheim}
    for event_type, field in [
        ("signalering", "diagnose"),
        ("signalering", "medicatie"),
        ("aanmelding", "huidige_hulpverlening"),
        ("triagebesluit", "doelgroepcriteria"),
    ]:
        regie = with_role(amsterdam, Role.zvh) | with_role(amsterdam, Role.gemeente)
        assert readers(amsterdam, event_type, field) <= bound | regie, (event_type, field)
    assert readers(amsterdam, "signalering", "diagnose") <= bound


def test_police_and_housing_corporations_never_receive_medical_content(
    amsterdam: AccessMatrix,
) -> None:
    outsiders = with_role(amsterdam, Role.politie) | with_role(amsterdam, Role.woningcorporatie)
    medical = [
        ("signalering", "diagnose"),
        ("signalering", "medicatie"),
        ("signalering", "toelichting"),
        ("aanmelding", "risico_indicatie"),
        ("aanmelding", "huidige_hulpverlening"),
        ("inclusiebesluit", "risicotaxatie"),
        ("triagebesluit", "doelgroepcriteria"),
        ("opschaling", "reden"),
    ]
    for event_type, field in medical:
        assert not readers(amsterdam, event_type, field) & outsiders, (event_type, field)


def test_the_bsn_reaches_only_organisations_a_law_lets_process_it(amsterdam: AccessMatrix) -> None:
    allowed = {o.id for o in amsterdam.policy.organisations if o.bsn}

    assert readers(amsterdam, "aanmelding", "bsn") <= allowed
    assert "ymere" not in readers(amsterdam, "aanmelding", "bsn")
    assert "ymere" in readers(amsterdam, "aanmelding", "naam")


def test_a_ggz_signal_reaches_the_police_only_through_a_door(amsterdam: AccessMatrix) -> None:
    roles = {"levensloopaanbieder": "inforsa", "wijkagent": "politie-amsterdam"}
    closed = CaseContext.of(EVERYONE, roles)
    consent = CaseContext.of(
        EVERYONE, roles, [Toestemming(id="t", recipients=frozenset({"politie-amsterdam"}))]
    )

    shut = amsterdam.decide("politie-amsterdam", "signalering", closed, NOW, author="inforsa")
    open_ = amsterdam.decide("politie-amsterdam", "signalering", consent, NOW, author="inforsa")

    assert not shut.receives
    assert set(open_.fields) == {"categorie", "ernst", "gevraagde_actie"}
    assert {c.record for a in open_.fields.values() for c in a.conditions} == {"t"}


def test_housing_corporations_receive_only_their_own_plan_actions_and_the_regisseurs_contact(
    amsterdam: AccessMatrix,
) -> None:
    for corporation in with_role(amsterdam, Role.woningcorporatie):
        decision = amsterdam.decide(
            corporation, "planwijziging", EVERYONE, NOW, author="gemeente-amsterdam"
        )

        assert {f: a.scope for f, a in decision.fields.items()} == {
            "acties": Scope.own,
            "casusregisseur_contact": Scope.all,
        }


def test_the_levensloopaanbieder_or_the_regie_scales_and_its_reason_stays_with_regie_and_treatment(
    amsterdam: AccessMatrix,
) -> None:
    roles = {
        "levensloopaanbieder": "inforsa",
        "behandelaar": "jellinek",
        "casusregisseur": "gemeente-amsterdam",
    }
    case = CaseContext.of(EVERYONE, roles)
    consent = CaseContext.of(EVERYONE, roles, [Toestemming(id="t", recipients=frozenset(EVERYONE))])
    for event_type in ("opschaling", "afschaling"):
        assert amsterdam.may_author("inforsa", event_type, case)
        assert not amsterdam.may_author("jellinek", event_type, case)
        # The regie records what a casusoverleg decided; the case checks that it names one.
        assert amsterdam.may_author("zvh-amsterdam-amstelland", event_type, case)

        closed = amsterdam.recipients(event_type, case, NOW, author="inforsa")
        assert closed.receivers == {"inforsa", "jellinek"}
        shared = amsterdam.recipients(event_type, consent, NOW, author="inforsa")
        assert shared.receivers == set(EVERYONE)
        assert shared.of("reden") == {
            "inforsa",
            "jellinek",
            "gemeente-amsterdam",
            "zvh-amsterdam-amstelland",
        }


def test_the_referral_in_full_goes_only_to_the_zvh_and_the_casusregisseur(
    amsterdam: AccessMatrix,
) -> None:
    case = CaseContext.of(EVERYONE, {"casusregisseur": "gemeente-amsterdam"})
    recipients = amsterdam.recipients("aanmelding", case, NOW, author="ymere")

    regie = {"zvh-amsterdam-amstelland", "gemeente-amsterdam"}
    assert recipients.of("risico_indicatie") == regie | {"ymere"}
    assert recipients.of("contactpersoon_aanmelder") == regie | {"ymere"}
    assert recipients.of("bsn") >= regie
    assert recipients.of("bsn") & with_role(amsterdam, Role.politie)
    assert not recipients.of("bsn") & with_role(amsterdam, Role.woningcorporatie) - {"ymere"}


def test_the_custodian_is_the_zvh(amsterdam: AccessMatrix) -> None:
    assert amsterdam.policy.custodian == "zvh-amsterdam-amstelland"
    assert len(amsterdam.policy.organisations) >= 9


# --- the guide for privacy officers --------------------------------------------------------

GUIDE = POLICIES.parent / "docs" / "policy.md"


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)


def test_the_guides_example_policy_passes_the_lint_and_its_cases(tmp_path: Path) -> None:
    blocks = yaml_blocks(GUIDE.read_text(encoding="utf-8"))
    example, cases = blocks[0], blocks[-1]
    (tmp_path / "voorbeeld.yaml").write_text(example, encoding="utf-8")
    (tmp_path / "voorbeeld.tests.yaml").write_text(cases, encoding="utf-8")

    report = run_case_file(tmp_path / "voorbeeld.tests.yaml", compiled(tmp_path / "voorbeeld.yaml"))

    assert report.ok, [str(f) for f in report.failures]
    assert report.cases == 2


@pytest.mark.parametrize("policy_file", POLICY_FILES, ids=lambda p: p.stem)
def test_the_regions_care_levels_name_settings_the_opschaling_knows(policy_file: Path) -> None:
    region = load_policy(policy_file, CATALOGUE).region
    known = {setting.value for setting in Setting}
    for care in region.care_levels:
        assert set(care.settings) <= known, care
    assert sorted(care.level for care in region.care_levels) in ([], [1, 2, 3, 4])


def test_a_care_level_is_named_once() -> None:
    care = {"level": 2, "name": "beschermd wonen", "settings": ["beschermd_wonen"]}
    with pytest.raises(ValueError, match="named once"):
        Region.model_validate({"id": "regio", "name": "Regio", "care_levels": [care, care]})
