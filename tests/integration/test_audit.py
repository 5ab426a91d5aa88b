"""The audit trail: what the services chain, in which transaction, and that tampering with
any stored row is found by `verify`. Both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from casestore.adapters.persistence.audit_table import GENESIS, chain_hash
from casestore.bootstrap import Services
from casestore.services.audit import (
    CASE_READ,
    CASE_SHREDDED,
    EVENT_RECORDED,
    FEED_READ,
    GRANT_CREATED,
    GRANT_REVOKED,
    SEARCH_CASE,
    Actor,
    acting,
)
from tests.factories import (
    GGZ,
    POLITIE,
    UITSTROOM,
    ZVH,
    aanmelding,
    fresh_bsn,
    include,
    open_case,
    signalering,
    submit,
)


def entries(services: Services) -> list[dict[str, Any]]:
    return [item["entry"] for item in services.audit.export()]


def actions(services: Services) -> list[str]:
    return [e["action"] for e in entries(services)]


def test_a_recording_chains_the_event_and_each_grant_in_its_own_transaction(
    services: Services,
) -> None:
    actor = Actor(client="c1", organisation=GGZ, role="partner-system", on_behalf_of="arts-12")
    with acting(actor):
        opened = open_case(services.store)
    trail = entries(services)
    recorded = [e for e in trail if e["action"] == EVENT_RECORDED]
    granted = [e for e in trail if e["action"] == GRANT_CREATED]
    assert len(recorded) == 1
    assert recorded[0]["case"] == str(opened.case_id)
    assert recorded[0]["events"] == [opened.event_id]
    assert recorded[0]["client"] == "c1"
    assert recorded[0]["on_behalf_of"] == "arts-12"
    assert recorded[0]["person"] is not None
    assert recorded[0]["trace_id"] == actor.trace_id
    assert {g["receiver"] for g in granted} == {
        g.org_id for g in services.store.records.tables.grants_of_case(str(opened.case_id))
    }
    assert all(g["rules"] and g["activities"] for g in granted)
    assert all(g["grounds"] for g in granted if g["rules"] != ["author"])
    assert all(a.endswith("@" + g["policy_version"]) for g in granted for a in g["activities"])
    assert services.audit.verify().ok


def test_an_event_whose_entries_cannot_be_chained_is_not_recorded(services: Services) -> None:
    """The entries are written in the save's own transaction: when the trail refuses them
    (here the next place in the chain is taken by a row put there by hand), the event, its
    grants and its access rows are not stored either."""
    open_case(services.store)
    backend = services.audit.table.backend
    head = backend.one(f"SELECT seq FROM {backend.table('audit_head')}")
    squatter = _row(services, 1) | {"seq": int(head["seq"]) + 1}
    columns = ", ".join(squatter)
    marks = ", ".join(["%s"] * len(squatter))
    _sql(
        services,
        f"INSERT INTO {backend.table('audit')} ({columns}) VALUES ({marks})",
        tuple(squatter.values()),
    )
    services.store.write_patience = 0.2
    position = services.store.max_position()
    with pytest.raises(Exception):  # noqa: B017 - the backend's integrity error, or busy
        open_case(services.store)
    assert services.store.max_position() == position


def test_reads_searches_reconciliations_and_shredding_are_chained(services: Services) -> None:
    store = services.store
    opened = open_case(store)
    include(store, opened.case_id)
    store.append(opened.case_id, submit("signalering", signalering(), ZVH))
    start = len(entries(services))
    services.disclosure.read_case(ZVH, opened.case_id)
    services.disclosure.feed(ZVH, 0, 1000)
    services.bekendheid.check(ZVH, opened.case_id)
    store.append(opened.case_id, submit("uitstroom", UITSTROOM, ZVH))
    services.grants.shred(opened.case_id, by="privacy officer", reason="retention ended")
    later = entries(services)[start:]
    kinds = [e["action"] for e in later]
    assert kinds[:3] == [CASE_READ, FEED_READ, SEARCH_CASE]
    assert later[0]["receiver"] == ZVH and later[0]["case"] == str(opened.case_id)
    assert CASE_SHREDDED in kinds and GRANT_REVOKED in kinds
    assert services.audit.verify().ok


# ---- tampering --------------------------------------------------------------------------------


def _trail_of(services: Services, n_cases: int = 3) -> None:
    for _ in range(n_cases):
        opened = open_case(services.store)
        services.disclosure.read_case(GGZ, opened.case_id)


def _sql(services: Services, statement: str, params: tuple[Any, ...] = ()) -> None:
    services.audit.table.backend.write(statement, params)


def _row(services: Services, seq: int) -> dict[str, Any]:
    table = services.audit.table.backend.table("audit")
    row = services.audit.table.backend.one(f"SELECT * FROM {table} WHERE seq = %s", (seq,))
    assert row is not None
    return dict(row)


def test_an_untouched_trail_verifies_with_its_checkpoints(services: Services) -> None:
    _trail_of(services)
    first = services.audit.checkpoint()
    assert first is not None
    assert services.audit.checkpoint() is None  # nothing chained since
    _trail_of(services, 1)
    assert services.audit.checkpoint() is not None
    result = services.audit.verify()
    assert result.ok, result.problem
    assert result.checkpoints == 2 and result.entries > first.seq


@pytest.mark.parametrize("kind", ["change", "delete", "insert", "reorder", "truncate"])
def test_tampering_with_any_stored_row_is_named_by_verify(services: Services, kind: str) -> None:
    _trail_of(services)
    assert services.audit.checkpoint() is not None
    total = services.audit.verify().entries
    assert total >= 6
    table = services.audit.table.backend.table("audit")
    target = 3
    if kind == "change":
        row = _row(services, target)
        entry = json.loads(row["entry"])
        entry["receiver"] = POLITIE
        _sql(
            services,
            f"UPDATE {table} SET entry = %s WHERE seq = %s",
            (json.dumps(entry, sort_keys=True, separators=(",", ":")), target),
        )
        expected = f"entry {target} was changed"
    elif kind == "delete":
        _sql(services, f"DELETE FROM {table} WHERE seq = %s", (target,))
        expected = f"entry {target} is missing"
    elif kind == "insert":
        # Room made by renumbering the tail, and a well-formed row put in the gap.
        _sql(services, f"UPDATE {table} SET seq = seq + 1000 WHERE seq >= %s", (target,))
        _sql(services, f"UPDATE {table} SET seq = seq - 999 WHERE seq >= %s", (target + 1000,))
        forged = _row(services, target - 1)
        forged["seq"] = target
        columns = ", ".join(forged)
        marks = ", ".join(["%s"] * len(forged))
        _sql(services, f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(forged.values()))
        expected = f"entry {target} does not follow"
    elif kind == "reorder":
        _sql(services, f"UPDATE {table} SET seq = -1 WHERE seq = %s", (target,))
        _sql(services, f"UPDATE {table} SET seq = %s WHERE seq = %s", (target, target + 1))
        _sql(services, f"UPDATE {table} SET seq = %s WHERE seq = -1", (target + 1,))
        expected = f"entry {target} does not follow"
    else:
        _sql(services, f"DELETE FROM {table} WHERE seq > %s", (total - 2,))
        expected = "truncated"
    result = services.audit.verify()
    assert not result.ok
    assert result.problem is not None and expected in result.problem, result.problem


def test_a_rewritten_trail_is_caught_by_the_signed_checkpoint(services: Services) -> None:
    """Whoever recomputes every hash after a change still cannot sign the checkpoint."""
    _trail_of(services)
    assert services.audit.checkpoint() is not None
    table = services.audit.table.backend.table("audit")
    rows = [_row(services, seq) for seq in range(1, services.audit.verify().entries + 1)]
    previous = GENESIS
    for row in rows:
        entry = row["entry"].replace(GGZ, POLITIE) if row["seq"] == 2 else row["entry"]
        digest = chain_hash(entry.encode(), previous)
        _sql(
            services,
            f"UPDATE {table} SET entry = %s, previous = %s, hash = %s WHERE seq = %s",
            (entry, previous, digest, row["seq"]),
        )
        previous = digest
    result = services.audit.verify()
    assert not result.ok and result.problem is not None
    assert "signed checkpoint" in result.problem


def test_a_forged_checkpoint_is_refused(services: Services) -> None:
    _trail_of(services, 1)
    assert services.audit.checkpoint() is not None
    table = services.audit.table.backend.table("audit_checkpoints")
    _sql(services, f"UPDATE {table} SET hash = %s", ("f" * 64,))
    result = services.audit.verify()
    assert not result.ok and "not signed by the custodian" in (result.problem or "")


# ---- no content, no tokens -----------------------------------------------------------------


def test_no_content_value_or_token_reaches_the_trail(services: Services) -> None:
    bsn = fresh_bsn()
    marker = "Zeldzaam-Merkteken-4417"
    payload = {**aanmelding(bsn, naam=f"{marker} Naam"), "aanmeldreden": f"{marker} reden"}
    issued = services.clients.add(GGZ, "partner-system", "marker test")
    with acting(Actor(issued.client.client_id, GGZ, "partner-system")):
        opened = services.store.open_case(submit("aanmelding", payload, GGZ))
        include(services.store, opened.case_id)
        services.store.append(
            opened.case_id, submit("signalering", signalering(f"{marker} toelichting"), ZVH)
        )
        services.disclosure.read_case(ZVH, opened.case_id, decrypt=True)
        services.disclosure.feed(GGZ, 0, 100)
    text = "\n".join(item_text for item_text in _all_text(services))
    secret = issued.token.rsplit("_", 1)[-1]
    for needle in (marker, bsn, issued.token, secret, "Herhaalde escalaties"):
        assert needle not in text
    assert issued.client.client_id in text  # who it was is there; what they hold is not


def _all_text(services: Services) -> list[str]:
    table = services.audit.table.backend.table("audit")
    rows = services.audit.table.backend.all(f"SELECT * FROM {table}")
    return [json.dumps(dict(r), default=str) for r in rows]
