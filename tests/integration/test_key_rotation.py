"""Key rotation with an overlap window, on SQLite and PostgreSQL: after a rotation both
generations are granted until the partner confirms the new one; only then do the old
generation's grants go. Private keys go to the file the operator names, never the store.
"""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from casestore.adapters.keyring import REFRESH_SECONDS
from casestore.bootstrap import Services, build
from casestore.domain.errors import CaseNotFound
from casestore.entrypoints import demo
from casestore.services.keys import KeyManagementError, UnknownGeneration
from casestore.settings import Settings
from sharing.client import open_fields
from sharing.keys import DecryptionKey, OrgPrivateKeys
from tests.factories import Clock, signalering, submit

POLITIE = demo.POLITIE
ZVH = demo.ZVH


def file_key(settings: Settings, org: str) -> DecryptionKey:
    path = settings.key_directory / "private" / f"{org}.json"
    return OrgPrivateKeys.from_json(json.loads(path.read_text())).decryption_key


def read_key(path: Path) -> DecryptionKey:
    return OrgPrivateKeys.from_json(json.loads(path.read_text())).decryption_key


def police_case(services: Services) -> UUID:
    """An open demo case whose signaleringen the police receive: one of whose network
    they are (a bekendheidsvraag reaches the police of other cases too)."""
    for recorded in list(demo.load(services.store)):
        case_id = recorded.case_id
        case = services.store.case(case_id)
        member = case.is_open and POLITIE in case.network
        if member and any(e.grants for e in _received(services, case_id)):
            services.grants.reconcile_all("retention")  # what the demo's terms ended
            return case_id
    raise AssertionError("no demo case shares with the police")


def _received(services: Services, case_id: UUID) -> list[Any]:
    try:
        return services.disclosure.read_case(POLITIE, case_id)
    except CaseNotFound:  # the police receive nothing of this case
        return []


def granted(services: Services, case_id: UUID) -> list[Any]:
    return [e for e in services.disclosure.read_case(POLITIE, case_id) if e.grants]


def opens(event: Any, key: DecryptionKey) -> set[str]:
    return set(open_fields(event.context, event.sealed, event.grants, [key]))


def every_field(event: Any) -> set[str]:
    return {name for g in event.grants for name in g["fields"]}


def test_rotate_writes_the_private_key_only_to_the_named_file(
    services: Services, tmp_path: Path
) -> None:
    out = tmp_path / "operator" / "politie-2.json"
    made = services.keys.rotate(POLITIE, out)
    assert made.public.generation == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private = json.loads(out.read_text())
    assert private["generation"] == 2
    rows = services.keys.table.of(POLITIE)
    assert [r.generation for r in rows] == [1, 2]  # the key file's generation copied in
    stored = json.dumps([vars(r) for r in rows], default=str)
    assert private["enc_private_key"] not in stored
    assert private["sign_seed"] not in stored
    with pytest.raises(KeyManagementError, match="exists"):
        services.keys.rotate(POLITIE, out)  # never overwritten
    assert [r.generation for r in services.keys.table.of(POLITIE)] == [1, 2]


