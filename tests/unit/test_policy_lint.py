"""The legal lint: a policy that would share unlawfully is refused, naming rule, field and law.

One sound policy below; each test breaks it in one way a privacy officer would object to and
checks that the loader refuses it for that reason, citing the law behind the objection.
"""

from __future__ import annotations

import pytest
import yaml

from sharing.errors import PolicyError
from sharing.policy import EventTypeSpec, Finding, Policy, parse_policy
from sharing.policy.checks import check_policy

CATALOGUE = {
    "melding": EventTypeSpec(
        content_fields=frozenset({"naam", "bsn", "diagnose", "toelichting"}),
        free_text_fields=frozenset({"toelichting"}),
        bsn_fields=frozenset({"bsn"}),
    ),
    "signaal": EventTypeSpec(
        content_fields=frozenset({"categorie", "toelichting"}),
        control_fields=frozenset({"niveau"}),
        free_text_fields=frozenset({"toelichting"}),
    ),
}

SOUND = """\
region: {id: testregio, name: Testregio}
version: 1
custodian: zvh
organisations:
  - {id: zvh, name: ZVH, roles: [zvh], bsn: bsn-wabb}
  - {id: gemeente, name: Gemeente, roles: [gemeente]}
  - {id: politie, name: Politie, roles: [politie], regime: wpg, bsn: bsn-wabb}
  - {id: om, name: OM, roles: [om], regime: wjsg}
  - {id: arkin, name: Arkin, roles: [ggz], beroepsgeheim: WGBO (art. 7:457 BW)}
  - {id: ymere, name: Ymere, roles: [woningcorporatie]}
grounds:
  - {id: avg-6, kind: avg-6, basis: e, title: Taak, reference: AVG art. 6 lid 1 sub e}
  - id: avg-9
    kind: avg-9
    exception: h
    uavg: art. 30 lid 3 sub a
    title: Gezondheid
    reference: AVG art. 9 lid 2 sub h jo. UAVG art. 30 lid 3 sub a
  - id: avg-10
    kind: avg-10
    uavg: art. 33 lid 1 sub b
    title: Strafrechtelijk
    reference: AVG art. 10 jo. UAVG art. 33 lid 1 sub b
  - id: wgs
    kind: sectoral
    law: WGS
    title: Samenwerkingsverband
    reference: WGS (Stb. 2024, 198)
    in_force_from: 2025-03-01
    max_retention: {years: 5, from: case_end}
  - {id: wpg-8, kind: sectoral, law: Wpg, covers: [health, criminal], title: Politietaak,
     reference: Wpg art. 8}
  - {id: wpg-20, kind: sectoral, law: Wpg, covers: [health, criminal], title: Verstrekking,
     reference: Wpg art. 20}
  - {id: wjsg, kind: sectoral, law: Wjsg, covers: [health, criminal], title: OM,
     reference: Wjsg titel 3}
  - {id: toestemming, kind: door, door: toestemming, title: Toestemming,
     reference: art. 7:457 lid 1 BW}
  - {id: conflict, kind: door, door: conflict_van_plichten, title: Conflict van plichten,
     reference: KNMG-richtlijn}
  - {id: bsn-wabb, kind: sectoral, law: Wabb, title: BSN, reference: Wabb art. 10}
agreements:
  - {id: convenant, kind: convenant, title: Convenant, reference: Convenant ZVH}
case_roles:
  - {id: behandelaar, description: Behandelt., held_by: [ggz], treatment: true}
  - {id: wijkagent, description: Wijkagent., held_by: [politie]}
special_data:
  melding:
    fields: {diagnose: [health]}
  signaal:
    header: {covers: [health, criminal], why: Een signaal van terugval of dreiging.}
rules:
  - id: melding-regie
    description: De gemeente ziet naam en diagnose.
    event_types: [melding]
    authors: {roles: [zvh]}
    recipients: {roles: [gemeente]}
    fields: [naam, diagnose]
    providing: [wgs, avg-9]
    receiving: [avg-6, avg-9]
    agreements: [convenant]
    purpose: Regie.
    retention: {years: 5, from: case_end}
    valid_from: 2025-03-01
  - id: melding-politie
    description: De politie ziet wie het is.
    event_types: [melding]
    authors: {roles: [zvh]}
    recipients: {roles: [politie]}
    fields: [naam, bsn]
    providing: [wgs]
    receiving: [wpg-8]
    purpose: Vinden.
    retention: {years: 1, from: event}
    valid_from: 2025-03-01
  - id: signaal-politie
    description: Met toestemming ziet de politie de categorie van een GGZ-signaal.
    event_types: [signaal]
    authors: {roles: [ggz]}
    recipients: {roles: [politie]}
    fields: [categorie]
    providing: [wgs, avg-9, avg-10, toestemming]
    receiving: [wpg-8]
    purpose: Optreden.
    retention: {years: 1, from: event}
    condition: toestemming
    valid_from: 2025-03-01
  - id: signaal-behandelaar
    description: De behandelaars zien het hele signaal.
    event_types: [signaal]
    authors: {roles: [ggz]}
    recipients: {case_roles: [behandelaar]}
    fields: [categorie, toelichting]
    providing: [avg-6, avg-9, avg-10]
    receiving: [avg-6, avg-9, avg-10]
    purpose: Behandelen.
    retention: {years: 5, from: case_end}
  - id: signaal-van-politie
    description: Een signaal van de politie gaat naar de ZVH.
    event_types: [signaal]
    authors: {roles: [politie]}
    recipients: {roles: [zvh]}
    fields: [categorie]
    providing: [wpg-20]
    receiving: [wgs, avg-9, avg-10]
    purpose: Regie.
    retention: {years: 5, from: case_end}
    valid_from: 2025-03-01
  - id: signaal-om
    description: Het OM ziet de categorie.
    event_types: [signaal]
    authors: {roles: [zvh]}
    recipients: {roles: [om]}
    fields: [categorie]
    providing: [wgs, avg-9, avg-10]
    receiving: [wjsg]
    purpose: Afdoening.
    retention: {years: 1, from: event}
    valid_from: 2025-03-01
"""

