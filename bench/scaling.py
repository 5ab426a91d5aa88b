"""Does the cost of an operation stay flat as the store grows? Append, an organisation's
feed page and a case read, with 10 thousand, 100 thousand (and, opt-in, 1 million) events
already in the store, on PostgreSQL.

The store is grown in bulk between the measurements, not through the application (a
million appends would take hours): one real case of `TEMPLATE_EVENTS` events (an
aanmelding, triage, inclusion and signaleringen, sealed and countersigned by the service)
is copied by `INSERT … SELECT` over `generate_series` into as many new cases as needed,
with its side rows (event ids, access rows with their new positions, grants, case key),
then ANALYZEd. Only the measured step is timed:

- append: a signed signalering onto a few cases opened after the growth;
- feed page: 100 events of the organisation's feed after a random position in the store;
- case read: every event of a random grown case as the organisation receives it (the
  read a timeline will build on).

Each figure is the median of its operations; "vs first" is its ratio to the smallest
store's, flat when within ±20 %.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import measure, workload
from bench.backends import postgres_url, settings
from casestore.bootstrap import build
from casestore.services.case_store import CaseStore

DEFAULT_SIZES = (10_000, 100_000)
FULL_SIZES = (10_000, 100_000, 1_000_000)
TEMPLATE_EVENTS = 10
APPEND_CASES = 5
FEED_PAGE = 100
FLAT = 0.20
ORG = workload.PARTNER  # it receives every event of the cases it referred


def run(
    var_dir: Path, sizes: tuple[int, ...], seconds: float, log: Callable[[str], None]
) -> dict[str, Any]:
    url = postgres_url()
    schema = f"bench_scaling_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        config = settings(f"{url}?schema={schema}", var_dir)
        with closing(build(config)) as services:
            store = services.store
            partner = workload.Partner(store, services.settings)
            template = _template_case(store, partner)
            rows: list[dict[str, Any]] = []
            for size in sizes:
                log(f"[scaling] growing the store to {size:,} events …")
                started = time.perf_counter()
                grown = _grow(url, schema, template, size)
                log(f"[scaling] … {grown:,} events in {time.perf_counter() - started:.0f} s")
                rows.append(
                    {"events": grown, **_measure(store, services, partner, url, schema, seconds)}
                )
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    first = rows[0]
    for row in rows:
        for name in ("append_ms", "feed_page_ms", "case_read_ms"):
            row[f"{name}_vs_first"] = round(row[name] / first[name], 2)
    flat = all(
        abs(row[f"{name}_vs_first"] - 1) <= FLAT
        for row in rows
        for name in ("append_ms", "feed_page_ms", "case_read_ms")
    )
    return {"sizes": list(sizes), "rows": rows, "flat_within": FLAT, "flat": flat}


def _template_case(store: CaseStore, partner: workload.Partner) -> uuid.UUID:
    """One realistic case: opened by the partner, triaged and included by the ZVH, then
    signaleringen until it has TEMPLATE_EVENTS events."""
    from casestore.services.case_store import Author, Submission

    zvh = Author(store.custodian, "bench")
    case_id = store.open_case(partner.aanmelding()).case_id
    triage = {
        "uitkomst": "inclusietafel",
        "onderbouwing": "Gevaarlijk gedrag met een psychiatrische grondslag.",
        "doelgroepcriteria": ["psychiatrische_stoornis"],
    }
    inclusie = {
        "geincludeerd": True,
        "levensloopaanbieder": "inforsa",
        "casusregisseur": "gemeente-amsterdam",
        "procesregisseur": store.custodian,
        "startniveau": 2,
        "onderbouwing": "Voldoet aan de criteria van de levensloopaanpak.",
    }
    store.append(case_id, Submission("triagebesluit", triage, zvh))
    store.append(case_id, Submission("inclusiebesluit", inclusie, zvh))
    while store.case(case_id).version < TEMPLATE_EVENTS:
        store.append(case_id, partner.signalering(case_id))
    return case_id


def _grow(url: str, schema: str, template: uuid.UUID, size: int) -> int:
    """Copy the template case until the store holds at least `size` events."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        current = conn.execute("SELECT count(*) FROM casestore_events").fetchone()
        have = int(current[0]) if current else 0
        copies = max(0, -(-(size - have) // TEMPLATE_EVENTS))
        if copies == 0:
            return have
        start = conn.execute("SELECT count(*) FROM casestore_case_keys").fetchone()
        first = int(start[0]) if start else 0
        series = {"t": str(template), "a": first, "b": first + copies - 1}
        with conn.transaction():
            # New cases' ids and event ids derive from the template's and the copy number.
            # Each copy's state names its own case and event ids, as a real event's does
            # (its countersignature no longer verifies: nothing timed here checks it).
            conn.execute(
                "INSERT INTO casestore_events (originator_id, originator_version, topic, state) "
                "SELECT md5(%(t)s::text || ':' || g)::uuid, e.originator_version, e.topic, "
                "convert_to(replace(replace(convert_from(e.state, 'UTF8'), i.event_id, "
                "md5(%(t)s::text || ':' || g || ':' || e.originator_version)::uuid::text), "
                "%(t)s::text, md5(%(t)s::text || ':' || g)::uuid::text), 'UTF8') "
                "FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_events "
                "WHERE originator_id = %(t)s::text::uuid) e "
                "JOIN casestore_event_ids i ON i.case_id = %(t)s::text "
                "AND i.version = e.originator_version "
                "ORDER BY g, e.originator_version",
                series,
            )
            conn.execute(
                "INSERT INTO casestore_event_ids (event_id, case_id, version, digest, "
                "content_digests, escrow_json) "
                "SELECT md5(%(t)s::text || ':' || g || ':' || i.version)::uuid::text, "
                "md5(%(t)s::text || ':' || g)::uuid::text, i.version, i.digest, i.content_digests, "
                "i.escrow_json FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_event_ids WHERE case_id = %(t)s::text) i",
                series,
            )
            conn.execute(
                "INSERT INTO casestore_access (org_id, case_id, version, event_id, "
                "policy_version, position) "
                "SELECT a.org_id, e.originator_id::text, a.version, "
                "md5(%(t)s::text || ':' || g || ':' || a.version)::uuid::text, a.policy_version, "
                "e.notification_id FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_access WHERE case_id = %(t)s::text) a "
                "JOIN casestore_events e ON e.originator_id = md5(%(t)s::text || ':' || g)::uuid "
                "AND e.originator_version = a.version",
                series,
            )
            conn.execute(
                "INSERT INTO casestore_grants (case_id, version, event_id, org_id, key_id, "
                "grant_json, policy_version, basis) "
                "SELECT md5(%(t)s::text || ':' || g)::uuid::text, r.version, "
                "md5(%(t)s::text || ':' || g || ':' || r.version)::uuid::text, r.org_id, r.key_id, "
                "r.grant_json, r.policy_version, r.basis "
                "FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_grants WHERE case_id = %(t)s::text) r",
                series,
            )
            conn.execute(
                "INSERT INTO casestore_case_keys (case_id, wrapped, created_at) "
                "SELECT md5(%(t)s::text || ':' || g)::uuid::text, k.wrapped, k.created_at "
                "FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_case_keys WHERE case_id = %(t)s::text) k",
                series,
            )
        conn.execute("ANALYZE")
        total = conn.execute("SELECT count(*) FROM casestore_events").fetchone()
        return int(total[0]) if total else 0


def _grown_cases(url: str, schema: str, how_many: int) -> list[uuid.UUID]:
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        rows = conn.execute(
            "SELECT case_id FROM casestore_case_keys TABLESAMPLE SYSTEM (10) LIMIT %s",
            (how_many,),
        ).fetchall()
        if len(rows) < how_many:
            rows = conn.execute(
                "SELECT case_id FROM casestore_case_keys ORDER BY random() LIMIT %s", (how_many,)
            ).fetchall()
    return [uuid.UUID(r[0]) for r in rows]


def _measure(
    store: CaseStore,
    services: Any,
    partner: workload.Partner,
    url: str,
    schema: str,
    seconds: float,
) -> dict[str, Any]:
    cases = workload.open_cases(store, partner, APPEND_CASES)
    append = measure.throughput(
        workload.appends(store, partner, cases, sealer=store.sealer),
        seconds=seconds,
        warmup=min(1.0, seconds / 3),
    )
    end = store.max_position()
    disclosure = services.disclosure
    rng = random.Random(7)

    def feed_page() -> None:
        disclosure.feed(ORG, rng.randrange(0, max(1, end - FEED_PAGE)), FEED_PAGE)

    grown = _grown_cases(url, schema, 500)

    def case_read() -> None:
        disclosure.read_case(ORG, rng.choice(grown))

    return {
        "append_ms": round(append.p50_ms, 3),
        "append_per_second": round(append.per_second, 1),
        "feed_page_ms": _median_ms(feed_page, seconds),
        "case_read_ms": _median_ms(case_read, seconds),
    }


def _median_ms(operation: Callable[[], None], seconds: float) -> float:
    for _ in range(5):  # warm the connection pool and the plan cache
        operation()
    timings = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(timings) < 20:
        started = time.perf_counter()
        operation()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 3)


def table(result: dict[str, Any]) -> str:
    lines = [
        "| events in the store | append (p50) | feed page of 100 | case read |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['events']:,} | {row['append_ms']:.2f} ms ({row['append_ms_vs_first']:.2f}) "
            f"| {row['feed_page_ms']:.2f} ms ({row['feed_page_ms_vs_first']:.2f}) "
            f"| {row['case_read_ms']:.2f} ms ({row['case_read_ms_vs_first']:.2f}) |"
        )
    verdict = "flat" if result["flat"] else "NOT flat"
    lines.append(f"\n(ratio to the smallest store in brackets; {verdict} within ±20 %)")
    return "\n".join(lines)
