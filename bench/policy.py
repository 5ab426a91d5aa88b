"""A policy change on a full store, on PostgreSQL: the impact analysis a privacy officer
waits for, and the re-seal of history after activation, with 2,000 cases of 50 events
(100,000 events), and the same at half that size to show whether memory stays flat.

Set-up, untimed: the store runs under the region's policy without the rule
`signalering-binnen-behandeling` (version 2); one real case of `PER_CASE` events (opened by a
GGZ partner, triaged, included with a levensloopaanbieder, then signaleringen) is copied in
bulk by bench/scaling.py's `grow`, and each copy is given its own wrapped case key and
escrows (bound to its own case and event ids, as sealing would have made them), so that the
re-seal opens every escrow for real. The proposal is the region's policy with the rule back:
the levensloopaanbieder regains six fields of every signalering.

Measured, each in a fresh process on the grown store (so that one step's memory is not
another's): the proposal's impact on stored history (`PolicyBook.impact`, timed, then
again under tracemalloc for its peak), and, after approval, the re-seal job to its end
(timed; grants re-sealed and revoked per second; the process's peak resident memory above
what it held before the job). Beside the re-seal, in the same process and store, its
ceilings: the crypto of one grant alone (`Sealer.regrant`: open the escrow, wrap the keys
for the recipient) and the bare COPY of grant rows into a table without the policy
trigger, per second.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import yaml
from psycopg import sql

from bench import logs, scaling, workload
from bench.backends import postgres_url, settings
from casestore.adapters.epochs import join_wrapped, split_wrapped
from casestore.bootstrap import Services, build
from casestore.services.clients import ClientRole
from casestore.services.sealing import context_of
from sharing.canonical import b64decode, b64encode
from sharing.envelope import (
    Escrow,
    EventContext,
    _unescrow,
    escrow_ad,
    unwrap_case_key,
    wrap_case_key,
)
from sharing.primitives import NONCE_BYTES
from sharing.primitives import aead_encrypt as _seal

CASES = (1_000, 2_000)
PER_CASE = 50
RULE = "signalering-binnen-behandeling"
IMPACT_TARGET_S = 5.0
RESEAL_TARGET = 2_000.0  # grants per second
FLAT = 0.20


def run(var_dir: Path, sizes: tuple[int, ...], log: Callable[[str], None]) -> dict[str, Any]:
    url = postgres_url()
    rows = []
    for cases in sizes:
        schema = f"bench_policy_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        store_url = f"{url}?schema={schema}"
        try:
            log(f"[policy] a store of {cases:,} cases × {PER_CASE} events …")
            started = time.perf_counter()
            proposal, events = _set_up(store_url, url, schema, var_dir, cases)
            log(f"[policy] … {events:,} events in {time.perf_counter() - started:.0f} s")
            log("[policy] impact analysis …")
            impact = _step(store_url, var_dir, "impact", proposal)
            job_id = _approve(store_url, var_dir, proposal)
            log("[policy] re-seal of history …")
            reseal = _step(store_url, var_dir, "reseal", job_id)
            rows.append({"cases": cases, "events": events, **impact, **reseal})
            log(f"[policy] {json.dumps(rows[-1])}")
        finally:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    first, last = rows[0], rows[-1]
    for key in ("impact_peak_bytes", "reseal_rss_growth_bytes"):
        last[f"{key}_vs_first"] = round(last[key] / max(1, first[key]), 2)
    return {
        "rows": rows,
        "targets": {
            "impact_s": IMPACT_TARGET_S,
            "reseal_grants_per_s": RESEAL_TARGET,
            "memory_flat_within": FLAT,
        },
        "met": {
            "impact": last["impact_s"] < IMPACT_TARGET_S,
            "reseal": last["reseal_grants_per_s"] >= RESEAL_TARGET,
            "memory_flat": all(
                abs(last[f"{k}_vs_first"] - 1) <= FLAT
                for k in ("impact_peak_bytes", "reseal_rss_growth_bytes")
            ),
        },
    }


def _set_up(store_url: str, url: str, schema: str, var_dir: Path, cases: int) -> tuple[str, int]:
    services = build(settings(store_url, var_dir))
    try:
        book = services.policy
        full = book.in_force().document
        gemeente = _officer(services, "gemeente-amsterdam")
        zvh = _officer(services, "zvh-amsterdam-amstelland")
        narrowed = _propose(services, zvh, _without(full, RULE))
        book.approve(narrowed, gemeente, reason="bench", history="new")
        partner = workload.Partner(services.store, services.settings)
        template = scaling._template_case(services.store, partner, PER_CASE)
        events = scaling.grow(url, schema, template, cases * PER_CASE, per_case=PER_CASE)
        _rekey(services, url, schema, template)
        return _propose(services, zvh, full), events
    finally:
        services.close()


def _rekey(services: Services, url: str, schema: str, template: UUID) -> None:
    """Give every copy of the template its own wrapped case key and escrows: the copies
    were made with the template's, which are bound to the template's ids."""
    sealer, region = services.sealer, services.sealer.region
    tables = services.store.records.tables
    case_key = services.store.case_key(template)
    epoch, wrapping = sealer.epochs.current()
    history = services.store.history(template)
    keys = {}
    for row in tables.escrows_of_case(str(template)):
        event = next(e for e in history if str(e.event_id) == row.event_id)
        escrow = Escrow.from_json(json.loads(row.escrow))
        keys[event.originator_version] = (
            event.event_type,
            escrow.fields,
            b"".join(_unescrow(escrow, context_of(region, event), case_key).values()),
        )
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        copies = [
            r[0]
            for r in conn.execute(
                "SELECT case_id FROM casestore_case_keys WHERE case_id <> %s", (str(template),)
            ).fetchall()
        ]
        wrapped_keys = [
            (join_wrapped(epoch, b64encode(wrap_case_key(wrapping, region, cid, case_key))), cid)
            for cid in copies
        ]
        escrows = []
        ids = conn.execute(
            "SELECT event_id, case_id, version FROM casestore_event_ids WHERE case_id <> %s",
            (str(template),),
        ).fetchall()
        for event_id, cid, version in ids:
            event_type, names, joined = keys[version]
            context = EventContext(region, cid, event_id, event_type)
            nonce = os.urandom(NONCE_BYTES)
            sealed = _seal(joined, escrow_ad(context, names), nonce, case_key)
            escrows.append((json.dumps(Escrow(names, nonce, sealed).to_json()), event_id))
        with conn.cursor() as cursor:
            cursor.executemany(
                "UPDATE casestore_case_keys SET wrapped = %s WHERE case_id = %s", wrapped_keys
            )
            cursor.executemany(
                "UPDATE casestore_event_ids SET escrow_json = %s WHERE event_id = %s", escrows
            )
        conn.commit()
        conn.execute("ANALYZE")
    # One copy opens as its own: a check that the set-up is what the re-seal needs.
    probe = copies[0]
    wrapped = {c: w for w, c in wrapped_keys}[probe]
    unwrap_case_key(wrapping, region, probe, b64decode(split_wrapped(wrapped)[1]))


def _without(document: str, rule_id: str) -> str:
    data = yaml.safe_load(document)
    data["rules"] = [r for r in data["rules"] if r["id"] != rule_id]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _officer(services: Services, org: str) -> Any:
    return services.clients.add(org, ClientRole.privacy_officer, "bench").client


def _propose(services: Services, by: Any, document: str) -> str:
    book = services.policy
    return book.propose(
        by,
        base_version=book.newest().version,
        document=document,
        reason="bench",
        dpia_reference="bench",
        vastgesteld_on=date(2026, 1, 1),
    ).proposal_id


def _approve(store_url: str, var_dir: Path, proposal: str) -> str:
    services = build(settings(store_url, var_dir))
    try:
        _, job = services.policy.approve(
            proposal, _officer(services, "gemeente-amsterdam"), reason="bench", history="all"
        )
        assert job is not None  # history "all" makes one
        return job.job_id
    finally:
        services.close()


def _step(store_url: str, var_dir: Path, step: str, argument: str) -> dict[str, Any]:
    """One measured step in a process of its own (see the module docstring)."""
    done = subprocess.run(  # noqa: S603 - this module, fixed arguments
        [sys.executable, "-m", "bench.policy", step, store_url, str(var_dir), argument],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.policy {step} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _rss() -> int:
    """The process's resident memory now, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _measure_impact(services: Services, proposal: str, store_url: str) -> dict[str, Any]:
    book = services.policy
    matrix = book.compile(book.proposal(proposal).document, "proposal")
    started = time.perf_counter()
    impact = book.impact(matrix)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    book.impact(matrix)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gained = sum(o.fields["gained"] for o in impact.organisations.values())
    return {
        "impact_s": round(seconds, 2),
        "impact_affected_cases": len(impact.affected_cases),
        "impact_fields_gained": gained,
        "impact_peak_bytes": peak,
    }