SOURCE = "policies/lint.yaml"


def edited(old: str, new: str, text: str = SOUND) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def findings(text: str) -> list[Finding]:
    return check_policy(Policy.model_validate(yaml.safe_load(text)), CATALOGUE)


def refused(text: str, rule: str | None, law: str) -> Finding:
    """The one finding on `rule` under `law`; the loader must refuse the text too."""
    with pytest.raises(PolicyError):
        parse_policy(text, CATALOGUE, source=SOURCE)
    found = [f for f in findings(text) if f.rule == rule and f.law == law]
    assert found, [(f.rule, f.law, f.message) for f in findings(text)]
    assert law in found[0].message
    return found[0]


def test_the_sound_policy_passes_the_lint() -> None:
    assert findings(SOUND) == []


def test_the_loader_names_file_line_rule_field_and_law() -> None:
    text = edited("    receiving: [avg-6, avg-9]\n", "    receiving: [avg-6]\n")

    with pytest.raises(PolicyError) as caught:
        parse_policy(text, CATALOGUE, source=SOURCE)

    lines = text.splitlines()
    line = next(n for n, found in enumerate(lines, 1) if "fields: [naam, diagnose]" in found)
    assert str(caught.value) == (
        f"{SOURCE}:{line}: rule 'melding-regie': melding.diagnose reveals health data: "
        "gemeente needs an art. 9 (avg-9) receiving ground (AVG art. 9 lid 1 jo. UAVG art. 22) "
        "(at rules.0.fields.1)"
    )


# ---- agreements ------------------------------------------------------------------------


def test_an_agreement_named_as_a_ground_is_refused() -> None:
    text = edited("    providing: [wgs]\n", "    providing: [wgs, convenant]\n")

    finding = refused(text, "melding-politie", "AVG art. 6 lid 1")

    assert "'convenant' is an agreement (convenant), not a legal ground" in finding.message
    assert finding.path == ("rules", 1, "providing", 1)


def test_a_rule_resting_on_an_agreement_only_is_refused() -> None:
    text = edited(
        "    providing: [wgs, avg-9, avg-10]\n    receiving: [wjsg]\n",
        "    agreements: [convenant]\n",
    )

    finding = refused(text, "signaal-om", "AVG art. 6 lid 1")

    assert "rests on convenant only: an agreement is never a legal ground" in finding.message


# ---- special data --------------------------------------------------------------------


def test_special_fields_need_an_art_9_ground_on_the_receiving_side() -> None:
    text = edited("    receiving: [avg-6, avg-9]\n", "    receiving: [avg-6]\n")

    finding = refused(text, "melding-regie", "AVG art. 9 lid 1 jo. UAVG art. 22")

    assert "melding.diagnose reveals health data" in finding.message


