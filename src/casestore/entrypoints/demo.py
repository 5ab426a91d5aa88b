"""The demo region loaded into a store: the fictional cases of `demo_scenarios`, each
event signed by its author's demo key, and the demo clients' tokens.

Used by `casestore demo` and by `make run`, so a newcomer sees a populated record at
once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from casestore.entrypoints.demo_scenarios import (
    BIZ,
    DEMO_START,
    FORENSISCH,
    GEMEENTE,
    GGZ,
    POLITIE,
    RECLASSERING,
    REFERENCES,
    SCENARIOS,
    WONEN,
    ZVH,
    Step,
    dated,
)
from casestore.services.case_store import Author, CaseStore, Recorded, Submission
from casestore.services.clients import ClientError, Clients
from casestore.services.provenance import sign_submission
from sharing.keys import SigningKey

__all__ = [
    "BIZ",
    "DEMO_START",
    "FORENSISCH",
    "GEMEENTE",
    "GGZ",
    "POLITIE",
    "RECLASSERING",
    "SCENARIOS",
    "WONEN",
    "ZVH",
    "Step",
    "case_ids",
    "dated",
    "ensure_clients",
    "load",
    "recent_start",
]


DEMO_SPAN = timedelta(days=305)  # the last demo event lies 301 days after the start


def recent_start(store: CaseStore) -> datetime:
    """Where a demo loaded today starts: its last event in the recent past, so that the
    terms the policy counts from an event (a signalering to the police is kept a year)
    have not ended when someone tries the walkthroughs; the retention run would rightly
    have deleted those grants of a demo from long ago. A store that holds a demo already
    keeps the start of that load (its first event), so a reload replays it."""
    first = next(store.iter_events(page=1), None)
    if first is not None:
        return first.event.occurred_at
    day = (store.clock() - DEMO_SPAN).date()
    return datetime.combine(day, DEMO_START.timetz())


def load(
    store: CaseStore,
    signers: Mapping[str, SigningKey] | None = None,
    start: datetime = DEMO_START,
) -> Iterator[Recorded]:
    """Record every scenario, each event signed by its author's demo key where one is
    given; idempotency keys make a second load a no-op."""
    keys = signers or {}
    region = store.sealer.region

    def signed(submission: Submission, case_id: UUID | None) -> Submission:
        key = keys.get(submission.author.organisation)
        if key is None:
            return submission
        cid = str(case_id) if case_id else None
        return replace(submission, **sign_submission(region, cid, submission, key))

    for index, (label, referrer, aanmelding, steps) in enumerate(SCENARIOS):
        opening = Submission(
            "aanmelding",
            aanmelding,
            Author(referrer, "demo"),
            occurred_at=start,
            idempotency_key=f"demo-{index}-aanmelding",
        )
        opened = store.open_case(signed(opening, None))
        yield opened
        named: dict[str, str] = {}
        for number, step in enumerate(steps):
            payload = {
                k: named[v[1:]] if k in REFERENCES and isinstance(v, str) else dated(v, start)
                for k, v in step.payload.items()
            }
            submission = Submission(
                step.event_type,
                payload,
                Author(step.author, "demo"),
                occurred_at=start + timedelta(days=step.days_after_start),
                idempotency_key=f"demo-{index}-{number}-{label}",
            )
            recorded = store.append(opened.case_id, signed(submission, opened.case_id))
            if step.name:
                named[step.name] = recorded.event_id
            yield recorded


def case_ids(recordings: list[Recorded]) -> list[UUID]:
    return list(dict.fromkeys(r.case_id for r in recordings))


DEMO_ROLES = {
    "zvh-amsterdam-amstelland": ("coordinator", "privacy-officer", "auditor"),
    "gemeente-amsterdam": ("coordinator", "privacy-officer"),
}


def ensure_clients(clients: Clients, demo_dir: Path) -> Path:
    """Demo tokens in `var/demo/tokens.json`: a partner-system client for every
    organisation, coordinator, privacy-officer and auditor clients of the ZVH, and a
    coordinator and a privacy officer of the municipality (a second officer for four eyes). Tokens
    that still work are kept, so restarting the demo does not change them."""
    path = demo_dir / "tokens.json"
    tokens: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        (org, role)
        for org in sorted(clients.organisations)
        for role in ("partner-system", *DEMO_ROLES.get(org, ()))
    }
    for org, role in sorted(wanted):
        token = tokens.get(org, {}).get(role)
        if token is not None and _works(clients, token):
            continue
        issued = clients.add(org, role, f"demo {role}", timedelta(days=365))
        tokens.setdefault(org, {})[role] = issued.token
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return path


def _works(clients: Clients, token: str) -> bool:
    try:
        clients.authenticate(token)
    except ClientError:
        return False
    return True
