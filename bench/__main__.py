"""`python -m bench`: one run on PostgreSQL and on SQLite, printed and saved as JSON.

First the CPU cost of sealing one event (no storage, see bench/crypto.py), then per
backend the append rates (sharing on, sharing off, a plain INSERT) and the load times,
then the partner API on PostgreSQL: HTTP appends against the application layer, feed
catch-up, the time from commit to SSE and to webhook receipt, and the custodian's
decrypted timeline of cases of 100 to 10,000 events (bench/timeline.py; `--only-timeline`
runs it alone, on both backends); the coordinators'
worklist of 2,000 open cases (bench/worklist.py); last the scaling run (bench/scaling.py):
append, feed page (beside a bare SELECT of its rows, the database's own ceiling), case read
and timeline with 10 and 100 thousand events in the store (`--scaling-sizes` adds 1
million: `make bench-scaling`). Then a policy change on a store of 2,000
cases and 100,000 events and on half of it (bench/policy.py: impact analysis, re-seal of
history, memory; `make bench-policy` alone).

PostgreSQL gets a schema of its own on CASESTORE_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards; SQLite a temporary file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import audit as audit_bench
from bench import (
    backends,
    crypto,
    http,
    logs,
    report,
    scaling,
    sse_latency,
    suite,
    timeline,
    webhook_latency,
)
from bench import policy as policy_bench
from bench import worklist as worklist_bench

OUTPUT = Path("var/bench/latest.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each one")
    parser.add_argument("--load-seconds", type=float, default=3.0, help="per load measurement")
    parser.add_argument(
        "--crypto-seconds", type=float, default=1.0, help="CPU seconds per sealing measurement"
    )
    parser.add_argument("--http-seconds", type=float, default=8.0, help="per HTTP comparison")
    parser.add_argument("--latency-samples", type=int, default=50)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--backend", choices=["postgresql", "sqlite"], action="append", help="default: both"
    )
    parser.add_argument(
        "--scaling-sizes",
        default=",".join(map(str, scaling.DEFAULT_SIZES)),
        help="events in the store for the scaling run, comma-separated ('' skips it)",
    )
    parser.add_argument("--scaling-seconds", type=float, default=4.0, help="per operation")
    parser.add_argument(
        "--only-scaling", action="store_true", help="the scaling run alone (make bench-scaling)"
    )
    parser.add_argument(
        "--policy-cases",
        default=",".join(map(str, policy_bench.CASES)),
        help="cases (of 50 events) in the stores of the policy-change run, comma-separated "
        "('' skips it)",
    )
    parser.add_argument(
        "--only-policy", action="store_true", help="the policy-change run alone (make bench-policy)"
    )
    parser.add_argument(
        "--only-timeline",
        action="store_true",
        help="the timeline by case length alone, on each chosen backend (bench/timeline.py)",
    )
    args = parser.parse_args(argv)
    logs.quiet()
    timing = suite.Timing(args.seconds, args.warmup, args.load_seconds)
    chosen = args.backend or ["postgresql", "sqlite"]

    started, load_before = time.perf_counter(), _load_average()
    results: list[dict[str, Any]] = []
    trail: list[dict[str, Any]] = []  # the audit trail's cost (bench/audit.py)
    with tempfile.TemporaryDirectory(prefix="casestore-bench-var-") as var_dir:
        sizes = tuple(int(s) for s in args.scaling_sizes.split(",") if s.strip())
        policy_sizes = tuple(int(s) for s in args.policy_cases.split(",") if s.strip())
        if args.only_policy:
            alone = policy_bench.run(Path(var_dir), policy_sizes, _log)
            print(policy_bench.table(alone))
            path = args.output.with_name("policy.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"load_average_before": load_before, **alone}, indent=2))
            return 0
        if args.only_timeline:
            lengths: dict[str, Any] = {}
            for name in chosen:
                setup = backends.postgres if name == "postgresql" else backends.sqlite
                with setup(Path(var_dir)) as backend:
                    lengths[name] = timeline.run(backend, args.scaling_seconds, _log)
                print(timeline.table(lengths[name]))
                print()
            path = args.output.with_name("timeline.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            after = _load_average()
            path.write_text(
                json.dumps({"load_average_before_after": [load_before, after], **lengths}, indent=2)
            )
            print(f"load average {load_before} before, {after} after; figures in {path}")
            return 0
        if args.only_scaling:
            only = scaling.run(Path(var_dir), sizes, args.scaling_seconds, _log)
            print(scaling.table(only))
            path = args.output.with_name("scaling.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"load_average_before": load_before, **only}, indent=2))
            return 0
        sealing = crypto.run(backends.settings(None, Path(var_dir)), args.crypto_seconds, _log)
        for name in chosen:
            setup = backends.postgres if name == "postgresql" else backends.sqlite
            with setup(Path(var_dir)) as backend:
                results.append(suite.run(backend, timing, log=_log))
            with setup(Path(var_dir)) as backend:
                trail.append({"backend": name, **audit_bench.run(backend, timing, _log)})
        api: dict[str, Any] = {}
        if "postgresql" in chosen:
            with backends.postgres(Path(var_dir)) as backend:
                api = http.run(backend, args.http_seconds, _log)
            url = backends.postgres_url()
            _log("[http] commit to SSE receipt …")
            api["sse_latency"] = sse_latency.measure(url, args.latency_samples)
            _log("[http] commit to webhook receipt …")
            api["webhook_latency"] = webhook_latency.measure(url, args.latency_samples)
            with backends.postgres(Path(var_dir)) as backend:
                api["timeline"] = timeline.run(backend, args.scaling_seconds, _log)
        coordinators: dict[str, Any] = {}
        if "postgresql" in chosen:
            coordinators = worklist_bench.run(Path(var_dir), args.seconds, _log)
        growth: dict[str, Any] = {}
        if "postgresql" in chosen and sizes:
            growth = scaling.run(Path(var_dir), sizes, args.scaling_seconds, _log)
        change: dict[str, Any] = {}
        if "postgresql" in chosen and policy_sizes:
            change = policy_bench.run(Path(var_dir), policy_sizes, _log)

    meta: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "eventsourcing": version("eventsourcing"),
        "psycopg": version("psycopg"),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_average_before_after": [load_before, _load_average()],
        "timing": {**vars(timing), "crypto_seconds": args.crypto_seconds},
        "audit_trail": trail,
        "worklist": coordinators,
        "policy_change": change,
    }
    print()
    print(report.sealing_table(sealing))
    print()
    print(report.table(results))
    if trail:
        print()
        print(audit_bench.table(trail))
    if api:
        print()
        print(report.api_table(api))
    if "timeline" in api:
        print()
        print(timeline.table(api["timeline"]))
    if coordinators:
        print()
        print(worklist_bench.table(coordinators))
    if growth:
        print()
        print(scaling.table(growth))
    if change:
        print()
        print(policy_bench.table(change))
    report.write_json(results, meta, args.output, sealing, api, growth)
    print(
        f"\n{meta['duration_s']} s in all on {meta['cpus']} CPUs (load average "
        f"{load_before} before, {meta['load_average_before_after'][1]} after); "
        f"figures written to {args.output}"
    )
    return 0


def _load_average() -> float | None:
    """Other work on the host moves commit latency a lot; the figures need this beside."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