def test_special_fields_need_an_art_9_ground_on_the_providing_side() -> None:
    text = edited("    providing: [wgs, avg-9]\n", "    providing: [wgs]\n")

    finding = refused(text, "melding-regie", "AVG art. 9 lid 1 jo. UAVG art. 22")

    assert "zvh needs an art. 9 (avg-9) providing ground" in finding.message


def test_a_header_that_reveals_special_data_needs_art_9_and_10_grounds() -> None:
    header_only = """\
  - id: signaal-corporatie
    description: De corporatie weet dat er een signaal is.
    event_types: [signaal]
    authors: {roles: [zvh]}
    recipients: {roles: [woningcorporatie]}
    fields: []
    providing: [wgs, avg-9, avg-10]
    receiving: [avg-6]
    purpose: Contact.
    retention: {months: 6, from: event}
    valid_from: 2025-03-01
"""
    text = SOUND + header_only

    health = refused(text, "signaal-corporatie", "AVG art. 9 lid 1 jo. UAVG art. 22")
    criminal = refused(text, "signaal-corporatie", "AVG art. 10 jo. UAVG art. 31")

    assert "signaal (header) reveals health data" in health.message
    assert "signaal (header) reveals criminal data" in criminal.message
    assert health.path == ("rules", 6, "event_types")


def test_free_text_is_special_unless_the_policy_says_why_not() -> None:
    text = edited("    fields: [naam, diagnose]\n", "    fields: [naam, toelichting]\n")

    finding = refused(text, "melding-regie", "AVG art. 10 jo. UAVG art. 31")
    assert "melding.toelichting reveals criminal data" in finding.message

    reasoned = edited(
        "    fields: {diagnose: [health]}\n",
        "    fields: {diagnose: [health]}\n"
        "    not_special: {toelichting: Alleen de bereikbaarheid van de melder.}\n",
        text,
    )
    assert findings(reasoned) == []


# ---- regimes ---------------------------------------------------------------------------


def test_a_wpg_providing_ground_serves_only_events_the_police_author() -> None:
    text = edited("    authors: {roles: [politie]}\n", "    authors: {roles: [politie, zvh]}\n")

    finding = refused(text, "signaal-van-politie", "Wpg art. 20")

    assert "the rule's authors include zvh" in finding.message
    assert finding.path == ("rules", 4, "providing", 0)


def test_the_police_receive_on_a_ground_of_the_wpg_not_the_avg() -> None:
    text = edited("    receiving: [wpg-8]\n", "    receiving: [avg-6]\n")

    finding = refused(text, "melding-politie", "Wpg")

    assert "politie processes under the Wpg, not the AVG" in finding.message
    assert "AVG grounds (avg-6) do not serve them" in finding.message


def test_the_om_receives_on_a_ground_of_the_wjsg_not_the_avg() -> None:
    text = edited("    receiving: [wjsg]\n", "    receiving: [avg-6, avg-9, avg-10]\n")

    finding = refused(text, "signaal-om", "Wjsg")

    assert "om processes under the Wjsg, not the AVG" in finding.message


def test_special_data_to_the_police_needs_a_wpg_ground_that_covers_it() -> None:
    text = edited(
        "{id: wpg-8, kind: sectoral, law: Wpg, covers: [health, criminal]",
        "{id: wpg-8, kind: sectoral, law: Wpg, covers: [health]",
    )

    finding = refused(text, "signaal-politie", "Wpg")

    assert "signaal (header) reveals criminal data" in finding.message
    assert "a receiving ground of the Wpg that covers it (Wpg art. 5)" in finding.message


# ---- the beroepsgeheim -----------------------------------------------------------------


def test_health_data_leaving_the_treatment_relationship_needs_a_door() -> None:
    text = edited(
        "    providing: [wgs, avg-9, avg-10, toestemming]\n",
        "    providing: [wgs, avg-9, avg-10]\n",
    )

    finding = refused(text, "signaal-politie", "art. 7:457 BW")

    assert "signaal (header) authored by arkin leaves the treatment relationship" in (
        finding.message
    )
    assert "without a door through the beroepsgeheim (WGBO (art. 7:457 BW))" in finding.message


def test_within_the_treatment_relationship_no_door_is_needed_but_beyond_it_one_is() -> None:
    assert not [f for f in findings(SOUND) if f.rule == "signaal-behandelaar"]

    text = edited(
        "    recipients: {case_roles: [behandelaar]}\n",
        "    recipients: {case_roles: [behandelaar, wijkagent]}\n",
    )

    refused(text, "signaal-behandelaar", "art. 7:457 BW")


