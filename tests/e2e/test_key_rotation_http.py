"""A rotation reaches a running server without a restart: `casestore keys rotate` in
another process, against the same database, and the server's next event is sealed to the
new generation too; the partner then confirms over HTTP with its own token. On SQLite and
PostgreSQL, with `casestore serve` as a process of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from casestore.bootstrap import Services, build
from casestore.settings import Settings
from sharing.keys import OrgPrivateKeys
from tests.e2e.server import serve_env, serve_process
from tests.factories import aanmelding, fresh_bsn, run, signalering

GEMEENTE = "gemeente-amsterdam"
YMERE = "ymere"


@pytest.fixture
def live(settings: Settings) -> Iterator[Services]:
    """The store on the wall clock, as the server and the command line see it."""
    services = build(settings)
    try:
        yield services
    finally:
        services.close()


def test_a_running_server_seals_to_a_rotated_generation_and_the_partner_confirms_it(
    live: Services, settings: Settings, tmp_path: Path
) -> None:
    env = serve_env(settings)
    token = live.clients.add(GEMEENTE, "partner-system", "e2e").token
    other = live.clients.add(YMERE, "partner-system", "e2e").token
    with serve_process(env, tmp_path) as base_url:
        gemeente = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        ymere = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {other}"}, timeout=30
        )
        with gemeente, ymere:
            opened = gemeente.post("/v1/cases", json={"payload": aanmelding(fresh_bsn())})
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["case_id"]

            def key_ids_of_a_new_event() -> set[str]:
                body = {"type": "signalering", "payload": signalering()}
                written = gemeente.post(f"/v1/cases/{case_id}/events", json=body)
                assert written.status_code == 201, written.text
                [event] = [
                    e
                    for e in live.disclosure.read_case(GEMEENTE, UUID(case_id))
                    if e.version == written.json()["version"]
                ]
                return {g["key_id"] for g in event.grants}

            [first] = live.keys.of(GEMEENTE)
            assert key_ids_of_a_new_event() == {first.enc_key_id}

            new_file = tmp_path / "gemeente-2.json"
            rotated = run(["keys", "rotate", GEMEENTE, "--out", str(new_file)], tmp_path, **env)
            assert rotated.returncode == 0, rotated.stderr
            new = OrgPrivateKeys.from_json(json.loads(new_file.read_text())).public
            assert key_ids_of_a_new_event() == {first.enc_key_id, new.enc_key_id}

            listed = gemeente.get("/v1/keys").json()["document"]["keys"]
            mine = [k for k in listed if k["org_id"] == GEMEENTE]
            assert [(k["generation"], k["confirmed_at"] is None) for k in mine] == [
                (1, False),
                (2, True),
            ]

            path = f"/v1/keys/{GEMEENTE}/generations"
            refused = ymere.post(f"{path}/2/confirm")  # not its own organisation
            assert refused.status_code == 404
            assert refused.headers["content-type"] == "application/problem+json"
            assert gemeente.post(f"{path}/3/confirm").status_code == 404
            confirmed = gemeente.post(f"{path}/2/confirm")
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["generation"] == 2
            assert confirmed.json()["confirmed_at"] is not None
            assert key_ids_of_a_new_event() == {new.enc_key_id}
            late = gemeente.post(f"{path}/1/confirm")
            assert late.status_code == 409 and "retired" in late.json()["detail"]

            listed = gemeente.get("/v1/keys").json()["document"]["keys"]
            mine = [k for k in listed if k["org_id"] == GEMEENTE]
            assert mine[0]["retired_at"] is not None and mine[1]["retired_at"] is None
