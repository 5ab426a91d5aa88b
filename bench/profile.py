"""`python -m bench.profile`: where the time of one `CaseStore.append` goes.

Measures, interleaved so they see the same machine, the layers of the write path:

  plain        INSERT + COMMIT of an equally sized row (the bench's baseline)
  locked       the same with the library's LOCK TABLE … EXCLUSIVE and NOTIFY (PostgreSQL)
  recorder     the eventsourcing recorder's insert_events of one stored event, no sharing
  append       CaseStore.append, end to end

then splits `append` into its phases (wall clock, per append) and counts PostgreSQL
round trips. `--cprofile` adds the heaviest functions under cProfile; `--env KEY=VALUE`
passes eventsourcing settings to `build()` to try a change (AGGREGATE_CACHE_MAXSIZE=1000);
`--no-sharing` profiles the path that stores content unsealed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from bench import backends, logs, measure, suite, workload
from bench.nosharing import NoSharing
from casestore.bootstrap import build
from casestore.services.case_store import CaseStore

PHASES = {
    "_envelope": "verify the submission (signature, times, ids)",
    "_replay": "idempotency check (loads the case)",
    "case": "load the case (all calls, incl. the one in _replay)",
    "_case_key": "fetch + unwrap the case key",
    "_seal": "seal content, grants, escrows, countersign",
    "save": "save: one transaction (events, person, sharing rows)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seconds", type=float, default=4.0, help="per layer")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--no-sharing", action="store_true", help="append unsealed (bench/nosharing.py)"
    )
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative", help="pstats key, e.g. tottime")
    args = parser.parse_args(argv)
    logs.quiet()
    overrides = dict(item.split("=", 1) for item in args.env)

    setup = backends.postgres if args.backend == "postgresql" else backends.sqlite
    with (
        tempfile.TemporaryDirectory(prefix="casestore-bench-var-") as var_dir,
        setup(Path(var_dir)) as backend,
        closing(build(backend.settings, **overrides)) as services,
    ):
        store = services.store
        partner = workload.Partner(store, services.settings)
        cases = workload.open_cases(store, partner, 5)
        if args.no_sharing:
            store.sealer = NoSharing.replacing(store.sealer)
        store.append(cases[0], partner.signalering(cases[0]))
        stored = backend.stored_state_bytes(suite.events_table(store), cases)
        state = secrets.token_bytes(round(stored))
        layers: dict[str, measure.Workload] = {"plain": backend.raw_insert(state)}
        if backend.name == "postgresql":
            layers["locked"] = _locked_insert(backend.settings.database_url or "", state)
        layers["recorder"] = _recorder_insert(store, state)
        layers["append"] = workload.appends(store, partner, cases)
        results = measure.interleaved(layers, seconds=args.seconds, warmup=1.0)

        print(f"{backend.server}; overrides: {overrides or 'none'}\n")
        plain = results["plain"].per_second
        for name, result in results.items():
            print(
                f"  {name:9s} {result.per_second:8.1f}/s  p50 {result.p50_ms:7.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms  ratio to plain {result.per_second / plain:.2f}"
            )

        with _phases(store) as (spent, calls, round_trips):
            appended = measure.throughput(
                workload.appends(store, partner, cases), seconds=args.seconds, warmup=0
            )
        n = appended.operations
        print(f"\nCaseStore.append: {appended.per_second:.1f}/s, p50 {appended.p50_ms:.2f} ms")
        print("       time  calls  waits")
        for method, label in PHASES.items():
            print(
                f"  {1000 * spent[method] / n:6.2f} ms  ×{calls[method] / n:4.1f}  "
                f"{round_trips[method] / n:5.1f}  {method:10s} {label}"
            )
        if backend.name == "postgresql":
            print(f"  {round_trips['wait'] / n:7.1f} psycopg waits (≈ round trips) per append")

        if args.cprofile:
            profiler = cProfile.Profile()
            work = workload.appends(store, partner, cases)

            def profiled(argument: Any) -> object:
                profiler.enable()
                try:
                    return work.operation(argument)
                finally:
                    profiler.disable()

            measure.throughput(
                measure.Workload(profiled, work.prepare), seconds=args.seconds, warmup=0
            )
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    return 0


@contextmanager
def _phases(
    store: CaseStore,
) -> Iterator[tuple[defaultdict[str, float], Counter[str], Counter[str]]]:
    """Time the store's steps by shadowing its methods on the instance, and count
    psycopg's waits for the server, for as long as the block runs."""
    spent: defaultdict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    round_trips: Counter[str] = Counter()

    def timed(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started, waits = time.perf_counter(), round_trips["wait"]
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
                calls[name] += 1
                round_trips[name] += round_trips["wait"] - waits

        return wrapper

    for name in PHASES:
        setattr(store, name, timed(name, getattr(store, name)))
    original_wait = psycopg.Connection.wait

    def counting_wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        round_trips["wait"] += 1
        return original_wait(self, *args, **kwargs)

    # Counted for the profile and restored below; mypy rightly refuses patching a method.
    psycopg.Connection.wait = counting_wait  # type: ignore[method-assign]
    try:
        yield spent, calls, round_trips
    finally:
        psycopg.Connection.wait = original_wait  # type: ignore[method-assign]
        for name in PHASES:
            delattr(store, name)


def _locked_insert(database_url: str, state: bytes) -> measure.Workload:
    """One row per transaction with the statements eventsourcing's PostgreSQL recorder
    adds around its INSERT, pipelined as it does."""
    schema = parse_qs(urlparse(database_url).query)["schema"][0]
    conn = psycopg.connect(backends.postgres_url())
    table = sql.Identifier(schema, backends.RAW_TABLE)
    lock = sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table)
    insert = sql.SQL(
        "INSERT INTO {} (originator_id, originator_version, topic, state) VALUES (%s, 1, %s, %s)"
    ).format(table)

    def insert_one(_: None) -> object:
        with conn.pipeline() as pipeline, conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'", prepare=True)
            cursor.execute(lock, prepare=True)
            cursor.execute("NOTIFY bench_raw")
            cursor.execute(insert, (uuid4(), "bench.raw", state), prepare=True)
            pipeline.sync()
        return None

    return measure.Workload(insert_one)


def _recorder_insert(store: CaseStore, state: bytes) -> measure.Workload:
    """The library's own write path for one stored event, without the application."""

    def insert_one(_: None) -> object:
        event = StoredEvent(uuid4(), 1, "casestore.case.signalering", state)
        return store.recorder.insert_events([event])

    return measure.Workload(insert_one)


if __name__ == "__main__":
    sys.exit(main())
