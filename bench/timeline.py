"""How long the custodian waits for a case's timeline, decrypted, by the case's length.

Cases of 100, 1,000 and 10,000 events are written through the store (an aanmelding,
then signaleringen of about 1 KB, each sealed, granted and countersigned) by the
custodian, so that it receives and opens every field, on PostgreSQL and SQLite. Measured
per case, interleaved: the timeline reconstructed for the custodian at now
(`Timelines.timeline`, opened with the custodian's key) as a process that read it before
reads it again (it keeps the fold and checks only what changed), and as the baseline the
decrypted read of the same case (`Disclosure.read_case(..., decrypt=True)`), which opens
every event the way the read API does. Targets: 1,000 events under 50 ms, 10,000 under
500 ms; flatness as the store grows is the scaling run's (bench/scaling.py).

The first read of each case by a process that kept nothing of it (`FIRST_READS` times,
each by a fresh `Timelines`) is shown beside its ceiling: the library's own read of the
case's events (`CaseStore.history`: eventsourcing's select and decode) and the bare
SELECT of the case's rows under it (the recorder's `select_events`, nothing decoded). What
a first read costs beyond the events read is opening every field (one grant unwrap and one
XChaCha20-Poly1305 open with its key commitment per field, no key exchange) and folding.
`python -m bench --only-timeline` runs this alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID

from bench import measure, workload
from bench.backends import Backend
from casestore.bootstrap import build
from casestore.services.case_store import Author, Submission
from casestore.services.disclosure import Disclosure
from casestore.services.timeline import Timelines

LENGTHS = (100, 1_000, 10_000)
TARGETS_MS = {1_000: 50.0, 10_000: 500.0}
FIRST_READS = 3


def run(
    backend: Backend, seconds: float, log: Callable[[str], None], lengths: tuple[int, ...] = LENGTHS
) -> dict[str, Any]:
    services = build(backend.settings)
    try:
        store = services.store
        partner = workload.Partner(store, backend.settings)
        custodian = services.settings.custodian
        # The custodian's own signals (the regie passing warnings on): it receives and
        # opens every field of each, as a case in its coordinators' hands.
        writer = Author(custodian, "bench")
        cases: dict[int, UUID] = {}
        for length in lengths:
            log(f"[timeline] writing a case of {length:,} events …")
            started = time.perf_counter()
            opening = Submission("aanmelding", partner.aanmelding().payload, writer)
            case_id = store.open_case(opening).case_id
            for number in range(length - 1):
                payload = {**workload.signalering(number), "diagnose": None, "medicatie": None}
                store.append(case_id, Submission("signalering", payload, writer))
            cases[length] = case_id
            log(f"[timeline] … in {time.perf_counter() - started:.0f} s")
        timelines, disclosure = services.timelines, services.disclosure
        cold: dict[int, list[float]] = {}
        events_ms: dict[int, float] = {}
        rows_ms: dict[int, float] = {}
        for n, case_id in cases.items():
            log(f"[timeline] first reads of the case of {n:,} events …")
            cold[n] = []
            for _ in range(FIRST_READS):
                fresh = Timelines(store, store.sealer)  # keeps nothing of any case yet
                started = time.perf_counter()
                fresh.timeline(custodian, case_id)
                cold[n].append((time.perf_counter() - started) * 1000)
            events_ms[n] = _best_ms(partial(store.history, case_id))
            rows_ms[n] = _best_ms(partial(store.recorder.select_events, case_id))
        built = {
            str(n): measure.Workload(
                partial(_timeline, timelines, custodian), partial(_id, case_id)
            )
            for n, case_id in cases.items()
        }
        read = {
            str(n): measure.Workload(partial(_read, disclosure, custodian), partial(_id, case_id))
            for n, case_id in cases.items()
        }
        log("[timeline] timeline and decrypted read of each case, interleaved …")
        warmup = min(1.0, seconds / 3)
        timeline_ms = measure.interleaved(built, seconds=seconds, warmup=warmup)
        read_ms = measure.interleaved(read, seconds=seconds, warmup=warmup)
        rows = []
        for n in lengths:
            t, r = timeline_ms[str(n)].p50_ms, read_ms[str(n)].p50_ms
            target = TARGETS_MS.get(n)
            rows.append(
                {
                    "events": n,
                    "timeline_ms": round(t, 2),
                    "first_read_ms": round(statistics.median(cold[n]), 2),
                    "first_read_range_ms": [round(min(cold[n]), 1), round(max(cold[n]), 1)],
                    "first_read_us_per_event": round(statistics.median(cold[n]) * 1000 / n, 1),
                    "events_read_ms": round(events_ms[n], 2),
                    "rows_selected_ms": round(rows_ms[n], 2),
                    "decrypted_read_ms": round(r, 2),
                    "timeline_vs_read": round(t / r, 2),
                    "us_per_event": round(t * 1000 / n, 1),
                    "target_ms": target,
                    "met": None if target is None else t < target,
                }
            )
        return {"backend": backend.name, "rows": rows}
    finally:
        services.close()


def _best_ms(operation: Callable[[], object], times: int = 3) -> float:
    """The fastest of a few calls: the ceiling, as the machine allows it at best."""
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        operation()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _id(case_id: UUID) -> UUID:
    return case_id


def _timeline(timelines: Timelines, org: str, case_id: UUID) -> object:
    return timelines.timeline(org, case_id)


def _read(disclosure: Disclosure, org: str, case_id: UUID) -> object:
    return disclosure.read_case(org, case_id, decrypt=True)


def table(result: dict[str, Any]) -> str:
    lines = [
        f"Timeline for the custodian, decrypted ({result['backend']}; medians)",
        "",
        "| events in the case | timeline, read again | per event | decrypted read (baseline) "
        "| ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        target = "" if row["target_ms"] is None else f"< {row['target_ms']:.0f} ms: "
        verdict = "" if row["met"] is None else ("met" if row["met"] else "MISSED")
        lines.append(
            f"| {row['events']:,} | {row['timeline_ms']:.2f} ms | {row['us_per_event']} µs | "
            f"{row['decrypted_read_ms']:.2f} ms | {row['timeline_vs_read']:.2f} | "
            f"{target}{verdict} |"
        )
    lines += [
        "",
        f"First read by a process that kept nothing ({FIRST_READS} reads: median, range), "
        "beside its ceiling: the case's events as the library reads them, and the bare "
        "SELECT of their rows",
        "",
        "| events in the case | first read | per event | events read (history) | rows selected |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        low, high = row["first_read_range_ms"]
        lines.append(
            f"| {row['events']:,} | {row['first_read_ms']:.1f} ms ({low}–{high}) | "
            f"{row['first_read_us_per_event']} µs | {row['events_read_ms']:.1f} ms | "
            f"{row['rows_selected_ms']:.1f} ms |"
        )
    return "\n".join(lines)
