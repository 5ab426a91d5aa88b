"""How long the custodian waits for a case's timeline, decrypted, by the case's length.

Cases of 100, 1,000 and 10,000 events are written through the store (an aanmelding,
then signaleringen of about 1 KB, each sealed, granted and countersigned) by the
custodian, so that it receives and opens every field, on PostgreSQL. Measured per case,
interleaved: the timeline reconstructed for the custodian at now (`Timelines.timeline`,
opened with the custodian's key), the first read of each case in a fresh process (cold:
nothing kept yet), and as the baseline the decrypted read of the same case
(`Disclosure.read_case(..., decrypt=True)`), which opens every event the way the read API
does. Targets: 1,000 events under 50 ms, 10,000 under 500 ms; flatness as the store
grows is the scaling run's (bench/scaling.py).
"""

from __future__ import annotations

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
        cold: dict[int, float] = {}
        for n, case_id in cases.items():
            fresh = Timelines(store, store.sealer)  # keeps nothing of any case yet
            started = time.perf_counter()
            fresh.timeline(custodian, case_id)
            cold[n] = (time.perf_counter() - started) * 1000
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
                    "first_read_ms": round(cold[n], 2),
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
        "| events in the case | timeline | per event | first read | decrypted read (baseline) "
        "| ratio | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        target = "" if row["target_ms"] is None else f"< {row['target_ms']:.0f} ms: "
        verdict = "" if row["met"] is None else ("met" if row["met"] else "MISSED")
        lines.append(
            f"| {row['events']:,} | {row['timeline_ms']:.2f} ms | {row['us_per_event']} µs | "
            f"{row['first_read_ms']:.2f} ms | "
            f"{row['decrypted_read_ms']:.2f} ms | {row['timeline_vs_read']:.2f} | "
            f"{target}{verdict} |"
        )
    return "\n".join(lines)
