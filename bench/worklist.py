"""The coordinators' worklist for 2,000 open cases: under 200 ms, on PostgreSQL.

The store is grown in bulk first (bench/scaling.py's copy of one real case), not through
the application: one case of ten events of the kinds the worklist reads (a referral, a
bekendheidsvraag, triage, inclusion, a plan, a kader, a monitoringsmoment, two
signaleringen and the reactie to one), copied into 2,000 open cases. The projection then
folds those 20,000 events once, and the first list in the process parses every row
(both reported, not the target). Only the measured step is timed: the list as the ZVH's
procesregisseur gets it, which asks the store for anything recorded since (nothing, so
no row is re-read) and judges every case, and records its audit entry.

The baseline, measured in the same run and interleaved with it, is reading the
projection's rows alone (one SELECT of the 2,000 rows of facts, parsed), as a list that
kept nothing between requests would have to before judging a single case.

    python -m bench.worklist [--seconds S]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import logs, measure, workload
from bench.backends import postgres_url, settings
from bench.scaling import TEMPLATE_EVENTS, grow
from casestore.bootstrap import build
from casestore.services.case_store import Author, CaseStore, Submission
from casestore.services.clients import ClientRole

CASES = 2_000
TARGET_MS = 200.0


def run(var_dir: Path, seconds: float, log: Any) -> dict[str, Any]:
    url = postgres_url()
    schema = f"bench_worklist_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        with closing(build(settings(f"{url}?schema={schema}", var_dir))) as services:
            store = services.store
            partner = workload.Partner(store, services.settings)
            template = _template_case(store, partner)
            log(f"[worklist] growing the store to {CASES:,} open cases …")
            events = grow(url, schema, template, CASES * TEMPLATE_EVENTS)
            started = time.perf_counter()
            services.worklist.catch_up()
            catch_up_s = time.perf_counter() - started
            log(f"[worklist] projection folded {events:,} events in {catch_up_s:.1f} s")
            regie = services.clients.add(store.custodian, ClientRole.coordinator, "bench").client
            started = time.perf_counter()
            listed = len(services.worklist.for_client(regie))
            first_ms = 1000 * (time.perf_counter() - started)
            if listed < CASES:  # a bench of a list that misses cases means nothing
                raise RuntimeError(f"the worklist shows {listed} of {CASES} cases")
            tables = services.worklist.tables
            log("[worklist] the list against reading its rows alone, interleaved …")
            timed = measure.interleaved(
                {
                    "worklist": measure.Workload(lambda _: services.worklist.for_client(regie)),
                    "rows": measure.Workload(lambda _: tables.all_facts()),
                },
                seconds=seconds,
                warmup=1.0,
            )
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return {
        "cases": listed,
        "events": events,
        "catch_up_s": round(catch_up_s, 2),
        "first_list_ms": round(first_ms, 1),
        "worklist_p50_ms": timed["worklist"].p50_ms,
        "worklist_p99_ms": timed["worklist"].p99_ms,
        "rows_p50_ms": timed["rows"].p50_ms,
        "ratio_to_rows": timed["worklist"].p50_ms / timed["rows"].p50_ms,
        "target_ms": TARGET_MS,
        "met": timed["worklist"].p50_ms < TARGET_MS,
    }


def _template_case(store: CaseStore, partner: workload.Partner) -> uuid.UUID:
    """One case of TEMPLATE_EVENTS events of the kinds the worklist reads."""
    zvh = Author(store.custodian, "bench")
    case_id = store.open_case(partner.aanmelding()).case_id
    today = store.clock().date()

    def by_zvh(event_type: str, payload: dict[str, Any]) -> None:
        store.append(case_id, Submission(event_type, payload, zvh))

    by_zvh(
        "bekendheidsvraag",
        {"organisatie": "ymere", "naam": "B. Enchmark", "geboortedatum": "1980-01-01"},
    )
    by_zvh(
        "triagebesluit",
        {
            "uitkomst": "inclusietafel",
            "onderbouwing": "Gevaarlijk gedrag met een psychiatrische grondslag.",
            "doelgroepcriteria": ["psychiatrische_stoornis"],
        },
    )
    by_zvh(
        "inclusiebesluit",
        {
            "geincludeerd": True,
            "levensloopaanbieder": "inforsa",
            "casusregisseur": "gemeente-amsterdam",
            "procesregisseur": store.custodian,
            "startniveau": 2,
            "onderbouwing": "Voldoet aan de criteria van de levensloopaanpak.",
        },
    )
    by_zvh("planwijziging", workload.planwijziging(1))
    by_zvh(
        "kaderwijziging",
        {
            "kader": "bijzondere_voorwaarden",
            "ingangsdatum": (today - timedelta(days=30)).isoformat(),
            "einddatum": (today + timedelta(days=200)).isoformat(),
        },
    )
    by_zvh("monitoringsmoment", {"bevindingen": "Stabiel.", "risico_inschatting": "laag"})
    signal = store.append(case_id, partner.signalering(case_id))
    store.append(case_id, partner.signalering(case_id))
    by_zvh("reactie", {"signalering": signal.event_id, "opvolging": "opgepakt"})
    if store.case(case_id).version != TEMPLATE_EVENTS:
        raise RuntimeError("the template case must have TEMPLATE_EVENTS events")
    return case_id


def table(result: dict[str, Any]) -> str:
    verdict = "met" if result["met"] else "MISSED"
    return "\n".join(
        [
            f"worklist of {result['cases']:,} open cases ({result['events']:,} events), PostgreSQL",
            f"  worklist       p50 {result['worklist_p50_ms']:8.1f} ms   "
            f"p99 {result['worklist_p99_ms']:8.1f} ms   target < {result['target_ms']:.0f} ms: "
            f"{verdict}",
            f"  rows alone     p50 {result['rows_p50_ms']:8.1f} ms   "
            f"ratio worklist/rows {result['ratio_to_rows']:.2f}",
            f"  once: projection catch-up from empty {result['catch_up_s']:.1f} s, first list "
            f"in a process (parses every row) {result['first_list_ms']:.0f} ms",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worklist", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    logs.quiet()
    with tempfile.TemporaryDirectory(prefix="casestore-bench-var-") as var_dir:
        result = run(Path(var_dir), args.seconds, print)
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
