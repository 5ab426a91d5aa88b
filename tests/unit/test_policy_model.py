"""Reading and checking policy documents: every mistake is named with its file, line and rule."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sharing.errors import PolicyError
from sharing.policy import (
    Anchor,
    EventTypeSpec,
    Policy,
    catalogue_from_description,
    compile_policy,
    load_policy,
    parse_policy,
    policy_digest,
    validate_policy,
)
from sharing.policy.law import Retention

CATALOGUE = {
    "melding": EventTypeSpec(
        content_fields=frozenset({"naam", "diagnose", "toelichting"}),
        control_fields=frozenset({"niveau"}),
    ),
    "plan": EventTypeSpec(
        content_fields=frozenset({"acties", "doelen"}),
        control_fields=frozenset({"versie"}),
        owned_fields=frozenset({"acties"}),
    ),
    "einde": EventTypeSpec(content_fields=frozenset({"reden"})),
}

SOUND = """\
region: {id: testregio, name: Testregio}
version: 3
custodian: zvh-test
organisations:
  - {id: zvh-test, name: ZVH Test, roles: [zvh]}
  - {id: politie-test, name: Politie Test, roles: [politie], regime: wpg}
  - {id: ggz-test, name: GGZ Test, roles: [ggz], beroepsgeheim: WGBO (art. 7:457 BW)}
grounds:
  - {id: avg-6, kind: avg-6, basis: e, title: Publieke taak, reference: AVG art. 6 lid 1 sub e}
  - id: avg-9
    kind: avg-9
    exception: h
    uavg: art. 30 lid 3 sub a
    title: Gezondheid
    reference: AVG art. 9 lid 2 sub h jo. UAVG art. 30 lid 3 sub a
  - {id: wpg-8, kind: sectoral, law: Wpg, title: Politietaak, reference: Wpg art. 8}
agreements:
  - {id: convenant, kind: convenant, title: Convenant, reference: Convenant ZVH}
case_roles:
  - {id: behandelaar, description: Behandelt., held_by: [ggz], treatment: true}
kaders:
  - {id: zorgmachtiging, title: Zorgmachtiging, reference: Wvggz hoofdstuk 6}
special_data:
  melding:
    fields: {diagnose: [health]}
rules:
  - id: melding-politie
    description: Politie ziet de naam.
    event_types: [melding]
    authors: {roles: [zvh]}
    recipients: {roles: [politie]}
    fields: [naam]
    providing: [avg-6]
    receiving: [wpg-8]
    agreements: [convenant]
    purpose: Optreden.
    retention: {years: 1, from: case_end}
  - id: melding-zorg
    description: Zorg ziet alles.
    event_types: [melding]
    authors: {roles: [zvh]}
    recipients: {case_roles: [behandelaar], organisations: [zvh-test]}
    fields: [naam, diagnose, toelichting]
    providing: [avg-6, avg-9]
    receiving: [avg-6, avg-9]
    purpose: Behandelen.
    retention: {years: 5, from: case_end}
    condition: {kader: [zorgmachtiging]}
  - id: plan-eigen
    description: Politie ziet eigen acties.
    event_types: [plan]
    authors: {roles: [zvh]}
    recipients: {roles: [politie]}
    fields: [acties]
    own_only: true
    providing: [avg-6]
    receiving: [wpg-8]
    purpose: Uitvoeren.
    retention: {months: 6, from: event}
    on_join: latest
    on_leave: keep
    valid_from: 2025-01-01
    valid_until: 2025-12-31