def test_reconcile_keeps_the_old_generations_grants_until_the_partner_confirms(
    services: Services, settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    """The regression: reconcile used to delete every grant to the old key as soon as a
    new one was published, so a partner that had not installed it lost its history."""
    case_id = police_case(services)
    old = file_key(settings, POLITIE)
    clock.advance(hours=1)
    new = read_key(services.keys.rotate(POLITIE, tmp_path / "new.json").private_file)

    changes = services.grants.reconcile_all("rotation")
    assert changes.granted > 0
    assert changes.revoked == 0
    history = granted(services, case_id)
    for event in history:
        assert opens(event, old) == every_field(event)  # the partner still reads it all
        assert opens(event, new) == every_field(event)  # and so does the new key
    assert services.grants.reconcile_all("again") == type(changes)(0, 0, 0, 0)

    clock.advance(hours=1)
    services.keys.confirm(POLITIE, 2)
    confirmed = services.grants.reconcile_all("confirmed")
    assert confirmed.revoked > 0 and confirmed.granted == 0
    for event in granted(services, case_id):
        assert opens(event, old) == set()
        assert opens(event, new) == every_field(event)


def test_new_events_are_sealed_to_both_generations_during_the_overlap(
    services: Services, tmp_path: Path, clock: Clock
) -> None:
    case_id = police_case(services)
    old_id = services.keys.of(POLITIE)[0].enc_key_id
    new_file = tmp_path / "new.json"
    new_id = services.keys.rotate(POLITIE, new_file).public.enc_key_id

    def latest_key_ids() -> set[str]:
        latest = services.store.append(case_id, submit("signalering", signalering(), ZVH))
        [event] = [
            e
            for e in services.disclosure.read_case(POLITIE, case_id)
            if e.version == latest.version
        ]
        return {g["key_id"] for g in event.grants}

    assert latest_key_ids() == {old_id, new_id}
    clock.advance(minutes=5)
    services.keys.confirm(POLITIE, 2)
    assert latest_key_ids() == {new_id}


def test_generate_confirm_and_their_refusals(services: Services, tmp_path: Path) -> None:
    with pytest.raises(KeyManagementError, match="already has keys"):
        services.keys.generate(POLITIE, tmp_path / "a.json")
    assert not (tmp_path / "a.json").exists()
    with pytest.raises(UnknownGeneration):
        services.keys.rotate("no-such-org", tmp_path / "b.json")
    with pytest.raises(KeyManagementError, match="hosted"):
        services.keys.rotate(ZVH, tmp_path / "c.json")
    services.keys.rotate(POLITIE, tmp_path / "d.json")
    with pytest.raises(UnknownGeneration):
        services.keys.confirm(POLITIE, 3)
    first = services.keys.confirm(POLITIE, 2)
    assert services.keys.confirm(POLITIE, 2) == first  # again: nothing changes
    with pytest.raises(KeyManagementError, match="retired"):
        services.keys.confirm(POLITIE, 1)
    [one, two] = services.keys.of(POLITIE)
    assert one.retired_at is not None and two.retired_at is None
    assert two.confirmed_at is not None


def test_an_organisation_without_keys_gets_its_first_generation(
    services: Services, tmp_path: Path
) -> None:
    del services.sealer.keyring.public[POLITIE]  # as if its key file was never made
    with pytest.raises(KeyManagementError, match="no keys yet"):
        services.keys.rotate(POLITIE, tmp_path / "x.json")
    made = services.keys.generate(POLITIE, tmp_path / "first.json")
    assert made.public.generation == 1 and made.public.confirmed_at is not None
    case_id = police_case(services)
    key = read_key(made.private_file)
    assert all(opens(e, key) == every_field(e) for e in granted(services, case_id))


@pytest.fixture
def second_process(settings: Settings, clock: Clock) -> Iterator[Services]:
    other = build(settings, clock=clock)
    try:
        yield other
    finally:
        other.close()


def test_another_process_seals_to_a_new_generation_without_a_restart(
    services: Services, second_process: Services, tmp_path: Path
) -> None:
    case_id = police_case(services)
    second_process.store.append(case_id, submit("signalering", signalering(), ZVH))
    new_id = services.keys.rotate(POLITIE, tmp_path / "new.json").public.enc_key_id
    time.sleep(REFRESH_SECONDS * 1.5)
    latest = second_process.store.append(case_id, submit("signalering", signalering(), ZVH))
    [event] = [e for e in granted(services, case_id) if e.version == latest.version]
    assert new_id in {g["key_id"] for g in event.grants}


def test_housekeeping_reconciles_after_a_rotation_and_after_a_confirmation(
    services: Services, tmp_path: Path, clock: Clock
) -> None:
    case_id = police_case(services)
    services.housekeeping.run_once()  # the first pass settles whatever came before
    clock.advance(minutes=1)
    new = read_key(services.keys.rotate(POLITIE, tmp_path / "new.json").private_file)
    clock.advance(minutes=1)
    done = services.housekeeping.run_once()
    assert done is not None and done.changes is not None and done.changes.granted > 0
    assert "key generation 2 of politie-amsterdam came into use" in str(done.crossed[0])
    clock.advance(minutes=1)
    services.keys.confirm(POLITIE, 2)
    clock.advance(minutes=1)
    done = services.housekeeping.run_once()
    assert done is not None and done.changes is not None and done.changes.revoked > 0
    for event in granted(services, case_id):
        assert {g["key_id"] for g in event.grants} == {new.key_id}


@pytest.fixture
def held(settings: Settings) -> dict[str, DecryptionKey]:
    """The police's private keys by key id, as the police keep them: shared by every
    example of a property, as the database is."""
    key = file_key(settings, POLITIE)
    return {key.key_id: key}


@pytest.fixture
def case_of_police(services: Services) -> UUID:
    return police_case(services)


@given(
    before=st.integers(min_value=0, max_value=2),
    during=st.integers(min_value=0, max_value=2),
    after=st.integers(min_value=1, max_value=2),
    reconcile_during=st.booleans(),
)
@hypothesis_settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_retired_generation_opens_nothing_granted_after_it_and_both_open_everything_before(
    services: Services,
    held: dict[str, DecryptionKey],
    case_of_police: UUID,
    tmp_path_factory: pytest.TempPathFactory,
    before: int,
    during: int,
    after: int,
    reconcile_during: bool,
) -> None:
    """However many events are written before, during and after a rotation's overlap:
    during it the old and the new generation each open every granted field; once the new
    one is confirmed, the retired one opens no grant created after its retirement, and
    after reconciling none at all."""
    store, keys, case_id = services.store, services.keys, case_of_police

    def write(times: int) -> set[int]:
        return {
            store.append(case_id, submit("signalering", signalering(), ZVH)).version
            for _ in range(times)
        }

    write(before)
    old = held[keys.of(POLITIE)[-1].enc_key_id]
    made = keys.rotate(POLITIE, tmp_path_factory.mktemp("keys") / "new.json")
    new = held.setdefault(made.public.enc_key_id, read_key(made.private_file))
    written_during = write(during)
    if reconcile_during:
        services.grants.reconcile_all("rotation")
    for event in granted(services, case_id):
        if reconcile_during or event.version in written_during:
            assert opens(event, old) == every_field(event)
            assert opens(event, new) == every_field(event)

    assert made.public.generation is not None
    keys.confirm(POLITIE, made.public.generation)
    retired = [k for k in held.values() if k.key_id != new.key_id]
    written_after = write(after)
    for event in granted(services, case_id):
        if event.version in written_after:
            assert all(opens(event, key) == set() for key in retired)
            assert opens(event, new) == every_field(event)
    services.grants.reconcile_all("confirmed")
    for event in granted(services, case_id):
        assert all(opens(event, key) == set() for key in retired)
        assert opens(event, new) == every_field(event)
