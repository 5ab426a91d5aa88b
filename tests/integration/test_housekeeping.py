"""Scheduled housekeeping: a rule whose validity has ended loses its grants without anyone
running `grants reconcile`, and the grant history says when and why. Both backends.

The demo policy's `monitoring-pilot-reclassering` lets the reclassering read a
monitoringsmoment's findings until 31 December 2026 (Europe/Amsterdam). The clock is the
test's own: passes run when the test says, at the moments it sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casestore.bootstrap import Services
from casestore.services.housekeeping import Housekeeping
from tests.factories import (
    ELSEWHERE,
    GGZ,
    ZVH,
    Clock,
    aanmelding,
    fresh_bsn,
    include,
    netwerk,
    submit,
)

RECLASSERING = "reclassering-nederland"
PILOT = "monitoring-pilot-reclassering"
MONITORING = {
    "bevindingen": "Houdt zich aan de afspraken; slaapt weer thuis.",
    "risico_inschatting": "verhoogd",
}


def reclassering_reads(services: Services, case_id: Any, version: int) -> set[str]:
    shared = services.disclosure.read_case(RECLASSERING, case_id)
    return next(set(e.sealed) for e in shared if e.version == version)


def test_a_rule_past_its_validity_loses_its_grants_at_the_next_pass_and_the_history_says_why(
    services: Services, clock: Clock
) -> None:
    store = services.store
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    include(store, opened.case_id)
    store.append(opened.case_id, submit("netwerkwijziging", netwerk(RECLASSERING), ZVH))
    monitored = store.append(opened.case_id, submit("monitoringsmoment", MONITORING, ZVH))
    assert "bevindingen" in reclassering_reads(services, opened.case_id, monitored.version)

    first = services.housekeeping.run_once()  # the pilot began before: nothing to change
    assert first is not None and first.changes is not None
    assert (first.changes.granted, first.changes.revoked) == (0, 0)
    joined = services.grants.history(opened.case_id)  # startdossiers of those who joined
    assert all(c.change == "granted" for c in joined)
    assert {c.reason.split()[0] for c in joined} <= {"inclusiebesluit", "netwerkwijziging"}

    clock.now = datetime(2026, 12, 31, 22, 59, tzinfo=UTC)  # 23:59 in Amsterdam: still valid
    assert_nothing_due(services.housekeeping)
    clock.now = datetime(2026, 12, 31, 23, 1, tzinfo=UTC)  # past midnight in Amsterdam
    expired = services.housekeeping.run_once()

    assert expired is not None and expired.changes is not None
    assert [str(b) for b in expired.crossed] == [f"rule {PILOT} expired (valid until 2026-12-31)"]
    assert (expired.changes.granted, expired.changes.revoked) == (1, 1)  # fields narrowed
    assert "bevindingen" not in reclassering_reads(services, opened.case_id, monitored.version)
    history = services.grants.history(opened.case_id)[len(joined) :]
    assert [(c.org_id, c.version, c.change) for c in history] == [
        (RECLASSERING, monitored.version, "revoked"),
        (RECLASSERING, monitored.version, "granted"),
    ]
    assert all(c.changed_at == clock.now for c in history)
    assert all(c.reason == f"rule {PILOT} expired (valid until 2026-12-31)" for c in history)
    assert PILOT in history[0].rules.split(",")
    assert PILOT not in history[1].rules.split(",")
    assert history[0].policy_version == services.sealer.policy_version
    assert_nothing_due(services.housekeeping)


def assert_nothing_due(housekeeping: Housekeeping) -> None:
    done = housekeeping.run_once()
    assert done is not None
    assert done.changes is None, done.crossed


def test_one_worker_at_a_time_runs_a_pass(services: Services, clock: Clock) -> None:
    mine = services.housekeeping
    other = Housekeeping(services.grants, mine.table, clock, worker_id="other")
    assert mine.table.claim("housekeeping", "other", clock.now, clock.now + other.lease)
    assert mine.run_once() is None  # "other" holds it
    clock.advance(minutes=11)  # "other" died mid-pass: its lease runs out
    assert mine.run_once() is not None


def test_shredding_is_in_the_grant_history_too(services: Services, clock: Clock) -> None:
    store = services.store
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    store.append(
        opened.case_id,
        submit(
            "triagebesluit",
            ELSEWHERE,
            ZVH,
        ),
    )
    granted = services.store.records.tables.grants_of_case(str(opened.case_id))
    services.grants.shred(opened.case_id, by="fg-zvh", reason="bewaartermijn verstreken")
    history = services.grants.history(opened.case_id)
    assert {(c.org_id, c.version, c.key_id) for c in history} == {
        (g.org_id, g.version, g.key_id) for g in granted
    }
    assert {c.change for c in history} == {"revoked"}
    assert {c.reason for c in history} == {"shredded by fg-zvh: bewaartermijn verstreken"}


def test_the_worker_enforces_retention_once_a_day(services: Services, clock: Clock) -> None:
    store = services.store
    opened = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ))
    store.append(opened.case_id, submit("triagebesluit", ELSEWHERE, ZVH))
    first = services.housekeeping.run_once()
    assert first is not None and first.retention is not None
    assert first.retention.destroyed == []

    clock.now = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # five years after the case ended
    clock.advance(hours=-1)
    again = services.housekeeping.run_once()
    assert again is not None and again.retention is not None  # a day has passed
    assert [d.case_id for d in again.retention.destroyed] == [opened.case_id]
    clock.advance(hours=2)
    later = services.housekeeping.run_once()
    assert later is not None and later.retention is None  # not again the same day
