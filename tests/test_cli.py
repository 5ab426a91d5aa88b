"""The command line as a user meets it: one-line errors, non-zero exits, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "casestore.cli"]
POLICY = Path(__file__).resolve().parents[1] / "policies" / "amsterdam-amstelland.yaml"


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
