"""What tests share: clocks, settings, partners and payloads of the demo region.

Test modules import from here (and from the e2e server, receiver and API helpers), never
from one another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml

from casestore.adapters.keyring import demo_signers
from casestore.adapters.persistence.policy_table import JobRow
from casestore.bootstrap import Services
from casestore.domain import errors
from casestore.domain.case import Case
from casestore.entrypoints import demo
from casestore.services.case_store import Author, CaseStore, Recorded, Submission
from casestore.services.clients import Client, ClientRole
from casestore.services.disclosure import SharedEvent
from casestore.services.policy_versions import PolicyBook
from casestore.services.webhooks.worker import Worker
from casestore.settings import Settings
from sharing.client import load_key_directory, open_fields, values_of
from sharing.directory import KeyDirectory
from sharing.envelope import EventContext
from sharing.keys import OrgPrivateKeys
from sharing.owned import reassemble

POSTGRES_URL = os.environ.get(
    "CASESTORE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
POLICY = Path(__file__).resolve().parents[1] / "policies" / "amsterdam-amstelland.yaml"


class Clock:
    """A clock the test moves by hand: no test sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def demo_settings(database_url: str, tmp_path: Path) -> Settings:
    """The demo region on `database_url`, its keys under `tmp_path`.

    Signature enforcement has tests of its own (tests/integration/test_provenance.py);
    the record's behaviour is tested with unsigned submissions from any partner."""
    return Settings(
        demo=True,
        var_dir=tmp_path / "var",
        database_url=database_url,
        policy_file=POLICY,
        require_signatures=False,
    )


ZVH = "zvh-amsterdam-amstelland"  # the custodian the default settings name
GGZ = "arkin"
GEMEENTE = "gemeente-amsterdam"
FORENSISCH = "inforsa"
POLITIE = "politie-amsterdam"

_bsn_counter = count(10_000_000)


def fresh_bsn() -> str:
    """A BSN that passes the elfproef and that this test process has not used before."""
    while True:
        head = f"{next(_bsn_counter):08d}"
        check = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2), head, strict=True)) % 11
        if check < 10:
            return f"{head}{check}"


def aanmelding(bsn: str, naam: str = "J. de Wit") -> dict[str, Any]:
    return {
        "bsn": bsn,
        "naam": naam,
        "geboortedatum": "1984-05-17",
        "aanmeldreden": "Herhaalde escalaties na het stoppen van de behandeling.",
        "risico_indicatie": "Dreigend gedrag tegen buren bij decompensatie.",
        "contactpersoon_aanmelder": "M. de Vries, FACT-team",
    }


def signalering(toelichting: str = "Buren melden dreigende uitspraken.") -> dict[str, Any]:
    return {
        "categorie": "terugval",
        "ernst": 3,
        "gevraagde_actie": "Extra huisbezoek binnen 48 uur.",
        "toelichting": toelichting,
        "medicatie": "Depot gestopt sinds drie weken.",
    }


def netwerk(organisatie: str, wijziging: str = "toegetreden") -> dict[str, Any]:
    return {"organisatie": organisatie, "wijziging": wijziging, "rol_in_casus": "wijkagent"}


DOELGROEPCRITERIA = {
    "psychiatrische_stoornis": "voldaan",
    "lvb": "niet_voldaan",
    "nah": "onbekend",
    "verslaving": "voldaan",
    "meerderjarig": "voldaan",
    "gevaar_risicotaxatie": "voldaan",
    "dwangkader": "niet_voldaan",
    "politie_justitie": "voldaan",
    "multiproblematiek": "voldaan",
}
TRIAGE = {
    "uitkomst": "inclusietafel",
    "onderbouwing": "Gevaarlijk gedrag met een psychiatrische grondslag.",
    "doelgroepcriteria": DOELGROEPCRITERIA,
}
ELSEWHERE = {**TRIAGE, "uitkomst": "andere_aanpak", "afsluitreden": "andere_aanpak_passend"}
"""A triage to another approach, which ends the case."""
NOT_INCLUDED = {
    "geincludeerd": False,
    "afsluitreden": "buiten_doelgroep",
    "onderbouwing": "Reguliere zorg volstaat.",
}
INCLUSIE = {
    "geincludeerd": True,
    "levensloopaanbieder": FORENSISCH,
    "casusregisseur": GEMEENTE,
    "procesregisseur": ZVH,
    "startniveau": 2,
    "onderbouwing": "Voldoet aan de criteria van de levensloopaanpak.",
}
UITSTROOM = {"reden": "doelen_bereikt", "nazorg": "Jaarlijkse check door de casusregisseur."}


def by(organisation: str) -> Author:
    return Author(organisation, "medewerker-1")


def submit(
    event_type: str, payload: dict[str, Any], author: str = GGZ, key: str | None = None
) -> Submission:
    return Submission(event_type, payload, by(author), idempotency_key=key)


def open_case(store: CaseStore, bsn: str | None = None, *, key: str | None = None) -> Recorded:
    return store.open_case(submit("aanmelding", aanmelding(bsn or fresh_bsn()), GGZ, key))


def include(store: CaseStore, case_id: UUID) -> None:
    store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    store.append(case_id, submit("inclusiebesluit", INCLUSIE, ZVH))


def all_events(store: CaseStore) -> list[Any]:
    return list(store.iter_events())


