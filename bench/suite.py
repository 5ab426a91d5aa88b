"""The measurements, run once per backend."""

from __future__ import annotations

import json
import secrets
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

from bench import measure, workload
from bench.backends import Backend
from bench.nosharing import NoSharing
from casestore.bootstrap import build
from casestore.services.case_store import CaseStore

OPEN_CASES = 5
LONG_CASE_EVENTS = 10_000
SNAPSHOT_INTERVAL = 100
NO_SNAPSHOTS = LONG_CASE_EVENTS * 2  # larger than the case: no snapshot is ever taken
NO_CACHE = ""  # as AGGREGATE_CACHE_MAXSIZE: no aggregate cache, every read goes to storage


@dataclass(frozen=True)
class Timing:
    seconds: float
    warmup: float
    load_seconds: float


def run(backend: Backend, timing: Timing, log: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {"backend": backend.name, "server": backend.server}

    log(
        f"[{backend.name}] CaseStore.append with sharing on and off, and a plain INSERT + "
        "COMMIT, interleaved …"
    )
    with closing(build(backend.with_snapshot_interval(SNAPSHOT_INTERVAL))) as services:
        store = services.store
        partner = workload.Partner(store, services.settings)
        cases = workload.open_cases(store, partner, OPEN_CASES)
        # Cases of their own for the appends without sharing: their events are stored
        # unsealed, and the sealed cases' stored sizes stay those of sealed events.
        unsealed_cases = workload.open_cases(store, partner, OPEN_CASES)
        sealer = store.sealer
        no_sharing = NoSharing.replacing(sealer)  # bench only: see bench/nosharing.py
        # Size the plain rows like the store's own: measure one stored signalering first.
        store.append(cases[0], partner.signalering(cases[0]))
        state_bytes = backend.stored_state_bytes(events_table(store), cases)
        measured = measure.interleaved(
            {
                "application": workload.appends(store, partner, cases, sealer=sealer),
                "application_no_sharing": workload.appends(
                    store, partner, unsealed_cases, sealer=no_sharing
                ),
                "plain_insert": backend.raw_insert(secrets.token_bytes(round(state_bytes))),
            },
            seconds=timing.seconds,
            warmup=timing.warmup,
        )
        store.sealer = sealer
        app, off, raw = (
            measured["application"],
            measured["application_no_sharing"],
            measured["plain_insert"],
        )
        state_bytes = backend.stored_state_bytes(events_table(store), cases)
        unsealed_bytes = backend.stored_state_bytes(events_table(store), unsealed_cases)
        network = len(store.case(cases[0]).network)
    figures["append"] = {
        "open_cases": OPEN_CASES,
        "case_network": network,
        "payload_json_bytes": len(_json(workload.signalering(0))),
        "stored_state_bytes": round(state_bytes),
        "stored_state_bytes_no_sharing": round(unsealed_bytes),
        "application": _rate(app),
        "application_no_sharing": _rate(off),
        "plain_insert": _rate(raw),
        "ratio": app.per_second / raw.per_second,
        "ratio_no_sharing": off.per_second / raw.per_second,
        "ratio_sharing_on_off": app.per_second / off.per_second,
    }

    figures["load"] = {"events": LONG_CASE_EVENTS}
    for label, interval in (("with_snapshots", SNAPSHOT_INTERVAL), ("without", NO_SNAPSHOTS)):
        log(f"[{backend.name}] loading a {LONG_CASE_EVENTS}-event case ({label}) …")
        settings = backend.with_snapshot_interval(interval)
        with (
            closing(build(settings)) as writer,
            closing(build(settings, AGGREGATE_CACHE_MAXSIZE=NO_CACHE)) as reader,
        ):
            partner = workload.Partner(writer.store, writer.settings)
            case_id = workload.long_case(writer.store, partner, LONG_CASE_EVENTS, interval)
            cold = measure.duration(
                partial(reader.store.case, case_id), seconds=timing.load_seconds
            )
            figures["load"][label] = {
                "snapshot_interval": interval,
                **_duration(cold),
                "latest_snapshot_bytes": _latest_snapshot_bytes(writer.store, case_id),
            }
            if label == "with_snapshots":
                # What a write to a hot case pays: the configured aggregate cache hands out
                # a fast-forwarded deep copy of the cached case.
                warm = measure.duration(
                    partial(writer.store.case, case_id), seconds=timing.load_seconds
                )
                figures["load"]["cached"] = _duration(warm)
    load = figures["load"]
    load["speedup"] = load["without"]["median_s"] / load["with_snapshots"]["median_s"]
    return figures


def _duration(result: measure.Duration) -> dict[str, float]:
    return {"median_s": result.median_s, "min_s": result.min_s, "repetitions": result.repetitions}


def _rate(result: measure.Throughput) -> dict[str, float]:
    return {
        "per_second": result.per_second,
        "operations": result.operations,
        "seconds": result.seconds,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
    }


def events_table(store: CaseStore) -> str:
    name: str = getattr(store.recorder, "events_table_name")  # noqa: B009 - not on the protocol
    return name


def _latest_snapshot_bytes(store: CaseStore, case_id: UUID) -> int | None:
    if store.snapshots is None:
        return None
    latest = store.snapshots.recorder.select_events(case_id, desc=True, limit=1)
    return len(latest[0].state) if latest else None


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()
