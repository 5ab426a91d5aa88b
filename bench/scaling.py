"""Does the cost of an operation stay flat as the store grows? Append, an organisation's
feed page, a case read and the custodian's timeline of a case, with 10 thousand,
100 thousand (and, opt-in, 1 million) events already in the store, on PostgreSQL.

Each store is grown in bulk before the measurements, not through the application (a
million appends would take hours): one real case of `TEMPLATE_EVENTS` events (an
aanmelding, triage, inclusion and signaleringen, sealed and countersigned by the service)
is copied by `INSERT … SELECT` over `generate_series` into as many new cases as needed,
with its side rows (event ids, access rows with their new positions, grants, case key),
then VACUUMed and ANALYZEd as autovacuum would after so many inserts. Only the measured
step is timed:

- append: a signed signalering onto a few cases opened after the growth;
- feed page: 100 events of the organisation's feed after a random position among the
  last ten thousand (a partner keeping up), and after a random position anywhere in the
  store (a partner catching up from far back: it reads what no cache holds);
- the same rows, bare: the hundred events' rows of a page from anywhere by a plain
  SELECT, nothing else: the database's own cost of reading far back, side by side with
  the feed page's, to tell the feed's code from the machine's cache;
- case read: every event of a random grown case as the organisation receives it;
- timeline: the template case (the grown copies' ciphertexts are bound to it and open for
  no other case) reconstructed for the custodian, decrypted (`Timelines.timeline`;
  bench/timeline.py measures it by the case's length).

The operations are the list `OPERATIONS`; one more is one more entry.

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
    connections: list[psycopg.Connection[Any]] = field(default_factory=list)
    template: uuid.UUID | None = None  # the one case written through the store


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
            template = store.template = _template_case(services.store, store.partner)
            log(f"[scaling] growing a store to {size:,} events …")
            started = time.perf_counter()
            store.events = grow(url, schema, template, size)
            store.grown_cases = _grown_cases(url, schema, 500)
            log(f"[scaling] … {store.events:,} events in {time.perf_counter() - started:.0f} s")
        log("[scaling] append, feed page, case read and timeline on every store, interleaved …")
        measured = _measure(stores, seconds)
    finally:
        for store in stores:
            for conn in store.connections:
                conn.close()
            store.services.close()
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(store.schema))
                )
    rows = [{"events": store.events, **measured[store.size]} for store in stores]
    first = rows[0]
    for row in rows:
        for name in (o.name for o in OPERATIONS):
            row[f"{name}_vs_first"] = round(row[name] / first[name], 2)
    flat = all(
        abs(row[f"{o.name}_vs_first"] - 1) <= FLAT
        for row in rows
        for o in OPERATIONS
        if not o.reference
    )
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


def grow(
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
            # Every table is filled in the order appends fill it (by position), so that a
            # page of the feed finds its rows side by side as in a store grown by use: left
            # to the join, the access rows of consecutive positions land on pages far apart
            # and a feed page from far back reads a page from the operating system per row.
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
                "CROSS JOIN (SELECT * FROM casestore_event_ids WHERE case_id = %(t)s::text) i "
                "ORDER BY g, i.version",
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
                "AND e.originator_version = a.version "
                "ORDER BY e.notification_id, a.org_id",
                series,
            )
            conn.execute(
                "INSERT INTO casestore_grants (case_id, version, event_id, org_id, key_id, "
                "grant_json, policy_version, basis) "
                "SELECT md5(%(t)s::text || ':' || g)::uuid::text, r.version, "
                "md5(%(t)s::text || ':' || g || ':' || r.version)::uuid::text, r.org_id, r.key_id, "
                "r.grant_json, r.policy_version, r.basis "
                "FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_grants WHERE case_id = %(t)s::text) r "
                "ORDER BY g, r.version, r.org_id, r.key_id",
                series,
            )
            conn.execute(
                "INSERT INTO casestore_case_keys (case_id, wrapped, created_at) "
                "SELECT md5(%(t)s::text || ':' || g)::uuid::text, k.wrapped, k.created_at "
                "FROM generate_series(%(a)s::int, %(b)s::int) g "
                "CROSS JOIN (SELECT * FROM casestore_case_keys WHERE case_id = %(t)s::text) k",
                series,
            )
        # What autovacuum does to a real store after this many inserts (its insert
        # threshold, PostgreSQL 13 on): commit hints set and pages marked all-visible, so
        # that no measured read is the first to touch a row since it was written.
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(
                sql.SQL(", ").join(sql.Identifier(schema, t[0]) for t in tables)
            )
        )
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
    workloads = {
        operation.name: {str(store.size): operation.workload(store, rng) for store in stores}
        for operation in OPERATIONS
    }
    warmup = min(1.0, seconds / 3)
    figures: dict[int, dict[str, float]] = {store.size: {} for store in stores}
    for operation in OPERATIONS:
        measured = measure.interleaved(workloads[operation.name], seconds=seconds, warmup=warmup)
        for size, result in measured.items():
            figures[int(size)][operation.name] = round(result.p50_ms, 3)
            if operation.rate is not None:
                figures[int(size)][operation.rate] = round(result.per_second, 1)
    return figures


def table(result: dict[str, Any]) -> str:
    lines = [
        "| events in the store | " + " | ".join(o.column for o in OPERATIONS) + " |",
        "|---|" + "---|" * len(OPERATIONS),
    ]
    for row in result["rows"]:
        cells = [f"{row[o.name]:.2f} ms ({row[o.name + '_vs_first']:.2f})" for o in OPERATIONS]
        lines.append(f"| {row['events']:,} | " + " | ".join(cells) + " |")
    verdict = "flat" if result["flat"] else "NOT flat"
    references = ", ".join(o.column for o in OPERATIONS if o.reference)
    lines.append(
        f"\n(medians; ratio to the smallest store in brackets; {verdict} within ±20 %, "
        f"but for {references}, the database's own ceiling; "
        f"server shared_buffers {result['shared_buffers']})"
    )
    return "\n".join(lines)


def _appends(store: Store, rng: random.Random) -> measure.Workload:
    case_store = store.services.store
    cases = workload.open_cases(case_store, store.partner, APPEND_CASES)
    return workload.appends(case_store, store.partner, cases)


def _recent_pages(store: Store, rng: random.Random) -> measure.Workload:
    end = store.services.store.max_position()
    after = partial(rng.randrange, max(0, end - RECENT), max(1, end - FEED_PAGE))
    return measure.Workload(partial(_page, store.services.disclosure), after)


def _pages_anywhere(store: Store, rng: random.Random) -> measure.Workload:
    end = store.services.store.max_position()
    after = partial(rng.randrange, 0, max(1, end - FEED_PAGE))
    return measure.Workload(partial(_page, store.services.disclosure), after)


def _rows_anywhere(store: Store, rng: random.Random) -> measure.Workload:
    """The storage's own ceiling for a page from anywhere: the same hundred events' rows
    (their states read out of TOAST) by a bare SELECT on the position index, with no
    access rows, grants or application. Where this grows with the store as the feed page
    does, the cost is the database's cache, not the feed's code."""
    conn = psycopg.connect(postgres_url(), autocommit=True)
    store.connections.append(conn)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(store.schema)))
    end = store.services.store.max_position()

    def rows(after: int) -> object:
        return conn.execute(ROWS, (after, FEED_PAGE), prepare=True, binary=True).fetchall()

    return measure.Workload(rows, partial(rng.randrange, 0, max(1, end - FEED_PAGE)))


def _case_reads(store: Store, rng: random.Random) -> measure.Workload:
    read = partial(store.services.disclosure.read_case, ORG)
    return measure.Workload(read, partial(rng.choice, store.grown_cases))


def _timelines(store: Store, rng: random.Random) -> measure.Workload:
    # The copies' ciphertexts are bound to the template case and open for no other (as a
    # moved ciphertext must not): the timeline is of the template itself.
    return measure.Workload(partial(_timeline, store.services), partial(_case_of, store))


def _page(disclosure: Disclosure, after: int) -> object:
    return disclosure.feed(ORG, after, FEED_PAGE)


def _case_of(store: Store) -> uuid.UUID:
    assert store.template is not None  # set as the store is grown
    return store.template


def _timeline(services: Services, case_id: uuid.UUID) -> object:
    return services.timelines.timeline(services.settings.custodian, case_id)


ROWS = (
    "SELECT notification_id, originator_id, originator_version, topic, state "
    "FROM casestore_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
)


@dataclass(frozen=True)
class Operation:
    """One measured operation: the key of its median in the result (and of its rate, if
    it has one), its column in the README's table, and the workload that performs it on
    a grown store. A new operation is one more entry in `OPERATIONS`."""

    name: str
    column: str
    workload: Callable[[Store, random.Random], measure.Workload]
    rate: str | None = None
    reference: bool = False  # the database's own ceiling: shown, not held to ±20 %


OPERATIONS = [
    Operation("append_ms", "append", _appends, rate="append_per_second"),
    Operation("recent_feed_page_ms", "feed page, recent", _recent_pages),
    Operation("feed_page_ms", "feed page, anywhere", _pages_anywhere),
    Operation(
        "rows_anywhere_ms",
        "the same rows, bare SELECT, anywhere",
        _rows_anywhere,
        reference=True,
    ),
    Operation("case_read_ms", "case read", _case_reads),
    Operation("timeline_ms", "timeline", _timelines),
]
