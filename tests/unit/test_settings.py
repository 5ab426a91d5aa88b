"""Settings are values: reading them creates nothing; demo secrets are made by bootstrap,
once, and a missing secret outside demo mode is a one-line error naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from casestore.bootstrap import prepare
from casestore.settings import Settings, SettingsError


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_reading_demo_settings_creates_nothing(tmp_path: Path) -> None:
    settings = Settings(demo=True, var_dir=tmp_path / "var")
    settings.eventsourcing_env()
    assert settings.key_directory == tmp_path / "var" / "demo" / "keys"
    with pytest.raises(SettingsError, match="CASESTORE_MASTER_KEY"):
        settings.master()
    assert not (tmp_path / "var").exists()


def test_prepare_makes_the_demo_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = prepare(Settings(demo=True, var_dir=tmp_path / "var"))
    made = files_under(tmp_path)
    assert {p.name for p in made} == {"pseudonym.key", "master.key"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in made)
    second = prepare(Settings(demo=True, var_dir=tmp_path / "var"))
    assert second.pseudonym_key() == first.pseudonym_key()
    assert second.master().reveal() == first.master().reveal()
    assert (tmp_path / "var").is_dir()  # the SQLite file's directory


def test_a_configured_secret_wins_over_the_demo_file(tmp_path: Path) -> None:
    key = tmp_path / "pseudonym.b64"
    key.write_text("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=\n")
    settings = prepare(Settings(demo=True, var_dir=tmp_path / "var", pseudonym_secret_file=key))
    assert settings.pseudonym_key() == b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
    assert not (tmp_path / "var" / "demo" / "pseudonym.key").exists()


def test_outside_demo_mode_a_missing_secret_names_its_setting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CASESTORE_PSEUDONYM_SECRET or CASESTORE_PSEUDONYM"):
        Settings(var_dir=tmp_path, keys_dir=tmp_path, master_key_file=tmp_path / "m")


def test_an_unreadable_secret_file_is_a_settings_error(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path,
        keys_dir=tmp_path,
        pseudonym_secret_file=tmp_path / "missing",
        master_key_file=tmp_path / "missing-too",
    )
    with pytest.raises(SettingsError, match="CASESTORE_PSEUDONYM_SECRET_FILE: cannot read"):
        settings.pseudonym_key()
    with pytest.raises(SettingsError, match="CASESTORE_MASTER_KEY"):
        settings.master()
