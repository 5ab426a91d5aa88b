"""What the bench writes: realistic, signed signaleringen on a handful of open cases, and
one long case (appending 10,000 events one by one would take the whole time budget); and
the heavy events whose sealing alone the bench times (a plan in a network of 8)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from itertools import count
from typing import Any
from uuid import UUID, uuid4

from bench.measure import Workload
from casestore.adapters.keyring import demo_signers
from casestore.domain.case import Case
from casestore.services.case_store import Author, CaseStore, Submission
from casestore.services.provenance import sign_submission
from casestore.services.sealing import Sealer
from casestore.settings import Settings

PARTNER = "arkin"  # a GGZ partner: in every case network it refers
AUTHOR = Author(PARTNER, "bench")
BULK_CHUNK = 1_000
# The network of a case at full strength (the cases the append workload writes to have two
# members: the referring partner and the ZVH, as `CaseStore.open_case` leaves them).
NETWORK = (
    "zvh-amsterdam-amstelland",
    "gemeente-amsterdam",
    "arkin",
    "inforsa",
    "jellinek",
    "politie-amsterdam",
    "reclassering-nederland",
    "ymere",
)
PLAN_AUTHOR = "gemeente-amsterdam"  # the casusregisseur writes the plan


def signalering(number: int) -> dict[str, Any]:
    """About 1 KB of JSON, like a real early warning with its context."""
    return {
        "categorie": "terugval",
        "ernst": 1 + number % 4,
        "gevraagde_actie": (
            "Extra huisbezoek binnen 48 uur door het FACT-team; wijkagent alert bij meldingen "
            "van buren; casusregisseur belt de bewindvoerder over de huurachterstand en "
            "bespreekt met de woningcorporatie of een gesprek over de huur kan wachten."
        ),
        "toelichting": (
            f"Melding {number}: buren melden sinds vorige week nachtelijke geluidsoverlast en "
            "dreigende uitspraken in het trappenhuis. Betrokkene weigert de deur te openen "
            "voor de ambulant begeleider en heeft twee afspraken op de poli gemist. De "
            "woningcorporatie overweegt een gesprek over de huurovereenkomst. Zus meldt dat "
            "hij 's nachts niet slaapt, veel blowt en denkt dat de buren hem afluisteren; "
            "eerdere decompensaties begonnen op dezelfde manier."
        ),
        "diagnose": "Schizofrenie, paranoïde type (DSM-5 295.90), met middelengebruik.",
        "medicatie": (
            "Depot (paliperidon 150 mg maandelijks) sinds drie weken niet gegeven; orale "
            "medicatie volgens eigen zeggen gestopt."
        ),
    }


def planwijziging(version: int) -> dict[str, Any]:
    """A full levensloopplan: goals in four domains, actions owned by seven organisations
    (sealed per owner, so the politie and the corporatie read only their own)."""
    acties = [
        ("arkin", "FACT-team: huisbezoek elke week, depotmedicatie weer opstarten."),
        ("inforsa", "Risicotaxatie HKT-R herhalen en het signaleringsplan bijwerken."),
        ("jellinek", "Motiverende gespreksvoering over het cannabisgebruik, twee keer per maand."),
        ("politie-amsterdam", "Wijkagent houdt contact met de buren en meldt incidenten."),
        ("reclassering-nederland", "Toezicht op de bijzondere voorwaarden, meldplicht wekelijks."),
        ("ymere", "Huurachterstand: betalingsregeling, geen ontruimingsprocedure starten."),
        ("gemeente-amsterdam", "Casusregisseur: bewindvoering aanvragen, overleg elke maand."),
    ]
    return {
        "planversie": version,
        "doelen": [
            {"levensdomein": "wonen", "doel": "Behoud van de eigen woning, geen overlast."},
            {"levensdomein": "gezondheid", "doel": "Stabiel op depotmedicatie, geen opname."},
            {"levensdomein": "financien", "doel": "Schulden onder bewind, huur op tijd betaald."},
            {"levensdomein": "veiligheid", "doel": "Geen dreiging of geweld naar buren."},
        ],
        "acties": [
            {"organisatie": org, "actie": actie, "termijn": "2030-01-01"} for org, actie in acties
        ],
        "casusregisseur_contact": "M. Bakker, casusregisseur, 020 555 0100",
        "toelichting": (
            "Plan na het casusoverleg: de decompensaties begonnen steeds na het stoppen van "
            "het depot. Zorg en veiligheid lopen via één casusregisseur; de corporatie wacht "
            "met juridische stappen zolang de betalingsregeling loopt en het plan wordt "
            "gevolgd. Over drie maanden evalueren, eerder bij een signalering van ernst 3+."
        ),
    }


class Partner:
    """The partner system's side: it builds and signs what it submits."""

    def __init__(self, store: CaseStore, settings: Settings) -> None:
        self.region = store.sealer.region
        self.key = demo_signers(settings.key_directory)[PARTNER]
        self._bsns = count(10_000_000 + secrets.randbelow(80_000_000))
        self._numbers = count()

    def sign(self, submission: Submission, case_id: UUID | None) -> Submission:
        cid = str(case_id) if case_id else None
        return replace(submission, **sign_submission(self.region, cid, submission, self.key))

    def aanmelding(self) -> Submission:
        payload = {
            "bsn": self._next_bsn(),
            "naam": "B. Enchmark",
            "geboortedatum": "1980-01-01",
            "aanmeldreden": "Herhaalde escalaties na het stoppen van de behandeling.",
            "risico_indicatie": "Dreigend gedrag bij decompensatie.",
            "contactpersoon_aanmelder": "M. de Vries, FACT-team",
        }
        key = f"bench-aanmelding-{payload['bsn']}"
        return self.sign(Submission("aanmelding", payload, AUTHOR, idempotency_key=key), None)

    def signalering(self, case_id: UUID) -> Submission:
        """A signed signalering with its own idempotency key, as a partner sends it."""
        number = next(self._numbers)
        submission = Submission(
            "signalering", signalering(number), AUTHOR, idempotency_key=f"bench-{number}"
        )
        return self.sign(submission, case_id)

    def _next_bsn(self) -> str:
        """A fresh BSN passing the elfproef (random start: reruns never collide)."""
        weights = (9, 8, 7, 6, 5, 4, 3, 2)
        while True:
            head = f"{next(self._bsns):08d}"
            check = sum(w * int(d) for w, d in zip(weights, head, strict=True)) % 11
            if check < 10:
                return head + str(check)