"""

SOURCE = "policies/test.yaml"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def load_text(text: str) -> Policy:
    return parse_policy(text, CATALOGUE, source=SOURCE)


def problem(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        load_text(text)
    return str(caught.value)


def test_a_sound_policy_loads_with_its_rules_in_order() -> None:
    policy = load_text(SOUND)

    assert policy.region.id == "testregio"
    assert policy.version == 3
    assert [rule.id for rule in policy.rules] == ["melding-politie", "melding-zorg", "plan-eigen"]
    assert policy.rules[2].valid_until == date(2025, 12, 31)


def test_a_policy_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "regio.yaml"
    path.write_text(SOUND, encoding="utf-8")

    assert load_policy(path, CATALOGUE).custodian == "zvh-test"


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "absent.yaml", CATALOGUE)


def test_an_unknown_recipient_organisation_names_file_line_and_rule() -> None:
    text = SOUND.replace("organisations: [zvh-test]}", "organisations: [zvh-tset]}")

    message = problem(text)

    assert message.startswith(f"{SOURCE}:{line_of(text, 'zvh-tset')}: rule 'melding-zorg':")
    assert "unknown organisation 'zvh-tset'" in message


def test_an_unknown_role_is_refused_at_its_line() -> None:
    text = SOUND.replace(
        "roles: [politie]}\n    fields: [naam]", "roles: [agent]}\n    fields: [naam]"
    )

    message = problem(text)

    assert f"{SOURCE}:{line_of(text, '[agent]')}: rule 'melding-politie'" in message
    assert "'zvh'" in message  # the allowed roles are listed


def test_an_unknown_ground_is_refused() -> None:
    text = SOUND.replace(
        "providing: [avg-6]\n    receiving: [wpg-8]\n    agreements",
        "providing: [avg-7]\n    receiving: [wpg-8]\n    agreements",
    )

    message = problem(text)

    assert f":{line_of(text, '[avg-7]')}: rule 'melding-politie': unknown ground 'avg-7'" in message


def test_an_unknown_event_type_is_refused() -> None:
    text = SOUND.replace("event_types: [plan]", "event_types: [plan, planning]")

    message = problem(text)

    assert (
        f":{line_of(text, 'planning')}: rule 'plan-eigen': unknown event type 'planning'" in message
    )


def test_a_field_the_catalogue_does_not_have_is_refused() -> None:
    text = SOUND.replace("fields: [naam]", "fields: [naam, adres]")

    message = problem(text)

    assert (
        f":{line_of(text, 'adres')}: rule 'melding-politie': melding has no field 'adres'"
        in message
    )
    assert "content fields: diagnose, naam, toelichting" in message


def test_a_control_field_listed_as_content_is_refused() -> None:
    text = SOUND.replace("fields: [naam]", "fields: [naam, niveau]")

    message = problem(text)

    assert "'niveau' is a control attribute of melding" in message
    assert f":{line_of(text, 'niveau')}:" in message


def test_own_only_on_a_field_that_is_not_owned_is_refused() -> None:
    text = SOUND.replace("fields: [acties]", "fields: [acties, doelen]")

    message = problem(text)

    assert "rule 'plan-eigen': own_only on plan.doelen, which is not an owned field" in message


def test_own_only_without_fields_is_refused() -> None:
    text = SOUND.replace("fields: [acties]", "fields: []")

    assert "own_only needs at least one owned field" in problem(text)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("id: politie-test,", "id: zvh-test,", "duplicate organisation id 'zvh-test'"),
        ("id: avg-9\n", "id: avg-6\n", "duplicate ground id 'avg-6'"),
        ("id: melding-zorg", "id: melding-politie", "duplicate rule id 'melding-politie'"),
    ],
)
def test_duplicate_ids_are_refused(old: str, new: str, expected: str) -> None:
    text = SOUND.replace(old, new)

    message = problem(text)

    assert expected in message
    assert f":{line_of(text, new.strip(), occurrence=2)}:" in message


def test_valid_until_before_valid_from_is_refused() -> None:
    text = SOUND.replace("valid_until: 2025-12-31", "valid_until: 2024-12-31")

    message = problem(text)

    assert f":{line_of(text, 'valid_until')}: rule 'plan-eigen'" in message
    assert "valid_until 2024-12-31 is before valid_from 2025-01-01" in message


def test_special_data_names_fields_that_exist() -> None:
    text = SOUND.replace(
        "fields: {diagnose: [health]}", "fields: {diagnose: [health], bloedgroep: [health]}"
    )

    assert f":{line_of(text, 'bloedgroep')}: melding has no content field 'bloedgroep'" in problem(
        text
    )


def test_only_free_text_can_be_listed_as_not_special_and_then_not_as_special() -> None:
    free_text = {
        **CATALOGUE,
        "melding": EventTypeSpec(
            content_fields=frozenset({"naam", "diagnose", "toelichting"}),
            control_fields=frozenset({"niveau"}),
            free_text_fields=frozenset({"diagnose", "toelichting"}),
        ),
    }

    def refused(special: str) -> str:
        with pytest.raises(PolicyError) as caught:
            parse_policy(SOUND.replace("fields: {diagnose: [health]}", special), free_text)
        return str(caught.value)

    assert "melding.naam is not a free-text field" in refused(
        "fields: {diagnose: [health]}\n    not_special: {naam: Alleen de naam.}"
    )
    assert "melding.diagnose is listed both special and not" in refused(
        "fields: {diagnose: [health]}\n    not_special: {diagnose: Geen diagnose.}"
    )


def test_a_rule_with_one_list_of_grounds_is_told_to_name_both_sides() -> None:
    text = SOUND.replace(
        "providing: [avg-6]\n    receiving: [wpg-8]\n    agreements",
        "grounds: [avg-6]\n    agreements",
    )

    assert "name the providing ground (the author's) and the receiving ground" in problem(text)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "recipients: {case_roles: [behandelaar], organisations",
            "recipients: {case_roles: [behandelaars], organisations",
            "unknown case role 'behandelaars'",
        ),
        (
            "condition: {kader: [zorgmachtiging]}",
            "condition: {kader: [ibs]}",
            "unknown kader 'ibs'",
        ),
        ("agreements: [convenant]", "agreements: [protocol]", "agreement 'protocol' is unknown"),
        ("agreements: [convenant]", "agreements: [avg-6]", "'avg-6' is a ground, not an agreement"),
        (
            "held_by: [ggz], treatment",
            "held_by: [huisarts], treatment",
            "no listed organisation can hold case role 'behandelaar'",
        ),
        ("condition: {kader: [zorgmachtiging]}", "condition: kader", "a kader condition names"),
        (
            "{id: convenant, kind: convenant",
            "{id: avg-6, kind: convenant",
            "'avg-6' is both a ground and an agreement",
        ),
    ],
)
def test_case_roles_kaders_and_agreements_must_be_known(old: str, new: str, expected: str) -> None:
    assert old in SOUND
    assert expected in problem(SOUND.replace(old, new))


@pytest.mark.parametrize(
    ("ground", "expected"),
    [
        ("{kind: avg-6, basis: z}", "basis"),
        ("{kind: avg-6}", "an avg-6 ground names its basis"),
        ("{kind: avg-9, exception: h}", "applies only as filled in by law"),
        ("{kind: avg-9, exception: h, uavg: x, covers: [criminal]}", "covers health data only"),
        ("{kind: avg-10, uavg: art. 33}", "names its UAVG article with lid"),
        ("{kind: sectoral}", "a sectoral ground names its law"),
        ("{kind: door}", "a door names which"),
        ("{kind: door, door: toestemming, covers: [health]}", "covers does not belong"),
        ("{kind: avg-6, basis: e, door: toestemming}", "door does not belong"),
        ("{kind: convenant}", "kind"),
        (
            "{kind: sectoral, law: WGS, in_force_from: 2025-03-01, in_force_until: 2024-01-01}",
            "in_force_until is before in_force_from",
        ),
    ],
)
def test_a_ground_says_what_its_kind_needs(ground: str, expected: str) -> None:
    typed = ground.removeprefix("{").removesuffix("}")
    extra = f"  - {{id: extra, title: X, reference: X, {typed}}}\n"
    text = SOUND.replace("  - {id: wpg-8,", extra + "  - {id: wpg-8,")

    assert expected in problem(text)


def test_an_avg_9_exception_that_needs_no_law_needs_no_uavg_article() -> None:
    consent = "kind: avg-9, exception: a, title: X, reference: AVG art. 9 lid 2 sub a"
    text = SOUND.replace(
        "  - {id: wpg-8,", f"  - {{id: uitdrukkelijk, {consent}}}\n  - {{id: wpg-8,"
    )

    assert load_text(text).ground("uitdrukkelijk") is not None


def test_the_custodian_is_a_listed_zvh() -> None:
    assert "custodian 'zvh-elders' is not a listed organisation" in problem(
        SOUND.replace("custodian: zvh-test", "custodian: zvh-elders")
    )
    assert "custodian 'ggz-test' does not have the role zvh" in problem(
        SOUND.replace("custodian: zvh-test", "custodian: ggz-test")
    )


def test_a_rule_that_grants_no_listed_organisation_is_refused() -> None:
    text = SOUND.replace(
        "recipients: {roles: [politie]}\n    fields: [naam]",
        "recipients: {roles: [om]}\n    fields: [naam]",
    )

    assert "rule 'melding-politie': the rule grants no organisation" in problem(text)


def test_retention_needs_a_period_counted_from_the_case_end_or_the_event() -> None:
    assert "a period needs years or months" in problem(
        SOUND.replace("{years: 1, from: case_end}", "{years: 0, from: case_end}")
    )
    assert "'case_end' or 'event'" in problem(
        SOUND.replace("{years: 1, from: case_end}", "{years: 1, from: uitstroom}")
    )
    assert "unknown key" in problem(
        SOUND.replace("{years: 1, from: case_end}", "{years: 1, after: uitstroom}")
    )


def test_a_retention_term_ends_counted_from_its_anchor() -> None:
    policy = load_text(SOUND)
    occurred = datetime(2025, 1, 31, 12, tzinfo=UTC)
    ended = datetime(2027, 8, 31, 12, tzinfo=UTC)

    police, plan = policy.rules[0].retention, policy.rules[2].retention

    assert police.expires_at(occurred, None) is None  # the case has not ended yet
    assert police.expires_at(occurred, ended) == datetime(2028, 8, 31, 12, tzinfo=UTC)
    assert plan.expires_at(occurred, ended) == datetime(2025, 7, 31, 12, tzinfo=UTC)
    assert Retention(months=1, counted_from=Anchor.event).expires_at(occurred, None) == datetime(
        2025, 2, 28, 12, tzinfo=UTC
    )


def test_a_misspelt_key_is_refused_rather_than_ignored() -> None:
    text = SOUND.replace("fields: [naam]", "feilds: [naam]")

    message = problem(text)

    assert f":{line_of(text, 'feilds')}: rule 'melding-politie': unknown key" in message
    assert "required key missing (at rules.0.fields)" in message


def test_a_key_given_twice_is_refused() -> None:
    text = SOUND.replace("version: 3\n", "version: 3\nversion: 4\n")

    assert f"{SOURCE}:{line_of(text, 'version: 4')}: key given twice" in problem(text)


def test_broken_yaml_names_its_line() -> None:
    text = SOUND.replace("fields: [naam]", "fields: [naam")

    assert problem(text).startswith(f"{SOURCE}:")
    assert "not valid YAML" in problem(text)


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert "a policy is a mapping" in problem("- just a list\n")


def test_every_problem_is_reported_at_once() -> None:
    text = SOUND.replace("fields: [naam]", "fields: [adres]").replace(
        "receiving: [wpg-8]\n    agreements", "receiving: [wpg-99]\n    agreements"
    )

    message = problem(text)

    assert message.startswith(f"2 problems in {SOURCE}:")
    assert "no field 'adres'" in message
    assert "unknown ground 'wpg-99'" in message


def test_version_is_an_integer_or_a_string_but_not_a_float() -> None:
    assert load_text(SOUND.replace("version: 3", "version: '2025.1'")).version == "2025.1"
    assert "version" in problem(SOUND.replace("version: 3", "version: 2025.1"))


def test_an_unknown_timezone_is_refused() -> None:
    assert "unknown timezone 'Europe/Amstelveen'" in problem(
        SOUND.replace("custodian: zvh-test\n", "custodian: zvh-test\ntimezone: Europe/Amstelveen\n")
    )


def test_a_policy_built_in_code_gets_the_same_checks_without_lines() -> None:
    policy = load_text(SOUND)
    broken = policy.model_copy(update={"custodian": "nobody"})

    with pytest.raises(PolicyError, match="custodian 'nobody' is not a listed organisation"):
        validate_policy(broken, CATALOGUE)
    with pytest.raises(PolicyError, match="policy testregio: custodian"):
        compile_policy(broken, CATALOGUE)


def test_a_policy_sound_for_one_catalogue_can_be_unsound_for_another() -> None:
    policy = load_text(SOUND)
    smaller = {k: v for k, v in CATALOGUE.items() if k != "plan"}

    with pytest.raises(PolicyError, match="unknown event type 'plan'"):
        compile_policy(policy, smaller)


def test_rules_are_in_force_from_and_until_their_dates_inclusive() -> None:
    rule = load_text(SOUND).rules[2]

    assert not rule.in_force(date(2024, 12, 31))
    assert rule.in_force(date(2025, 1, 1))
    assert rule.in_force(date(2025, 12, 31))
    assert not rule.in_force(date(2026, 1, 1))


def test_the_catalogue_is_read_from_its_data_description() -> None:
    catalogue = catalogue_from_description(
        {
            "plan": {
                "summary": "ignored",
                "control_fields": ["versie"],
                "content_fields": ["acties", "doelen", "bsn"],
                "owned_fields": {"acties": "organisatie"},
                "free_text_fields": ["acties", "doelen"],
                "bsn_fields": ["bsn"],
            }
        }
    )

    assert catalogue == {
        "plan": EventTypeSpec(
            content_fields=frozenset({"acties", "doelen", "bsn"}),
            control_fields=frozenset({"versie"}),
            owned_fields=frozenset({"acties"}),
            free_text_fields=frozenset({"acties", "doelen"}),
            bsn_fields=frozenset({"bsn"}),
        )
    }


def test_a_malformed_catalogue_description_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="malformed event catalogue"):
        catalogue_from_description({"plan": {"control_fields": []}})


def test_an_event_type_spec_keeps_content_control_and_owned_fields_apart() -> None:
    with pytest.raises(ValueError, match="both content and control"):
        EventTypeSpec(content_fields=frozenset({"a"}), control_fields=frozenset({"a"}))
    with pytest.raises(ValueError, match="owned fields must be content fields"):
        EventTypeSpec(content_fields=frozenset({"a"}), owned_fields=frozenset({"b"}))
    with pytest.raises(ValueError, match="free-text fields must be content fields"):
        EventTypeSpec(content_fields=frozenset({"a"}), free_text_fields=frozenset({"b"}))
    with pytest.raises(ValueError, match="BSN fields must be content fields"):
        EventTypeSpec(content_fields=frozenset({"a"}), bsn_fields=frozenset({"b"}))


def test_the_digest_ignores_layout_comments_and_the_order_of_sets() -> None:
    reordered = (
        SOUND.replace(
            "fields: [naam, diagnose, toelichting]", "fields: [toelichting, naam, diagnose]"
        )
        .replace("providing: [avg-6, avg-9]", "providing: [avg-9, avg-6]")
        .replace(
            "region: {id: testregio, name: Testregio}",
            "# comment\nregion:\n  id: testregio\n  name: Testregio",
        )
    )

    assert policy_digest(load_text(reordered)) == policy_digest(load_text(SOUND))
    assert policy_digest(load_text(SOUND)).startswith("sha256:")


def test_the_digest_changes_with_any_change_of_meaning() -> None:
    base = policy_digest(load_text(SOUND))

    for old, new in [
        ("fields: [naam]", "fields: [naam, toelichting]"),
        ("version: 3", "version: 4"),
        ("valid_until: 2025-12-31", "valid_until: 2026-12-31"),
        ("purpose: Optreden.", "purpose: Optreden bij dreiging."),
        ("receiving: [avg-6, avg-9]", "receiving: [avg-6, avg-9, wpg-8]"),
        ("{years: 1, from: case_end}", "{years: 1, from: event}"),
        ("on_join: latest", "on_join: all"),
        ("condition: {kader: [zorgmachtiging]}", "condition: toestemming"),
        ("treatment: true", "treatment: false"),
        ("beroepsgeheim: WGBO (art. 7:457 BW)", "beroepsgeheim: Wet BIG art. 88"),
    ]:
        assert policy_digest(load_text(SOUND.replace(old, new))) != base, new


def test_the_policy_package_never_imports_casestore() -> None:
    package = Path(__file__).resolve().parents[2] / "src" / "sharing" / "policy"
    imported = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)

    assert not {name for name in imported if name.split(".")[0] == "casestore"}
