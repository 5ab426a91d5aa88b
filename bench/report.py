"""The figures as a table for people and as JSON for tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RATIO_TARGET = {"postgresql": 0.5}


def table(results: list[dict[str, Any]]) -> str:
    names = [r["backend"] for r in results]
    rows: list[tuple[str, ...]] = [("", *names)]

    def row(label: str, values: list[str]) -> None:
        rows.append((label, *values))

    appends = [r["append"] for r in results]
    loads = [r["load"] for r in results]
    row("signalering payload (JSON bytes)", [f"{a['payload_json_bytes']}" for a in appends])
    row("stored event state (bytes)", [f"{a['stored_state_bytes']}" for a in appends])
    row("CaseStore.append (events/s)", [_rate(a["application"]) for a in appends])
    row("plain INSERT+COMMIT (rows/s)", [_rate(a["plain_insert"]) for a in appends])
    row(
        "ratio append / plain",
        [
            f"{a['ratio']:.2f}{_target(r['backend'], a['ratio'])}"
            for r, a in zip(results, appends, strict=True)
        ],
    )
    events = loads[0]["events"]
    interval = loads[0]["with_snapshots"]["snapshot_interval"]
    row(
        f"load {events}-event case, snapshots /{interval}",
        [_seconds(x["with_snapshots"]) for x in loads],
    )
    row(f"load {events}-event case, no snapshots", [_seconds(x["without"]) for x in loads])
    row("load speed-up from snapshots", [f"{x['speedup']:.1f}x" for x in loads])
    row(f"load {events}-event case, from cache", [_seconds(x["cached"]) for x in loads])
    row(
        "latest snapshot (bytes)",
        [f"{x['with_snapshots']['latest_snapshot_bytes']:,}" for x in loads],
    )

    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    servers = [f"{r['backend']}: {r['server']}" for r in results]
    return "\n".join([*lines, "", *servers])


def write_json(results: list[dict[str, Any]], meta: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**meta, "targets": {"append_ratio": RATIO_TARGET}, "results": results}
    path.write_text(json.dumps(document, indent=2) + "\n")


def _rate(rate: dict[str, float]) -> str:
    return f"{rate['per_second']:,.0f}  (p50 {rate['p50_ms']:.2f} ms, p99 {rate['p99_ms']:.2f} ms)"


def _seconds(load: dict[str, Any]) -> str:
    return f"{1000 * load['median_s']:,.1f} ms (median of {load['repetitions']})"


def _target(backend: str, ratio: float) -> str:
    target = RATIO_TARGET.get(backend)
    if target is None:
        return ""
    verdict = "met" if ratio >= target else "NOT met"
    return f"  (target ≥ {target}: {verdict})"