def open_cases(store: CaseStore, partner: Partner, how_many: int) -> list[UUID]:
    return [store.open_case(partner.aanmelding()).case_id for _ in range(how_many)]


def appends(
    store: CaseStore, partner: Partner, cases: list[UUID], *, sealer: Sealer | None = None
) -> Workload:
    """The partner signs a signalering for the next case, round robin (untimed); the
    store performs one `CaseStore.append` (timed). With `sealer`, the store uses that
    before each append (untimed), so workloads with and without it can be interleaved."""
    turns = count()

    def prepare() -> tuple[UUID, Submission]:
        if sealer is not None:
            store.sealer = sealer
        case_id = cases[next(turns) % len(cases)]
        return case_id, partner.signalering(case_id)

    def append(work: tuple[UUID, Submission]) -> object:
        return store.append(*work)

    return Workload(append, prepare)


def long_case(store: CaseStore, partner: Partner, events: int, snapshot_interval: int) -> UUID:
    """A case of `events` stored events, as the store would have written them.

    Two events go through the store (opening and one sealed, signed signalering); the
    rest are copies of that signalering under fresh event ids, put straight into the
    event store a chunk at a time. Snapshots are then taken where the store would have
    taken them (every `snapshot_interval` versions)."""
    case_id = store.open_case(partner.aanmelding()).case_id
    store.append(case_id, partner.signalering(case_id))
    stored = store.history(case_id)[-1]
    assert isinstance(stored, Case.event_class("signalering"))
    template: Any = stored  # its fields are declared on Case.Event, out of mypy's sight
    version = template.originator_version
    while version < events:
        chunk = []
        for _ in range(min(BULK_CHUNK, events - version)):
            version += 1
            chunk.append(replace(template, originator_version=version, event_id=str(uuid4())))
        store.events.put(chunk)
    for at in range(snapshot_interval, events + 1, snapshot_interval):
        store.take_snapshot(case_id, version=at)
    return case_id