def test_a_toestemming_door_opens_only_with_the_toestemming_condition() -> None:
    text = edited("    condition: toestemming\n", "")

    finding = refused(text, "signaal-politie", "art. 7:457 BW")

    assert "opens only with `condition: toestemming`" in finding.message


def test_a_conflict_van_plichten_door_opens_only_with_its_condition() -> None:
    text = edited(
        "    providing: [wgs, avg-9, avg-10, toestemming]\n",
        "    providing: [wgs, avg-9, avg-10, conflict]\n",
    )

    finding = refused(text, "signaal-politie", "art. 7:457 BW")

    assert "opens only with `condition: conflict_van_plichten`" in finding.message


def test_a_treatment_role_is_held_only_by_organisations_with_a_beroepsgeheim() -> None:
    text = edited(
        "held_by: [ggz], treatment: true", "held_by: [ggz, woningcorporatie], treatment: true"
    )

    finding = refused(text, None, "art. 7:457 BW lid 2")

    assert "treatment role 'behandelaar' could be held by ymere" in finding.message
    assert finding.path == ("case_roles", 0, "held_by")


# ---- time ------------------------------------------------------------------------------


def test_a_rule_valid_before_its_grounds_law_is_in_force_is_refused() -> None:
    early = edited("    valid_from: 2025-03-01\n", "    valid_from: 2025-01-01\n")
    always = edited("    valid_from: 2025-03-01\n", "")

    finding = refused(early, "melding-regie", "WGS")
    assert "valid from 2025-01-01, but 'wgs' (WGS) is in force only from 2025-03-01" in (
        finding.message
    )
    assert "valid without a start" in refused(always, "melding-regie", "WGS").message


def test_a_rule_valid_after_its_ground_lapses_is_refused() -> None:
    text = edited(
        "    in_force_from: 2025-03-01\n",
        "    in_force_from: 2025-03-01\n    in_force_until: 2029-12-31\n",
    )

    finding = refused(text, "melding-regie", "WGS")

    assert "lapses after 2029-12-31" in finding.message


def test_a_retention_term_above_the_legal_maximum_is_refused() -> None:
    longer = edited(
        "    retention: {years: 5, from: case_end}\n    valid_from",
        "    retention: {years: 6, from: case_end}\n    valid_from",
    )
    finding = refused(longer, "melding-regie", "WGS")
    assert "retention 6 years from the end of the case can exceed the legal maximum" in (
        finding.message
    )
    assert "5 years from the end of the case" in finding.message


def test_a_term_counted_from_the_case_end_can_exceed_any_counted_from_the_event() -> None:
    from_event = edited(
        "max_retention: {years: 5, from: case_end}", "max_retention: {years: 20, from: event}"
    )
    refused(from_event, "melding-regie", "WGS")  # a levensloop case has no fixed end
    # One year from the event stays within twenty years from the event.
    assert not [f for f in findings(from_event) if f.rule == "melding-politie"]


# ---- the BSN --------------------------------------------------------------------------


def test_the_bsn_goes_only_to_organisations_a_law_lets_process_it() -> None:
    text = edited("    fields: [naam, diagnose]\n", "    fields: [naam, bsn, diagnose]\n")

    finding = refused(text, "melding-regie", "UAVG art. 46")

    assert "grants melding.bsn (a BSN) to gemeente" in finding.message
    assert finding.path == ("rules", 0, "fields", 1)


def test_a_bsn_permission_rests_on_a_law() -> None:
    text = edited("regime: wpg, bsn: bsn-wabb", "regime: wpg, bsn: avg-6")

    finding = refused(text, None, "UAVG art. 46")

    assert "'avg-6' is a ground of kind avg-6, not a law" in finding.message
    assert finding.path == ("organisations", 2, "bsn")


# ---- authors ---------------------------------------------------------------------------


def test_authors_the_authorship_section_does_not_allow_are_pointed_out() -> None:
    text = SOUND + (
        "authorship:\n"
        "  - {description: Zorg signaleert., event_types: [signaal], authors: {roles: [ggz]}}\n"
        "  - {description: ZVH meldt., event_types: [melding], authors: {roles: [zvh]}}\n"
    )

    found = [f for f in findings(text) if f.rule == "signaal-van-politie"]

    assert [f.message for f in found] == [
        "no organisation the rule names as author may write signaal (see authorship)"
    ]
