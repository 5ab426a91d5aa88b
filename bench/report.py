"""The figures as tables for people and as JSON for tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The case record's own target (append / plain INSERT) is measured with sharing off, the
# record as it stands without the sharing layer; sharing's cost has its own target (with /
# without), and the two together bound the rate with sharing on.
RATIO_TARGET = {"postgresql": 0.5}
SHARING_RATIO_TARGET = 0.6  # append with sharing / append without, every backend
IMPLIED_RATIO_TARGET = {name: t * SHARING_RATIO_TARGET for name, t in RATIO_TARGET.items()}
HTTP_RATIO_TARGET = 0.5  # HTTP appends / application-layer appends, PostgreSQL
LATENCY_P99_TARGET_MS = 1000.0  # commit to SSE and to webhook receipt
FEED_TARGET_PER_S = 5000.0  # an organisation's feed, read from the start


def table(results: list[dict[str, Any]]) -> str:
    names = [r["backend"] for r in results]
    rows: list[tuple[str, ...]] = [("", *names)]

    def row(label: str, values: list[str]) -> None:
        rows.append((label, *values))

    appends = [r["append"] for r in results]
    zipped = list(zip(results, appends, strict=True))

    def ratios(key: str, targets: dict[str, float]) -> list[str]:
        return [f"{a[key]:.2f}{_target(targets.get(r['backend']), a[key])}" for r, a in zipped]

    loads = [r["load"] for r in results]
    row("signalering payload (JSON bytes)", [f"{a['payload_json_bytes']}" for a in appends])
    row("stored event state, sealed (bytes)", [f"{a['stored_state_bytes']}" for a in appends])
    row(
        "stored event state, unsealed (bytes)",
        [f"{a['stored_state_bytes_no_sharing']}" for a in appends],
    )
    row("case network (organisations)", [f"{a['case_network']}" for a in appends])
    row("CaseStore.append, sharing on (events/s)", [_rate(a["application"]) for a in appends])
    row(
        "CaseStore.append, sharing off (events/s)",
        [_rate(a["application_no_sharing"]) for a in appends],
    )
    row("plain INSERT+COMMIT (rows/s)", [_rate(a["plain_insert"]) for a in appends])
    row("ratio append / plain, sharing off", ratios("ratio_no_sharing", RATIO_TARGET))
    row("ratio append / plain, sharing on (implied)", ratios("ratio", IMPLIED_RATIO_TARGET))
    row(
        "ratio sharing on / off",
        ratios("ratio_sharing_on_off", dict.fromkeys(names, SHARING_RATIO_TARGET)),
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
    servers = [f"{r['backend']}: {r['server']}" for r in results]
    return "\n".join([*_columns(rows), "", *servers])


def api_table(api: dict[str, Any]) -> str:
    """The partner API on PostgreSQL, from `bench.http` and the latency probes."""
    http, app = api["http_appends"], api["application_appends"]
    feed, sse, hook = api["feed_catch_up"], api["sse_latency"], api["webhook_latency"]
    rows: list[tuple[str, ...]] = [
        ("partner API (PostgreSQL)", "figure", "target"),
        (f"HTTP appends, {api['clients']} clients (events/s)", _rate(http), ""),
        (f"CaseStore.append, {api['clients']} threads (events/s)", _rate(app), ""),
        (
            "ratio HTTP / application layer",
            f"{api['ratio']:.2f}",
            _verdict(api["ratio"] >= HTTP_RATIO_TARGET, f"≥ {HTTP_RATIO_TARGET}"),
        ),
        (
            "feed catch-up over HTTP (events/s)",
            f"{feed['per_second']:,.0f} ({feed['events']:,} events)",
            _verdict(feed["per_second"] >= FEED_TARGET_PER_S, f"≥ {FEED_TARGET_PER_S:,.0f}"),
        ),
    ]
    for label, figures in (("commit to SSE receipt", sse), ("commit to webhook receipt", hook)):
        rows.append(
            (
                label,
                f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms",
                _verdict(figures["p99_ms"] < LATENCY_P99_TARGET_MS, "p99 < 1 s"),
            )
        )
    return "\n".join(_columns(rows))


def _verdict(met: bool, target: str) -> str:
    return f"{target}: {'met' if met else 'NOT met'}"


def sealing_table(cpu: dict[str, Any]) -> str:
    """CPU per stored event for sealing alone (no storage), from `bench.crypto`."""
    fast, naive = cpu["seal_event"], cpu["naive_sealedbox"]
    shape = f"{cpu['fields']} fields x {cpu['recipients']} recipients, ~{cpu['field_bytes']} B"
    rows: list[tuple[str, ...]] = [
        ("CPU per sealed event (process time)", "best / median", "of it seal_event", ""),
        (
            f"seal_event, {shape}",
            _micros(fast),
            "",
            f"target ≤ {cpu['target_us']:,} µs: "
            + ", ".join(
                f"{which} {'met' if fast[f'{which}_us'] <= cpu['target_us'] else 'NOT met'}"
                for which in ("best", "median")
            ),
        ),
        (
            "  the same, the case's sender key kept",
            _micros(cpu["seal_event_kept_sender"]),
            "",
            "every event of a case after its first",
        ),
        (
            "naive: SealedBox per field x recipient",
            _micros(naive),
            "",
            f"{cpu['naive_over_seal_event']:.1f}x the CPU of seal_event (medians)",
        ),
    ]
    for event in cpu["sharing_seal"]:
        whole, crypto = event["sharing_seal"], event["seal_event"]
        rows.append(
            (
                f"Sealer.seal {event['event_type']}, network of {event['network']}",
                _micros(whole),
                _micros(crypto),
                f"{event['sealed_fields']} sealed fields, {event['grants']} grants, "
                f"{event['content_json_bytes']:,} B; policy + rows "
                f"+{whole['median_us'] - crypto['median_us']:,.0f} µs",
            )
        )
    return "\n".join(_columns(rows))


def write_json(
    results: list[dict[str, Any]],
    meta: dict[str, Any],
    path: Path,
    sealing_cpu: dict[str, Any],
    api: dict[str, Any] | None = None,
    scaling: dict[str, Any] | None = None,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    targets = {
        "append_ratio": IMPLIED_RATIO_TARGET,
        "append_ratio_no_sharing": RATIO_TARGET,
        "sharing_on_off_ratio": SHARING_RATIO_TARGET,
        "seal_event_us": sealing_cpu["target_us"],
        "http_ratio": HTTP_RATIO_TARGET,
        "latency_p99_ms": LATENCY_P99_TARGET_MS,
        "feed_per_second": FEED_TARGET_PER_S,
    }
    document = {
        **meta,
        "targets": targets,
        "sealing_cpu": sealing_cpu,
        "results": results,
        "api": api or {},
        "scaling": scaling or {},
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _rate(rate: dict[str, float]) -> str:
    return f"{rate['per_second']:,.0f}  (p50 {rate['p50_ms']:.2f} ms, p99 {rate['p99_ms']:.2f} ms)"


def _seconds(load: dict[str, Any]) -> str:
    return f"{1000 * load['median_s']:,.1f} ms (median of {load['repetitions']})"


def _micros(cost: dict[str, float]) -> str:
    return f"{cost['best_us']:,.0f} / {cost['median_us']:,.0f} µs"


def _target(target: float | None, ratio: float) -> str:
    if target is None:
        return ""
    verdict = "met" if ratio >= target else "NOT met"
    return f"  (target ≥ {target}: {verdict})"
