"""Retention enforced, on both backends: a case past its term is destroyed for real, one
under a legal hold or inside its term is untouched, and the region's figures still count
every case.

The demo policy keeps what it grants of an aanmelding five years from the end of the case;
a case closed at triage on 2 March 2026 is due on 2 March 2031. The test's clock moves.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from casestore.bootstrap import Services
from casestore.domain.errors import CaseHeld, CaseNotFound
from casestore.services.figures import SMALL_CELL
from casestore.settings import Settings
from sharing.errors import CaseKeyDestroyed
from tests.factories import (
    ELSEWHERE,
    GGZ,
    POLICY,
    ZVH,
    Clock,
    aanmelding,
    demo_settings,
    fresh_bsn,
    include,
    submit,
)

# The erasure's VACUUM FULL must not wait on other tests' transactions (tests/conftest.py).
pytestmark = pytest.mark.own_database

PAST_TERM = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


def closed_at_triage(services: Services, bsn: str) -> UUID:
    opened = services.store.open_case(submit("aanmelding", aanmelding(bsn), GGZ))
    services.store.append(opened.case_id, submit("triagebesluit", ELSEWHERE, ZVH))
    return opened.case_id


def key_material(services: Services, case_id: UUID) -> list[bytes]:
    """The wrapped case key and every wrapped data key of its escrows, as stored."""
    tables = services.store.records.tables
    wrapped, _ = tables.wrapped_case_key(str(case_id))
    assert wrapped is not None
    found = [wrapped.encode("ascii")]
    for row in tables.escrows_of_case(str(case_id)):
        text = row.escrow
        found += [m.encode("ascii") for m in re.findall(r"[A-Za-z0-9+/=]{40,}", text)]
    assert len(found) > 1
    return found


def stored_bytes(services: Services, tmp_path: Path) -> bytes:
    """Every byte the database files hold of the key tables: on SQLite the main file and its
    WAL, on PostgreSQL every heap tuple of every page (pageinspect), live or dead."""
    url = services.settings.sqlite_path
    if url is not None:
        data = url.read_bytes()
        wal = Path(f"{url}-wal")
        return data + (wal.read_bytes() if wal.exists() else b"")
    schema = services.store.records.backend.table("x").split(".")[0].strip('"')
    chunks = []
    database = (services.settings.database_url or "").split("?", 1)[0]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        for table in ("casestore_case_keys", "casestore_event_ids", "casestore_grants"):
            name = f"{schema}.{table}"
            pages = conn.execute(
                "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
                (name,),
            ).fetchone()
            assert pages is not None
            for page in range(int(pages[0])):
                rows = conn.execute(
                    sql.SQL("SELECT t_data FROM heap_page_items(get_raw_page({}, %s))").format(
                        sql.Literal(name)
                    ),
                    (page,),
                ).fetchall()
                chunks += [bytes(r[0]) for r in rows if r[0] is not None]
                raw = conn.execute("SELECT get_raw_page(%s, %s)", (name, page)).fetchone()
                assert raw is not None
                chunks.append(bytes(raw[0]))
    return b"".join(chunks)


def test_a_case_past_its_term_is_destroyed_for_real_and_leaves_a_verklaring(
    services: Services, clock: Clock, tmp_path: Path
) -> None:
    store = services.store
    bsn = fresh_bsn()
    case_id = closed_at_triage(services, bsn)
    keys = key_material(services, case_id)
    before = stored_bytes(services, tmp_path)
    assert all(k in before for k in keys)  # the scan finds what is there

    clock.now = PAST_TERM
    dry = services.retention.run(dry_run=True)
    assert [d.case_id for d in dry.destroyed] == [case_id]
    assert store.case_key(case_id)  # a dry run changes nothing

    done = services.retention.run()
    assert [d.case_id for d in done.destroyed] == [case_id]

    # no openable content
    with pytest.raises(CaseKeyDestroyed):
        store.case_key(case_id)
    shared = services.disclosure.read_case(GGZ, case_id)
    assert all(not e.grants and not e.sealed for e in shared)
    # no envelope that identifies the person; every event marked
    for event in store.history(case_id):
        assert "person_id" not in event.control and event.content == {}
        assert event.destroyed is not None
    # no byte of the key material left in the database files
    after = stored_bytes(services, tmp_path)
    assert not [k for k in keys if k in after]
    # no person-index link: the same BSN referred again finds nothing of the old case
    again = store.open_case(submit("aanmelding", aanmelding(bsn), GGZ))
    known = services.bekendheid.check(ZVH, again.case_id)
    assert [c.case_id for c in known.casussen] == [again.case_id]
    with pytest.raises(CaseNotFound):
        services.bekendheid.check(ZVH, case_id)
    # a signed verklaring that holds nothing of the person
    verklaring = services.retention.verklaring(case_id)
    assert services.retention.verify(verklaring)
    text = json.dumps(verklaring.document)
    assert bsn not in text and "de Wit" not in text
    assert verklaring.document["rules"] and verklaring.document["ordered_by"] == "retention"
    forged = type(verklaring)({**verklaring.document, "reason": "other"}, verklaring.signature)
    assert not services.retention.verify(forged)


def test_a_held_case_and_one_inside_its_term_are_untouched_and_figures_count_all(
    services: Services, clock: Clock
) -> None:
    destroyed = [closed_at_triage(services, fresh_bsn()) for _ in range(SMALL_CELL)]
    held = closed_at_triage(services, fresh_bsn())
    services.retention.hold(held, by="fg-zvh", reason="verzoek van de rechter-commissaris")
    clock.now = datetime(2027, 6, 1, tzinfo=UTC)
    later = closed_at_triage(services, fresh_bsn())  # closed 2027: due in 2032

    clock.now = PAST_TERM
    report = services.retention.run()
    assert sorted(d.case_id for d in report.destroyed) == sorted(destroyed)
    assert report.held == [held]
    assert services.store.case_key(held) and services.store.case_key(later)
    with pytest.raises(CaseHeld):
        services.retention.destroy(held, by="fg-zvh", reason="te vroeg")

    figures = {(c.quarter, c.measure): c.count for c in services.figures.report().cells}
    assert figures[("2026-Q1", "aanmelding")] == SMALL_CELL + 1
    assert figures[("2026-Q1", "triage_andere_aanpak")] == SMALL_CELL + 1
    assert figures[("2027-Q2", "aanmelding")] is None  # one case: suppressed

    # the hold stopped the clock for the five years it was in place: the term ends so much later
    services.retention.release(held, by="fg-zvh")
    clock.now = datetime(2036, 3, 1, tzinfo=UTC)
    assert [d.case_id for d in services.retention.run().destroyed] == [later]
    clock.now = datetime(2036, 3, 5, tzinfo=UTC)
    assert [d.case_id for d in services.retention.run().destroyed] == [held]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The demo region, but the triage's onderbouwing kept six months from the event."""
    text = POLICY.read_text()
    start = text.index("- id: triage-onderbouwing")
    at = text.index("retention:", start)
    end = text.index("\n", at)
    policy = tmp_path / "policy.yaml"
    policy.write_text(text[:at] + "retention: {months: 6, from: event}" + text[end:])
    return demo_settings(database_url, tmp_path).model_copy(update={"policy_file": policy})