def _ceilings(services: Services, store_url: str) -> dict[str, Any]:
    """What the re-seal cannot beat, measured on the same store: the crypto of one grant
    (open the escrow, wrap the fields' keys for the recipient: `Sealer.regrant`), and the
    bare COPY of grant rows into a table like `grants` without its trigger."""
    store, sealer = services.store, services.sealer
    tables = store.records.tables
    cid = tables.case_page(1)[0][0]
    events = {str(e.event_id): e for e in store.history(UUID(cid))}
    row = tables.escrows_of_case(cid)[0]
    escrow = Escrow.from_json(json.loads(row.escrow))
    context = context_of(sealer.region, events[row.event_id])
    case_key = store.case_key(UUID(cid))
    org = tables.grants_of_case(cid)[0].org_id
    recipient = next(iter(sealer.keyring.recipients(org, store.clock())))
    n = 2_000
    started = time.perf_counter()
    for _ in range(n):
        sealer.regrant(
            context=context,
            fields=list(escrow.fields),
            escrow=escrow,
            case_key=case_key,
            recipient=recipient,
        )
    crypto = n / (time.perf_counter() - started)
    url, _, schema = store_url.partition("?schema=")
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        rows = conn.execute("SELECT * FROM casestore_grants LIMIT 20000").fetchall()
        conn.execute("CREATE TEMP TABLE bare_grants (LIKE casestore_grants INCLUDING ALL)")
        started = time.perf_counter()
        with conn.cursor().copy("COPY bare_grants FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        conn.commit()
        copied = len(rows) / (time.perf_counter() - started)
    return {"ceiling_regrant_per_s": round(crypto), "ceiling_copy_rows_per_s": round(copied)}


def _measure_reseal(services: Services, job_id: str, store_url: str) -> dict[str, Any]:
    ceilings = _ceilings(services, store_url)
    before = _rss()
    started = time.perf_counter()
    job = services.policy.run_job(job_id, "bench")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    changed = job.granted + job.revoked
    return {
        "reseal_s": round(seconds, 2),
        "reseal_cases": job.done,
        "reseal_granted": job.granted,
        "reseal_revoked": job.revoked,
        "reseal_grants_per_s": round(changed / seconds, 1),
        "reseal_rss_growth_bytes": max(0, peak - before),
        **ceilings,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| cases / events | impact | impact peak (tracemalloc) | re-seal | "
        "grants changed | re-seal rate | re-seal RSS growth | ceiling: regrant crypto | "
        "ceiling: bare COPY of grant rows |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['cases']:,} / {row['events']:,} | {row['impact_s']:.2f} s | "
            f"{row['impact_peak_bytes'] / 2**20:.1f} MiB | {row['reseal_s']:.1f} s | "
            f"{row['reseal_granted'] + row['reseal_revoked']:,} | "
            f"{row['reseal_grants_per_s']:,.0f}/s | "
            f"{row['reseal_rss_growth_bytes'] / 2**20:.1f} MiB | "
            f"{row['ceiling_regrant_per_s']:,}/s | {row['ceiling_copy_rows_per_s']:,}/s |"
        )
    met = result["met"]
    lines.append(
        f"\n(targets: impact < {IMPACT_TARGET_S:.0f} s: {'met' if met['impact'] else 'NOT met'}; "
        f"re-seal ≥ {RESEAL_TARGET:,.0f} grants/s: {'met' if met['reseal'] else 'NOT met'}; "
        f"memory flat within ±{FLAT:.0%} from half the store to all of it: "
        f"{'met' if met['memory_flat'] else 'NOT met'})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The measured step, in its own process: prints its figures as one line of JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.policy")
    parser.add_argument("step", choices=["impact", "reseal"])
    parser.add_argument("store_url")
    parser.add_argument("var_dir", type=Path)
    parser.add_argument("argument")
    args = parser.parse_args(argv)
    logs.quiet()
    services = build(settings(args.store_url, args.var_dir))
    try:
        measure = _measure_impact if args.step == "impact" else _measure_reseal
        print(json.dumps(measure(services, args.argument, args.store_url)))
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
