"""Does the cost of an operation stay flat as the store grows? Append, an organisation's
feed page and a case read, with 10 thousand, 100 thousand (and, opt-in, 1 million) events
already in the store, on PostgreSQL.

Each store is grown in bulk before the measurements, not through the application (a
million appends would take hours): one real case of `TEMPLATE_EVENTS` events (an
aanmelding, triage, inclusion and signaleringen, sealed and countersigned by the service)
is copied by `INSERT … SELECT` over `generate_series` into as many new cases as needed,
with its side rows (event ids, access rows with their new positions, grants, case key),
then ANALYZEd. Only the measured step is timed:

- append: a signed signalering onto a few cases opened after the growth;
- feed page: 100 events of the organisation's feed after a random position among the
  last ten thousand (a partner keeping up), and after a random position anywhere in the
  store (a partner catching up from far back: it reads what no cache holds);
- case read: every event of a random grown case as the organisation receives it (the
  read a timeline will build on).

The stores of every size stand side by side, each in a schema of its own, and each
operation is measured on all of them interleaved, in alternating quarter-second slices
(bench/measure.py), so that all see the same machine. Each figure is the median of its
operations; "vs first" is its ratio to the smallest store's, flat when within ±20 %.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from bench import measure, workload
from bench.backends import postgres_url, settings
from casestore.bootstrap import Services, build
from casestore.services.case_store import Author, CaseStore, Submission
from casestore.services.disclosure import Disclosure

DEFAULT_SIZES = (10_000, 100_000)
FULL_SIZES = (10_000, 100_000, 1_000_000)
TEMPLATE_EVENTS = 10
APPEND_CASES = 5
FEED_PAGE = 100
FLAT = 0.20
OPERATIONS = ("append_ms", "recent_feed_page_ms", "feed_page_ms", "case_read_ms")
RECENT = 10_000  # "recent": among the last this many positions, where partners keep up
ORG = workload.PARTNER  # it receives every event of the cases it referred


@dataclass
class Store:
    """One grown store of its own schema, with what its measurements read."""

    size: int
    schema: str
    services: Services
    partner: workload.Partner
    events: int = 0
    grown_cases: list[uuid.UUID] = field(default_factory=list)


def run(
    var_dir: Path, sizes: tuple[int, ...], seconds: float, log: Callable[[str], None]
) -> dict[str, Any]:
    """One store per size, side by side, measured interleaved: on a shared machine a
    minute's load would otherwise pass for the cost of a larger store."""
    url = postgres_url()
    stores: list[Store] = []
    try:
        for size in sizes:
            schema = f"bench_scaling_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            services = build(settings(f"{url}?schema={schema}", var_dir))
            store = Store(
                size, schema, services, workload.Partner(services.store, services.settings)
            )
            stores.append(store)
            template = _template_case(services.store, store.partner)
            log(f"[scaling] growing a store to {size:,} events …")
            started = time.perf_counter()
            store.events = _grow(url, schema, template, size)
            store.grown_cases = _grown_cases(url, schema, 500)
            log(f"[scaling] … {store.events:,} events in {time.perf_counter() - started:.0f} s")
        log("[scaling] append, feed page and case read on every store, interleaved …")
        measured = _measure(stores, seconds)
    finally:
        for store in stores:
            store.services.close()
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(store.schema))
                )
    rows = [{"events": store.events, **measured[store.size]} for store in stores]
    first = rows[0]
    for row in rows:
        for name in OPERATIONS:
            row[f"{name}_vs_first"] = round(row[name] / first[name], 2)
    flat = all(abs(row[f"{name}_vs_first"] - 1) <= FLAT for row in rows for name in OPERATIONS)
    with psycopg.connect(url) as conn:
        buffers = conn.execute("SHOW shared_buffers").fetchone()
    return {
        "sizes": list(sizes),
        "rows": rows,
        "flat_within": FLAT,
        "flat": flat,
        "shared_buffers": buffers[0] if buffers else None,
    }


def _template_case(
    store: CaseStore, partner: workload.Partner, events: int = TEMPLATE_EVENTS
) -> uuid.UUID:
    """One realistic case: opened by the partner, triaged and included by the ZVH, then
    signaleringen until it has `events` events."""
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
    while store.case(case_id).version < events:
        store.append(case_id, partner.signalering(case_id))
    return case_id


def _grow(
    url: str, schema: str, template: uuid.UUID, size: int, per_case: int = TEMPLATE_EVENTS
) -> int:
    """Copy the template case (of `per_case` events) until the store holds at least `size`
    events."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        current = conn.execute("SELECT count(*) FROM casestore_events").fetchone()
        have = int(current[0]) if current else 0
        copies = max(0, -(-(size - have) // per_case))
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


def _measure(stores: list[Store], seconds: float) -> dict[int, dict[str, float]]:
    rng = random.Random(7)
    appends, recent, pages, reads = {}, {}, {}, {}
    for store in stores:
        case_store = store.services.store
        cases = workload.open_cases(case_store, store.partner, APPEND_CASES)
        appends[str(store.size)] = workload.appends(case_store, store.partner, cases)
        end = case_store.max_position()
        disclosure = store.services.disclosure
        page = partial(_page, disclosure)
        recent[str(store.size)] = measure.Workload(
            page, partial(rng.randrange, max(0, end - RECENT), max(1, end - FEED_PAGE))
        )
        pages[str(store.size)] = measure.Workload(
            page, partial(rng.randrange, 0, max(1, end - FEED_PAGE))
        )
        reads[str(store.size)] = measure.Workload(
            partial(_case, disclosure), partial(rng.choice, store.grown_cases)
        )
    warmup = min(1.0, seconds / 3)
    figures: dict[int, dict[str, float]] = {store.size: {} for store in stores}
    for name, workloads in (
        ("append_ms", appends),
        ("recent_feed_page_ms", recent),
        ("feed_page_ms", pages),
        ("case_read_ms", reads),
    ):
        for size, result in measure.interleaved(workloads, seconds=seconds, warmup=warmup).items():
            figures[int(size)][name] = round(result.p50_ms, 3)
            if name == "append_ms":
                figures[int(size)]["append_per_second"] = round(result.per_second, 1)
    return figures


def table(result: dict[str, Any]) -> str:
    lines = [
        "| events in the store | append | feed page, recent | feed page, anywhere | case read |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        cells = [f"{row[n]:.2f} ms ({row[n + '_vs_first']:.2f})" for n in OPERATIONS]
        lines.append(f"| {row['events']:,} | " + " | ".join(cells) + " |")
    verdict = "flat" if result["flat"] else "NOT flat"
    lines.append(
        f"\n(medians; ratio to the smallest store in brackets; {verdict} within ±20 %; "
        f"server shared_buffers {result['shared_buffers']})"
    )
    return "\n".join(lines)


def _page(disclosure: Disclosure, after: int) -> object:
    return disclosure.feed(ORG, after, FEED_PAGE)


def _case(disclosure: Disclosure, case_id: UUID) -> object:
    return disclosure.read_case(ORG, case_id)