def load_signed_demo(services: Services) -> list[Recorded]:
    """The demo region's cases, every event signed by its author's demo key, as partners
    sign in production."""
    return list(demo.load(services.store, demo_signers(services.settings.key_directory)))


def key_directory(services: Services) -> KeyDirectory:
    """The key directory as a partner gets it: published, then checked against the
    custodian's signing key id it pinned."""
    published = json.loads(json.dumps(services.provenance.key_directory(services.store.clock())))
    pinned = services.sealer.keyring.signing_key(services.settings.custodian).key_id
    return load_key_directory(published, custodian_key_id=pinned)


def pending(case: Case) -> list[Case.Event]:
    """The events `case` recorded since they were last collected. The library types them as
    any aggregate's events; the tests read the case's own header fields off them."""
    events = []
    for event in case.collect_events():
        assert isinstance(event, Case.Event)
        events.append(event)
    return events


def replayed(events: Iterable[Case.Event]) -> Case:
    """The case its events fold into, from nothing: no snapshot, no repository."""
    case: Case | None = None
    for event in events:
        case = event.mutate(case)
    assert case is not None
    return case


def officer(services: Services, org_id: str, name: str = "FG") -> Client:
    """A privacy officer of `org_id`."""
    return services.clients.add(org_id, ClientRole.privacy_officer, name).client


def activate_policy(services: Services, document: str, *, history: str = "all") -> JobRow | None:
    """Put `document` in force as a proposal of the ZVH's officer approved by the
    municipality's, and re-seal history (the job run to its end)."""
    book = services.policy
    proposal = book.propose(
        officer(services, "zvh-amsterdam-amstelland", "FG ZVH"),
        base_version=book.in_force().version,
        document=document,
        reason="test",
        dpia_reference="DPIA-2026-01",
        vastgesteld_on=date(2026, 1, 1),
    )
    _, job = book.approve(
        proposal.proposal_id,
        officer(services, "gemeente-amsterdam", "FG gemeente"),
        reason="akkoord",
        history=history,
    )
    return None if job is None else book.run_job(job.job_id, "test")


CLI = [sys.executable, "-m", "casestore.entrypoints.cli"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own, with no CASESTORE_ setting but those given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    clean["CASESTORE_POLICY_FILE"] = str(POLICY)
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def run_demo(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`run` on the demo region's throwaway secrets."""
    return run([*args, "--demo"], cwd)


@contextmanager
def worker_thread(services: Services, **options: Any) -> Iterator[Worker]:
    """A webhook worker delivering in a thread until the block ends."""
    worker = Worker(services.disclosure, services.subscriptions, **options)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=15)
        assert not thread.is_alive()


# A policy change, as the tests of the privacy officers' workspace make it.
POLICE_RULE = "signalering-politie"


def edited(services: Services, edit: Callable[[dict[str, Any]], None]) -> str:
    document = yaml.safe_load(services.policy.in_force().document)
    edit(document)
    return yaml.safe_dump(document, allow_unicode=True)


def without_police_rule(document: dict[str, Any]) -> None:
    document["rules"] = [r for r in document["rules"] if r["id"] != POLICE_RULE]


def propose(book: PolicyBook, services: Services, document: str, org: str = demo.ZVH) -> str:
    return book.propose(
        officer(services, org),
        base_version=book.newest().version,
        document=document,
        reason="de politie hoeft de signaleringen niet meer",
        dpia_reference="DPIA-2026-07",
        vastgesteld_on=date(2026, 11, 20),
    ).proposal_id


# ---- what every organisation reads of a case (the rights events) ----------------------


def organisations(services: Services) -> list[str]:
    return sorted(services.store.sealer.matrix.organisations)


def partner_opens(services: Services, org: str, event: SharedEvent) -> dict[str, Any]:
    """What `org` opens of a received event with its own private key."""
    path = services.settings.key_directory / "private" / f"{org}.json"
    key = OrgPrivateKeys.from_json(json.loads(path.read_text())).decryption_key
    context = EventContext(
        services.store.sealer.region, str(event.case_id), event.event_id, event.event_type
    )
    return reassemble(
        values_of(open_fields(context, event.sealed, event.grants, [key]), disclosed=True)
    )


def everything_read(services: Services, case_id: UUID) -> dict[str, list[SharedEvent]]:
    """Every organisation's reads of the case: its case read, its case read opened by the
    service (hosted organisations), and the case's events in its whole feed."""
    disclosure = services.disclosure
    hosted = services.store.sealer.keyring.hosted
    reads: dict[str, list[SharedEvent]] = {}
    for org in organisations(services):
        found: list[SharedEvent] = []
        try:
            found += disclosure.read_case(org, case_id)
            if org in hosted:
                found += disclosure.read_case(org, case_id, decrypt=True)
        except errors.CaseNotFound:
            pass
        found += [e for e in disclosure.feed(org, 0, 10_000) if e.case_id == case_id]
        reads[org] = found
    return reads


def plaintexts(services: Services, reads: dict[str, list[SharedEvent]]) -> str:
    """All that the organisations read, opened as they would, as one text to search."""
    seen = []
    for org, events in reads.items():
        for event in events:
            seen.append(json.dumps(event.to_json(), default=str))
            seen.append(json.dumps(partner_opens(services, org, event), default=str))
    return "\n".join(seen)
