"""An organisation the service hosts rotates its keys without restarting anything:
`casestore keys rotate` in another process puts the new private key into the service's
key directory and the generation into the store, and the running server decrypts and
signs for it with the new generation, while the old generation's grants keep opening
until the rotation is confirmed. On SQLite and PostgreSQL, with `casestore serve` as a
process of its own."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestore.adapters.keyring import REFRESH_SECONDS
from casestore.bootstrap import Services, build
from casestore.services.keys import KeyManagementError
from casestore.settings import Settings
from sharing.client import open_fields
from sharing.keys import OrgPrivateKeys
from tests.e2e.server import serve_env, serve_process
from tests.factories import GEMEENTE, POLITIE, ZVH, aanmelding, fresh_bsn, run, signalering

HOSTED = [ZVH, GEMEENTE]


@pytest.fixture
def hosting(settings: Settings) -> Settings:
    """The demo region, with the gemeente hosted by the service beside the custodian."""
    return settings.model_copy(update={"hosted": HOSTED})


@pytest.fixture
def live(hosting: Settings) -> Iterator[Services]:
    services = build(hosting)
    try:
        yield services
    finally:
        services.close()


def test_a_running_server_follows_a_hosted_organisations_rotation(
    live: Services, hosting: Settings, tmp_path: Path
) -> None:
    # A loaded test machine may take more than the default second to hand a process a
    # PostgreSQL connection; what is tested here is the keys, not that second.
    env = {
        **serve_env(hosting),
        "CASESTORE_HOSTED": json.dumps(HOSTED),
        "CASESTORE_DATABASE_WAIT": "10",
    }
    keys_dir = hosting.key_directory / "private"
    old = OrgPrivateKeys.from_json(json.loads((keys_dir / f"{GEMEENTE}.json").read_text()))
    token = live.clients.add(GEMEENTE, "partner-system", "e2e").token
    with serve_process(env, tmp_path) as base_url:
        gemeente = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        with gemeente:
            payload = aanmelding(fresh_bsn())
            opened = gemeente.post("/v1/cases", json={"payload": payload})
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["case_id"]

            def events(*, decrypt: bool) -> list[dict[str, Any]]:
                params = {"decrypt": "true"} if decrypt else {}
                got = gemeente.get(f"/v1/cases/{case_id}/events", params=params)
                assert got.status_code == 200, got.text
                body: list[dict[str, Any]] = got.json()
                return body

            def write() -> dict[str, Any]:
                body = {"type": "signalering", "payload": signalering()}
                written = gemeente.post(f"/v1/cases/{case_id}/events", json=body)
                assert written.status_code == 201, written.text
                [event] = [
                    e for e in events(decrypt=False) if e["version"] == written.json()["version"]
                ]
                return event

            def granted(event: dict[str, Any]) -> set[str]:
                return {g["key_id"] for g in event["grants"] if g["org_id"] == GEMEENTE}

            first = write()
            assert granted(first) == {old.public.enc_key_id}
            assert first["signature"]["key_id"] == old.public.sign_key_id

            rotated = run(["keys", "rotate", GEMEENTE], tmp_path, **env)
            assert rotated.returncode == 0, rotated.stderr
            new_file = keys_dir / GEMEENTE / "2.json"
            assert str(new_file) in rotated.stdout
            new = OrgPrivateKeys.from_json(json.loads(new_file.read_text()))
            both = {old.public.enc_key_id, new.public.enc_key_id}

            # The overlap: what is written now is sealed to both generations and signed
            # with the new one; the history was re-granted to the new one, and every
            # grant of the old one still opens.
            second = write()
            assert granted(second) == both
            assert second["signature"]["key_id"] == new.public.sign_key_id
            history = events(decrypt=False)
            assert all(granted(e) == both for e in history)
            for key in (old, new):
                for event in history:
                    mine = [g for g in event["grants"] if g["key_id"] == key.public.enc_key_id]
                    assert open_fields(event, event["sealed"], mine, [key.decryption_key])
            served = events(decrypt=True)
            assert served[0]["payload"]["bsn"] == payload["bsn"]
            assert all(e["payload"] for e in served)

            # Confirmed: the old generation's grants are revoked, and the server, never
            # restarted, opens the history and signs with the new generation alone.
            confirmed = run(["keys", "confirm", GEMEENTE, "2"], tmp_path, **env)
            assert confirmed.returncode == 0, confirmed.stderr
            assert all(granted(e) == {new.public.enc_key_id} for e in events(decrypt=False))
            third = write()
            assert granted(third) == {new.public.enc_key_id}
            assert third["signature"]["key_id"] == new.public.sign_key_id
            served = events(decrypt=True)
            assert [e["payload"]["bsn"] for e in served[:1]] == [payload["bsn"]]
            assert len(served) == 4 and all(e["payload"] for e in served)


def test_the_custodian_is_not_rotated_and_a_hosted_key_goes_to_no_named_file(
    live: Services, tmp_path: Path
) -> None:
    with pytest.raises(KeyManagementError, match="custodian"):
        live.keys.rotate(ZVH)
    with pytest.raises(KeyManagementError, match="leave out --out"):
        live.keys.rotate(GEMEENTE, tmp_path / "gemeente-2.json")
    assert not (tmp_path / "gemeente-2.json").exists()
    with pytest.raises(KeyManagementError, match="--out"):
        live.keys.rotate(POLITIE)  # a partner's key is never kept by the service
    assert [r.generation for r in live.keys.of(POLITIE)] == [None]
    assert [r.generation for r in live.keys.of(GEMEENTE)] == [None]


def test_a_process_whose_key_directory_lags_finds_the_new_key_when_it_arrives(
    live: Services, hosting: Settings, tmp_path: Path
) -> None:
    """Another process with its own copy of the key directory, which the new key file has
    not reached when the generation does: it keeps signing with the generation it holds,
    and opens with the new one as soon as the file is there, without a restart."""
    lagging_dir = tmp_path / "lagging-keys"
    shutil.copytree(hosting.key_directory, lagging_dir)
    other = build(hosting.model_copy(update={"keys_dir": lagging_dir}))
    try:
        old = other.sealer.keyring.signing_key(GEMEENTE).key_id
        made = live.keys.rotate(GEMEENTE)
        new = OrgPrivateKeys.from_json(json.loads(made.private_file.read_text()))
        time.sleep(REFRESH_SECONDS * 2)
        keyring = other.sealer.keyring
        assert new.public.enc_key_id in {r.enc_key_id for r in keyring.generations(GEMEENTE)}
        assert keyring.signing_key(GEMEENTE).key_id == old
        assert new.public.enc_key_id not in {k.key_id for k in keyring.decryption_keys(GEMEENTE)}

        arrived = lagging_dir / made.private_file.relative_to(hosting.key_directory)
        arrived.parent.mkdir()
        shutil.copy(made.private_file, arrived)
        time.sleep(REFRESH_SECONDS * 2)
        assert new.public.enc_key_id in {k.key_id for k in keyring.decryption_keys(GEMEENTE)}
        assert keyring.signing_key(GEMEENTE).key_id == new.public.sign_key_id
    finally:
        other.close()
