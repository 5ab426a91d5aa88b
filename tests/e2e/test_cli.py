"""The command line as a user meets it: one-line errors, non-zero exits, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from casestore.bootstrap import build
from casestore.services.clients import Unauthenticated
from casestore.settings import Settings
from sharing.client import load_decryption_key, open_fields
from sharing.disclosures import read_disclosure
from sharing.envelope import EventContext, seal_event
from sharing.keys import OrgPublicKeys
from tests.e2e.server import free_port
from tests.factories import CLI, POLICY, ZVH, run

CUSTODIAN = ZVH


def test_demo_loads_cases_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    first = run(["demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "5 demo cases" in first.stdout
    assert "(0 new)" not in first.stdout
    second = run(["demo"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "(0 new)" in second.stdout
    assert (tmp_path / "var" / "casestore.sqlite3").exists()


def test_missing_secret_outside_demo_mode_is_a_one_line_error(tmp_path: Path) -> None:
    result = run(["db", "migrate"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CASESTORE_PSEUDONYM_SECRET" in lines[0]
    assert not (tmp_path / "var").exists()


def test_unsupported_database_url_is_refused_by_name(tmp_path: Path) -> None:
    result = run(["db", "migrate", "--demo"], tmp_path, CASESTORE_DATABASE_URL="mysql://x/y")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: CASESTORE_DATABASE_URL: unsupported scheme 'mysql' "
        "(use postgresql://… or sqlite:///…)"
    )


@pytest.mark.parametrize("secret", ["not base64!", "c2hvcnQ="])
def test_a_bad_pseudonym_secret_is_refused(tmp_path: Path, secret: str) -> None:
    result = run(
        ["clients", "list"],
        tmp_path,
        CASESTORE_PSEUDONYM_SECRET=secret,
        CASESTORE_MASTER_KEY="A" * 43 + "=",
        CASESTORE_KEYS_DIR=str(tmp_path / "keys"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: CASESTORE_PSEUDONYM_SECRET:")


def received_by_police(tmp_path: Path) -> tuple[Path, list[str]]:
    """The demo loaded, what the police receive of its first case in events.json, the key
    directory in keys.json; returns the police's private key file and the arguments that
    verify against the custodian key id the police pinned."""
    loaded = run(["demo"], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    case_id = loaded.stdout.split("case ")[1].split()[0]
    received = run(["read", "--demo", "--org", "politie-amsterdam", case_id], tmp_path)
    assert received.returncode == 0, received.stderr
    (tmp_path / "events.json").write_text(received.stdout)
    keys = run(["keys", "publish", "--demo"], tmp_path)
    assert keys.returncode == 0, keys.stderr
    (tmp_path / "keys.json").write_text(keys.stdout)
    custodian = tmp_path / "var" / "demo" / "keys" / "public" / f"{CUSTODIAN}.json"
    pinned = json.loads(custodian.read_text())[0]["sign_key_id"]
    key = tmp_path / "var" / "demo" / "keys" / "private" / "politie-amsterdam.json"
    return key, ["--keys", "keys.json", "--custodian-key-id", pinned]


def test_a_partner_decrypts_and_verifies_what_it_receives_with_its_own_key(
    tmp_path: Path,
) -> None:
    key, verifying = received_by_police(tmp_path)
    opened = run(["decrypt", "--key", str(key), *verifying, "events.json"], tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert opened.stderr == ""
    events = json.loads(opened.stdout)
    signalering = next(e for e in events if e["event_type"] == "signalering")
    assert set(signalering["fields"]) == {"categorie", "ernst", "gevraagde_actie"}
    received = (tmp_path / "events.json").read_text()
    assert "Schizofrenie" not in opened.stdout and "Schizofrenie" not in received

    wrong_key = tmp_path / "var" / "demo" / "keys" / "private" / "ymere.json"
    refused = run(["decrypt", "--key", str(wrong_key), *verifying, "events.json"], tmp_path)
    assert refused.returncode == 1  # not empty fields: another partner's key opens nothing
    assert refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert "none of the key files opens its grants" in line

    unpinned = run(["decrypt", "--key", str(key), "events.json"], tmp_path)
    assert unpinned.returncode == 2 and "--custodian-key-id" in unpinned.stderr
    wrong_pin = [*verifying[:-1], "0" * 32]
    misdirected = run(["decrypt", "--key", str(key), *wrong_pin, "events.json"], tmp_path)
    assert misdirected.returncode == 1 and "pinned custodian key" in misdirected.stderr


def test_a_partner_rotates_keys_decrypts_with_either_during_the_overlap_then_confirms(
    tmp_path: Path,
) -> None:
    old_key, verifying = received_by_police(tmp_path)
    loaded_case = json.loads((tmp_path / "events.json").read_text())[0]["case_id"]
    new_key = tmp_path / "politie-2.json"
    rotated = run(
        ["keys", "rotate", "politie-amsterdam", "--out", str(new_key), "--demo"], tmp_path
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "politie-amsterdam generation 2" in rotated.stdout
    assert "awaiting confirmation" in rotated.stdout
    assert "grants re-sealed" in rotated.stdout
    assert oct(new_key.stat().st_mode & 0o777) == "0o600"

    published = run(["keys", "publish", "politie-amsterdam", "--demo"], tmp_path)
    assert published.returncode == 0, published.stderr
    assert "generation 1" in published.stderr and "generation 2" in published.stderr
    (tmp_path / "keys.json").write_text(published.stdout)
    listed = json.loads(published.stdout)["document"]["keys"]
    police = [k for k in listed if k["org_id"] == "politie-amsterdam"]
    assert [(k["generation"], k["retired_at"]) for k in police] == [(1, None), (2, None)]
    assert police[1]["confirmed_at"] is None

    received = run(["read", "--demo", "--org", "politie-amsterdam", loaded_case], tmp_path)
    (tmp_path / "events.json").write_text(received.stdout)

    def decrypt(*keys: Path) -> subprocess.CompletedProcess[str]:
        args = [arg for key in keys for arg in ("--key", str(key))]
        return run(["decrypt", *args, *verifying, "events.json"], tmp_path)

    both, old_only, new_only = decrypt(old_key, new_key), decrypt(old_key), decrypt(new_key)
    for result in (both, old_only, new_only):
        assert result.returncode == 0, result.stderr
    assert json.loads(both.stdout) == json.loads(old_only.stdout) == json.loads(new_only.stdout)
    assert any(e["fields"] for e in json.loads(both.stdout))

    confirmed = run(["keys", "confirm", "politie-amsterdam", "2", "--demo"], tmp_path)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "revoked" in confirmed.stdout
    received = run(["read", "--demo", "--org", "politie-amsterdam", loaded_case], tmp_path)
    (tmp_path / "events.json").write_text(received.stdout)
    assert decrypt(new_key).returncode == 0
    retired = decrypt(old_key)
    assert retired.returncode == 1 and len(retired.stderr.splitlines()) == 1
    assert "none of the key files opens its grants" in retired.stderr

    again = run(["keys", "confirm", "politie-amsterdam", "1", "--demo"], tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "error: generation 1 of politie-amsterdam was retired; confirm a newer one"
    )
    taken = run(["keys", "rotate", "politie-amsterdam", "--out", str(new_key), "--demo"], tmp_path)
    assert taken.returncode == 1 and "exists" in taken.stderr
    assert len(taken.stderr.splitlines()) == 1


def forged(tmp_path: Path, event: dict[str, Any], disclosures: dict[str, bytes]) -> dict[str, Any]:
    """`event` with these disclosures sealed anew to the police's real public key, as
    anyone could: the key is published."""
    public = tmp_path / "var" / "demo" / "keys" / "public" / "politie-amsterdam.json"
    police = OrgPublicKeys.from_json(json.loads(public.read_text())[0]).recipient
    context = EventContext(
        event["region"], event["case_id"], event["event_id"], event["event_type"]
    )
    sealed = seal_event(context, disclosures, {name: [police] for name in disclosures}, bytes(32))
    return event | {
        "sealed": {name: field.to_json() for name, field in sealed.fields.items()},
        "grants": [grant.to_json() for grant in sealed.grants],
    }


def refusal(tmp_path: Path, key: Path, verifying: list[str], event: dict[str, Any]) -> str:
    (tmp_path / "forged.json").write_text(json.dumps([event]))
    result = run(["decrypt", "--key", str(key), *verifying, "forged.json"], tmp_path)
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: event {event['event_id']} refused: ")
    return line


def test_decrypt_refuses_a_forged_event_and_a_swapped_field_in_one_line(tmp_path: Path) -> None:
    key, verifying = received_by_police(tmp_path)
    events = json.loads((tmp_path / "events.json").read_text())
    signalering = next(e for e in events if e["event_type"] == "signalering")
    mine = load_decryption_key(json.loads(key.read_text()))
    opened = open_fields(signalering, signalering["sealed"], signalering["grants"], [mine])

    # A whole event made up: sealed to the police's real key, but no custodian stored it.
    invented = forged(tmp_path, signalering | {"event_id": "bedacht"}, opened)
    assert "countersignature does not verify" in refusal(tmp_path, key, verifying, invented)

    # The stored event, one field's value swapped for another's, sealed anew.
    urgent = read_disclosure("ernst", opened["ernst"])
    swapped = opened | {"ernst": replace(urgent, value=4 if urgent.value != 4 else 1).encode()}
    altered = forged(tmp_path, signalering, swapped)
    assert "field ernst does not match" in refusal(tmp_path, key, verifying, altered)

    warned = run(["decrypt", "--key", str(key), "--no-verify", "forged.json"], tmp_path)
    assert warned.returncode == 0
    assert warned.stderr.startswith("warning: --no-verify")
    assert json.loads(warned.stdout)[0]["fields"]["ernst"] != urgent.value


def test_reading_a_case_outside_the_network_is_a_one_line_not_found(tmp_path: Path) -> None:
    loaded = run(["demo"], tmp_path)
    case_id = loaded.stdout.split("case ")[1].split()[0]
    result = run(["read", "--demo", "--org", "om-amsterdam", case_id], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no case {case_id}"
    bad = run(["read", "--demo", "--org", "om-amsterdam", "not-a-uuid"], tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: not a case id: 'not-a-uuid'"


def test_decrypt_with_a_missing_key_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "events.json").write_text("[]")
    args = ["--key", "nope.json", "--keys", "keys.json", "--trust-keys", "events.json"]
    result = run(["decrypt", *args], tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_clients_add_prints_the_token_once_list_never_and_revoke_ends_it(tmp_path: Path) -> None:
    add = "clients add --demo --org arkin --role partner-system --name EPD-koppeling --days 30"
    added = run(add.split(), tmp_path)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert added.stdout == f"{token}\n"  # the token alone on stdout, for a script to take
    client_id = token.removeprefix("cs_").partition("_")[0]
    assert added.stderr.startswith(f"client {client_id} for arkin as partner-system, expires ")
    assert token not in added.stderr

    listed = run(["clients", "list", "--demo"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[:4] == [client_id, "arkin", "partner-system", "'EPD-koppeling'"]
    assert token not in listed.stdout + listed.stderr
    secret = token.removeprefix(f"cs_{client_id}_")  # base64url: it may hold "_" itself
    assert len(secret) >= 40 and secret not in listed.stdout
    assert run(["clients", "list", "--demo", "--org", "ymere"], tmp_path).stdout == ""

    settings = Settings(demo=True, var_dir=tmp_path / "var", policy_file=POLICY)
    services = build(settings)
    try:
        assert services.clients.authenticate(token).org_id == "arkin"
        revoked = run(["clients", "revoke", "--demo", client_id], tmp_path)
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.startswith(f"client {client_id} revoked at ")
        with pytest.raises(Unauthenticated):
            services.clients.authenticate(token)
    finally:
        services.close()
    assert "revoked" in run(["clients", "list", "--demo"], tmp_path).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "--org", "acme", "--role", "auditor", "--name", "x"], "unknown organisation"),
        (["add", "--org", "arkin", "--role", "admin", "--name", "x"], "unknown role 'admin'"),
        (["revoke", "0000000000000000"], "no client '0000000000000000'"),
    ],
)
def test_clients_refuse_bad_input_with_a_one_line_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(["clients", *args[:1], "--demo", *args[1:]], tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run(["--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"casestore {package_version('casestore')}"


def test_demo_finds_its_policy_inside_the_package_from_any_directory(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    result = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, "demo"], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "5 demo cases" in result.stdout


def real_settings(tmp_path: Path) -> dict[str, str]:
    """Settings outside demo mode, on an SQLite file, with secrets but no keys."""
    (tmp_path / "keys" / "public").mkdir(parents=True)
    return {
        "CASESTORE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "CASESTORE_PSEUDONYM_SECRET": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        "CASESTORE_MASTER_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        "CASESTORE_KEYS_DIR": str(tmp_path / "keys"),
    }


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_a_missing_private_key_is_a_one_line_configuration_error(tmp_path: Path) -> None:
    result = run(["clients", "list"], tmp_path, **real_settings(tmp_path))
    assert result.returncode == 2
    assert "no private key file for hosted organisation 'zvh-amsterdam-amstelland'" in one_line(
        result
    )


def test_a_bad_policy_is_a_one_line_configuration_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("region: [unclosed\n")
    result = run(["clients", "list", "--demo"], tmp_path, CASESTORE_POLICY_FILE=str(policy))
    assert result.returncode == 2
    assert one_line(result).startswith("error: ")


def test_an_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    for args in (["db", "status", "--demo"], ["clients", "list", "--demo"]):
        result = run(args, tmp_path, CASESTORE_DATABASE_URL=url)
        assert result.returncode == 3
        assert one_line(result).startswith("error: the database cannot be reached")


def test_db_status_and_migrate_say_where_the_schema_stands(tmp_path: Path) -> None:
    env = real_settings(tmp_path)
    before = run(["db", "status"], tmp_path, **env)
    assert before.returncode == 3
    assert before.stdout.startswith("schema version 0 of ")
    refused = run(
        ["clients", "list", "--demo"],
        tmp_path,
        CASESTORE_DATABASE_URL=env["CASESTORE_DATABASE_URL"],
        CASESTORE_MIGRATE="0",
    )
    assert refused.returncode == 3
    assert "run `casestore db migrate`" in one_line(refused)
    migrated = run(["db", "migrate"], tmp_path, **env)
    assert migrated.returncode == 0, migrated.stderr
    after = run(["db", "status"], tmp_path, **env)
    assert after.returncode == 0
    assert after.stdout.endswith("pending: none\n")


def test_grants_history_shows_each_grant_changed_after_the_fact_and_why(tmp_path: Path) -> None:
    demo = run(["demo"], tmp_path)
    assert demo.returncode == 0, demo.stderr
    case_ids = [line.split()[1] for line in demo.stdout.splitlines() if line.startswith("case ")]
    settings = Settings(demo=True, var_dir=tmp_path / "var", policy_file=POLICY)
    services = build(settings)
    try:
        # A case closed at triage: nobody joined, so no grant changed after the fact.
        closed = next(
            c
            for c in case_ids
            if not services.store.case(UUID(c)).is_open and not services.grants.history(UUID(c))
        )
    finally:
        services.close()
    untouched = run(["grants", "history", "--demo", closed], tmp_path)
    assert untouched.returncode == 0, untouched.stderr
    assert untouched.stdout == ""

    shred = ["shred", "--demo", closed, "--by", "fg-zvh", "--reason", "bewaartermijn verstreken"]
    assert run(shred, tmp_path).returncode == 0
    history = run(["grants", "history", "--demo", closed], tmp_path)

    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines
    for line in lines:
        assert "  revoked  " in line
        assert line.endswith("shredded by fg-zvh: bewaartermijn verstreken")


def test_policy_check_passes_the_demo_region_and_runs_its_cases(tmp_path: Path) -> None:
    checked = run(["policy", "check", str(POLICY)], tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "sound and lawful by the lint" in checked.stdout
    assert "cases pass" in checked.stdout


def test_policy_check_prints_one_line_per_problem_naming_rule_and_law(tmp_path: Path) -> None:
    police_rule = "    agreements: [convenant-zvh]\n    purpose: Tijdig optreden"
    text = POLICY.read_text(encoding="utf-8").replace(
        f"    receiving: [wpg-8]\n{police_rule}", f"    receiving: [avg-6-1-e-wgs]\n{police_rule}"
    )
    broken = tmp_path / "regio.yaml"
    broken.write_text(text, encoding="utf-8")

    checked = run(["policy", "check", str(broken)], tmp_path)

    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{broken}:") for line in lines)
    assert all("rule 'signalering-politie'" in line for line in lines)
    assert "processes under the Wpg, not the AVG" in lines[0]


def test_policy_check_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    checked = run(["policy", "check", str(tmp_path / "nope.yaml")], tmp_path)

    assert checked.returncode == 2
    assert "no policy file" in checked.stderr


def test_retention_commands_hold_destroy_and_show_the_verklaring_and_figures(
    tmp_path: Path,
) -> None:
    demo = run(["demo"], tmp_path)
    assert demo.returncode == 0, demo.stderr
    case_ids = [line.split()[1] for line in demo.stdout.splitlines() if line.startswith("case ")]
    settings = Settings(demo=True, var_dir=tmp_path / "var", policy_file=POLICY)
    services = build(settings)
    try:
        closed = next(c for c in case_ids if not services.store.case(UUID(c)).is_open)
    finally:
        services.close()

    dry = run(["retention", "run", "--dry-run", "--demo"], tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[-1].endswith("would destroy 0 case(s); 0 held")

    hold = ["retention", "hold", "--demo", closed, "--reason", "rechtszaak", "--by", "fg"]
    held = run(hold, tmp_path)
    assert held.returncode == 0, held.stderr
    shred = ["shred", "--demo", closed, "--by", "fg-zvh", "--reason", "verzoek betrokkene"]
    refused = run(shred, tmp_path)
    assert refused.returncode != 0
    assert refused.stderr.count("\n") == 1 and "legal hold" in refused.stderr
    missing = run(["retention", "verklaring", "--demo", closed], tmp_path)
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1

    assert run(["retention", "release", "--demo", closed, "--by", "fg"], tmp_path).returncode == 0
    assert run(shred, tmp_path).returncode == 0
    shown = run(["retention", "verklaring", "--demo", closed], tmp_path)
    assert shown.returncode == 0, shown.stderr
    verklaring = json.loads(shown.stdout)
    assert verklaring["document"]["case_id"] == closed
    assert verklaring["document"]["reason"] == "verzoek betrokkene"
    assert verklaring["signature"]["org_id"] == ZVH

    # The demo spans less than the region's 24 months of stability: no candidate yet.
    candidates = run(["uitstroom", "candidates", "--demo"], tmp_path)
    assert candidates.returncode == 0, candidates.stderr
    assert json.loads(candidates.stdout) == []

    figures = run(["figures", "--demo"], tmp_path)
    assert figures.returncode == 0, figures.stderr
    report = json.loads(figures.stdout)
    assert report["suppressed_below"] == 5 and report["cells"]


def test_the_timeline_prints_as_tables_and_as_json(tmp_path: Path) -> None:
    loaded = run(["demo"], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    case_id = loaded.stdout.split("case ")[1].split()[0]
    as_json = run(
        ["timeline", "--demo", case_id, "--view", "politie-amsterdam", "--json"], tmp_path
    )
    assert as_json.returncode == 0, as_json.stderr
    found = json.loads(as_json.stdout)
    assert found["view"] == "politie-amsterdam" and found["reader"] == CUSTODIAN
    [signal] = [e for e in found["entries"] if e["event_type"] == "signalering"]
    assert signal["fields"]["toelichting"]["withheld"] is True
    tables = run(["timeline", "--demo", case_id], tmp_path, COLUMNS="200")
    assert tables.returncode == 0, tables.stderr
    assert "Care level" in tables.stdout and "Entries" in tables.stdout
    assert "aanmelding" in tables.stdout
    unknown = run(["timeline", "--demo", case_id, "--view", "nobody"], tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: no organisation 'nobody'")
