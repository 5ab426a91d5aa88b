"""Time-bounded measurement loops: run for a fixed time after a warm-up, count, report.

Throughputs that are compared with each other are measured *interleaved*, in short
alternating slices, so that both see the same machine: on a shared host the fsync
latency of a commit can change several-fold from one second to the next.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SLICE_SECONDS = 0.25
BATCH_CPU_SECONDS = 0.02


@dataclass(frozen=True)
class Workload:
    """`operation(prepare())`, where only `operation` is timed: `prepare` is what the
    client does before it calls (building and signing a submission)."""

    operation: Callable[[Any], object]
    prepare: Callable[[], Any] = lambda: None


@dataclass(frozen=True)
class Throughput:
    operations: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds


@dataclass(frozen=True)
class Duration:
    repetitions: int
    median_s: float
    min_s: float


@dataclass(frozen=True)
class CpuCost:
    """CPU time (`time.process_time`) per call, from batches of `batch` calls each."""

    batches: int
    batch: int
    best_us: float
    median_us: float


def interleaved(
    workloads: Mapping[str, Workload], *, seconds: float, warmup: float
) -> dict[str, Throughput]:
    """Each workload for about `seconds` of its own time, in alternating slices, after
    `warmup` seconds of each (discarded)."""
    for workload in workloads.values():
        _run_for(workload, warmup)
    timings: dict[str, list[float]] = {name: [] for name in workloads}
    while any(sum(t) < seconds for t in timings.values()):
        for name, workload in workloads.items():
            if sum(timings[name]) < seconds:
                timings[name].extend(_run_for(workload, SLICE_SECONDS))
    return {name: _summary(t) for name, t in timings.items()}


def throughput(workload: Workload, *, seconds: float, warmup: float) -> Throughput:
    return interleaved({"only": workload}, seconds=seconds, warmup=warmup)["only"]


def duration(
    operation: Callable[[], object], *, seconds: float, at_least: int = 3, warmup: int = 1
) -> Duration:
    """Median wall time of `operation`, repeated for about `seconds` (at least `at_least`
    times) after `warmup` untimed calls."""
    for _ in range(warmup):
        operation()
    timings = _run_for(Workload(lambda _: operation()), seconds, at_least=at_least)
    return Duration(len(timings), statistics.median(timings), min(timings))


def cpu_costs(
    operations: Mapping[str, Callable[[int], object]], *, seconds: float, at_least: int = 7
) -> dict[str, CpuCost]:
    """CPU time per call of each `operation(i)` (i = 0, 1, …), measured in alternating
    batches of about `BATCH_CPU_SECONDS` each, so that all see the same machine, until each
    has had about `seconds` of CPU time (and at least `at_least` batches); one untimed batch
    each first, which also sizes the batches.

    Process time, not wall time: on a shared host the CPU time a computation needs moves far
    less than how long it takes, though a busy host still inflates it (a virtual machine's
    stolen time, shared caches). The best batch is the cleanest figure, the median the usual.
    """
    calls = iter(range(1 << 62))

    def one_batch(operation: Callable[[int], object], size: int) -> float:
        started = time.process_time()
        for _ in range(size):
            operation(next(calls))
        return (time.process_time() - started) / size

    batches = {
        name: max(1, round(BATCH_CPU_SECONDS / max(one_batch(operation, 1), 1e-6)))
        for name, operation in operations.items()
    }
    for name, operation in operations.items():
        one_batch(operation, batches[name])
    per_call: dict[str, list[float]] = {name: [] for name in operations}

    def more(name: str) -> bool:
        done = per_call[name]
        return sum(done) * batches[name] < seconds or len(done) < at_least

    while any(more(name) for name in operations):
        for name, operation in operations.items():
            if more(name):
                per_call[name].append(one_batch(operation, batches[name]))
    return {
        name: CpuCost(
            batches=len(done),
            batch=batches[name],
            best_us=1e6 * min(done),
            median_us=1e6 * statistics.median(done),
        )
        for name, done in per_call.items()
    }


def _summary(latencies: list[float]) -> Throughput:
    ordered = sorted(latencies)
    return Throughput(
        operations=len(ordered),
        seconds=sum(ordered),
        p50_ms=1000 * ordered[len(ordered) // 2],
        p99_ms=1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    )


def _run_for(workload: Workload, seconds: float, at_least: int = 0) -> list[float]:
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(timings) < max(at_least, 1):
        argument = workload.prepare()
        started = time.perf_counter()
        workload.operation(argument)
        timings.append(time.perf_counter() - started)
    return timings
