"""The command line as a user meets it: one-line errors, non-zero exits, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from casestore.bootstrap import build
from casestore.services.clients import Unauthenticated
from casestore.settings import Settings
from tests.factories import POLICY

CLI = [sys.executable, "-m", "casestore.entrypoints.cli"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    clean["CASESTORE_POLICY_FILE"] = str(POLICY)
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_demo_loads_cases_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    first = run(["demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "4 demo cases" in first.stdout
    assert "(0 new)" not in first.stdout
    second = run(["demo"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "(0 new)" in second.stdout
    assert (tmp_path / "var" / "casestore.sqlite3").exists()


def test_missing_secret_outside_demo_mode_is_a_one_line_error(tmp_path: Path) -> None:
    result = run(["db", "init"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CASESTORE_PSEUDONYM_SECRET" in lines[0]
    assert not (tmp_path / "var").exists()


def test_unsupported_database_url_is_refused_by_name(tmp_path: Path) -> None:
    result = run(["db", "init", "--demo"], tmp_path, CASESTORE_DATABASE_URL="mysql://x/y")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: CASESTORE_DATABASE_URL: unsupported scheme 'mysql' "
        "(use postgresql://… or sqlite:///…)"
    )


@pytest.mark.parametrize("secret", ["not base64!", "c2hvcnQ="])
def test_a_bad_pseudonym_secret_is_refused(tmp_path: Path, secret: str) -> None:
    result = run(
        ["db", "init"],
        tmp_path,
        CASESTORE_PSEUDONYM_SECRET=secret,
        CASESTORE_MASTER_KEY="A" * 43 + "=",
        CASESTORE_KEYS_DIR=str(tmp_path / "keys"),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: CASESTORE_PSEUDONYM_SECRET:")


def test_a_partner_decrypts_what_it_receives_with_its_own_key(tmp_path: Path) -> None:
    loaded = run(["demo"], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    case_id = loaded.stdout.split("case ")[1].split()[0]
    received = run(["read", "--demo", "--org", "politie-amsterdam", case_id], tmp_path)
    assert received.returncode == 0, received.stderr
    (tmp_path / "events.json").write_text(received.stdout)
    key = tmp_path / "var" / "demo" / "keys" / "private" / "politie-amsterdam.json"
    opened = run(["decrypt", "--key", str(key), "events.json"], tmp_path)
    assert opened.returncode == 0, opened.stderr
    events = json.loads(opened.stdout)
    signalering = next(e for e in events if e["event_type"] == "signalering")
    assert set(signalering["fields"]) == {"categorie", "ernst", "gevraagde_actie"}
    assert "Schizofrenie" not in opened.stdout and "Schizofrenie" not in received.stdout

    wrong_key = tmp_path / "var" / "demo" / "keys" / "private" / "ymere.json"
    refused = run(["decrypt", "--key", str(wrong_key), "events.json"], tmp_path)
    assert refused.returncode == 0  # another partner's key simply opens none of these grants
    assert all(not e["fields"] for e in json.loads(refused.stdout))


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
    result = run(["decrypt", "--key", "nope.json", "events.json"], tmp_path)
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
