"""What the audit trail costs: appends and feed pages with the trail on and off, measured
interleaved on one store, and how fast `casestore audit verify` checks the chain.

Feed pages are measured with one reader and with `READERS` concurrent readers (as an API
process serves them from its thread pool): a read's entries are committed together with
those of the reads waiting at the same moment, so concurrent reads share a commit.

    python -m bench.audit [--backend sqlite|postgresql] [--seconds S]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

from bench import backends, logs, measure, workload
from bench.backends import Backend
from casestore.bootstrap import Services, build
from casestore.services.audit import FEED_READ

RATIO_TARGET = 0.85  # with the trail / without, appends and feed pages alike
VERIFY_TARGET_PER_S = 100_000.0
OPEN_CASES = 5
FEED_PAGE = 100
READERS = 4
VERIFY_ENTRIES = 100_000
CHUNK = 2_000


def run(backend: Backend, timing: Any, log: Any) -> dict[str, Any]:
    log(f"[{backend.name}] audit trail on and off: appends and feed pages, interleaved …")
    with closing(build(backend.with_snapshot_interval(100))) as services:
        store = services.store
        partner = workload.Partner(store, services.settings)
        cases = workload.open_cases(store, partner, OPEN_CASES)
        on, off = _toggled(services, True), _toggled(services, False)
        appends = measure.interleaved(
            {
                "on": _with(on, workload.appends(store, partner, cases)),
                "off": _with(off, workload.appends(store, partner, cases)),
            },
            seconds=timing.seconds,
            warmup=timing.warmup,
        )
        org = workload.PARTNER
        feed = measure.interleaved(
            {
                "on": measure.Workload(lambda _: services.disclosure.feed(org, 0, FEED_PAGE), on),
                "off": measure.Workload(
                    lambda _: services.disclosure.feed(org, 0, FEED_PAGE, audit_as=None), off
                ),
            },
            seconds=timing.seconds,
            warmup=timing.warmup,
        )
        log(f"[{backend.name}] feed pages, {READERS} readers at a time, trail on and off …")
        with ThreadPoolExecutor(READERS) as pool:

            def together(audit_as: str | None) -> Any:
                def read(_: int) -> object:
                    return services.disclosure.feed(org, 0, FEED_PAGE, audit_as=audit_as)

                return lambda _: list(pool.map(read, range(READERS)))

            concurrent = measure.interleaved(
                {
                    "on": measure.Workload(together(FEED_READ), on),
                    "off": measure.Workload(together(None), off),
                },
                seconds=timing.seconds,
                warmup=timing.warmup,
            )
        services.audit.enabled = True
        log(f"[{backend.name}] chaining {VERIFY_ENTRIES:,} entries, then verifying …")
        _fill(services, VERIFY_ENTRIES)
        services.audit.checkpoint()
        started = time.perf_counter()
        verified = services.audit.verify()
        seconds = time.perf_counter() - started
        if not verified.ok:  # a bench of a broken chain means nothing
            raise RuntimeError(verified.problem)
        ceiling = _bare_chain_read(services)
        commit = _durable_commit(services)
    return {
        "append_on": appends["on"].per_second,
        "append_off": appends["off"].per_second,
        "append_ratio": appends["on"].per_second / appends["off"].per_second,
        "feed_pages_on": feed["on"].per_second,
        "feed_pages_off": feed["off"].per_second,
        "feed_ratio": feed["on"].per_second / feed["off"].per_second,
        "feed_concurrent_on": concurrent["on"].per_second * READERS,
        "feed_concurrent_off": concurrent["off"].per_second * READERS,
        "feed_concurrent_ratio": concurrent["on"].per_second / concurrent["off"].per_second,
        "verify_entries": verified.entries,
        "verify_per_second": verified.entries / seconds,
        "chain_read_per_second": ceiling,
        "commit_ms": commit * 1000,
        "feed_page_off_ms": 1000 / feed["off"].per_second,
    }


def _bare_chain_read(services: Services) -> float:
    """The ceiling of `audit verify`: the chain's rows read and nothing done with them."""
    started = time.perf_counter()
    rows = sum(1 for _ in services.audit.table.chain())
    return rows / (time.perf_counter() - started)


def _durable_commit(services: Services, times: int = 50) -> float:
    """Seconds for one entry chained and committed durably: what a lone reader's page
    adds at most, where nothing else overlaps it."""
    entry = services.audit.entry(FEED_READ, case="00000000-0000-0000-0000-000000000000")
    started = time.perf_counter()
    for _ in range(times):
        services.audit.table.append(None, [entry])
    return (time.perf_counter() - started) / times


def _toggled(services: Services, enabled: bool) -> Any:
    def prepare() -> None:
        services.audit.enabled = enabled

    return prepare


def _with(prepare: Any, inner: measure.Workload) -> measure.Workload:
    def both() -> Any:
        prepare()
        return inner.prepare()

    return measure.Workload(inner.operation, both)


def _fill(services: Services, entries: int) -> None:
    trail = services.audit
    entry = trail.entry(FEED_READ, case="00000000-0000-0000-0000-000000000000", events=["e"])
    for _ in range(entries // CHUNK):
        trail.record([entry] * CHUNK)


def table(results: list[dict[str, Any]]) -> str:
    lines = ["audit trail                       " + "  ".join(r["backend"] for r in results)]
    for label, key, target in (
        ("append, trail on / off", "append_ratio", RATIO_TARGET),
        ("feed page, trail on / off", "feed_ratio", RATIO_TARGET),
        (f"feed page, {READERS} readers, on / off", "feed_concurrent_ratio", RATIO_TARGET),
    ):
        values = [
            f"{r[key]:.2f} ({'ok' if r[key] >= target else 'below'} ≥ {target})" for r in results
        ]
        lines.append(f"{label:<34}" + "  ".join(values))
    verify = [
        f"{r['verify_per_second']:,.0f}/s over {r['verify_entries']:,} "
        f"({'ok' if r['verify_per_second'] >= VERIFY_TARGET_PER_S else 'below'} "
        f"≥ {VERIFY_TARGET_PER_S:,.0f})"
        for r in results
    ]
    lines.append(f"{'audit verify (entries/s)':<34}" + "  ".join(verify))
    lines.append(
        f"{'  ceiling: bare read of the chain':<34}"
        + "  ".join(f"{r['chain_read_per_second']:,.0f}/s" for r in results)
    )
    lines.append(
        f"{'  durable commit / feed page (off)':<34}"
        + "  ".join(f"{r['commit_ms']:.1f} ms / {r['feed_page_off_ms']:.1f} ms" for r in results)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], action="append")
    args = parser.parse_args(argv)
    logs.quiet()
    timing = argparse.Namespace(seconds=args.seconds, warmup=args.warmup)
    results = []
    with tempfile.TemporaryDirectory(prefix="casestore-bench-audit-") as var_dir:
        for name in args.backend or ["postgresql", "sqlite"]:
            setup = backends.postgres if name == "postgresql" else backends.sqlite
            with setup(Path(var_dir)) as backend:
                results.append({"backend": name, **run(backend, timing, print)})
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