def test_a_grant_goes_when_its_rules_term_ends_and_stays_gone_unless_held(
    services: Services, clock: Clock
) -> None:
    store = services.store
    cases = [store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)) for _ in "ab"]
    for opened in cases:
        include(store, opened.case_id)
    going, held = (c.case_id for c in cases)
    services.retention.hold(held, by="fg-zvh", reason="klacht in behandeling")

    def rules_of(case_id: UUID) -> set[str]:
        grants = store.records.tables.grants_of_case(str(case_id))
        return {r for g in grants for basis in json.loads(g.basis).values() for r in basis["rules"]}

    assert {"triage-onderbouwing", "inclusie-onderbouwing"} <= rules_of(going)
    clock.now = datetime(2026, 9, 1, tzinfo=UTC)
    assert services.retention.run().expired == []  # six months have not passed
    clock.now = datetime(2026, 9, 3, tzinfo=UTC)
    report = services.retention.run()
    assert [(e.case_id, e.rules) for e in report.expired] == [(going, ("triage-onderbouwing",))]
    assert report.held == [held] and report.destroyed == []

    assert "triage-onderbouwing" not in rules_of(going)
    assert "inclusie-onderbouwing" in rules_of(going)  # five years from the case's end
    assert "triage-onderbouwing" in rules_of(held)
    # (the inclusion gave the procesregie its startdossier: granted, not revoked)
    history = services.grants.history(going)
    assert {(c.change, c.reason) for c in history if c.change == "revoked"} == {
        ("revoked", "retention ended: rule triage-onderbouwing")
    }
    assert services.grants.reconcile_all().granted == 0  # not granted again
    assert "triage-onderbouwing" not in rules_of(going)
