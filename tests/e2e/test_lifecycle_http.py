"""A whole case over HTTP: partners post signed events with their own tokens, and each reads
back exactly what the region's policy grants it, opened with its own private key.

Everything runs through a real uvicorn server and httpx, on SQLite and on PostgreSQL
(the `services` fixture), with signatures required as in production.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from casestore.adapters.keyring import demo_signers
from casestore.bootstrap import Services, build
from casestore.domain.catalogue import parse_payload
from casestore.domain.errors import CaseStoreError
from casestore.services.case_store import Author, Submission
from casestore.services.provenance import sign_submission
from casestore.settings import Settings
from sharing.client import load_decryption_key, load_key_directory, open_event
from sharing.directory import KeyDirectory
from sharing.keys import DecryptionKey
from sharing.policy import CaseContext, PastEvent, Scope
from tests.e2e.api import Api
from tests.e2e.server import serve_in_thread
from tests.factories import DOELGROEPCRITERIA, Clock, aanmelding, fresh_bsn

PROBLEM = "application/problem+json"
ZVH = "zvh-amsterdam-amstelland"
GEMEENTE = "gemeente-amsterdam"
ARKIN = "arkin"
INFORSA = "inforsa"
POLITIE = "politie-amsterdam"
YMERE = "ymere"
OM = "om-amsterdam"
REGIE = ("levensloopaanbieder", "casusregisseur", "procesregisseur")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As in production: partners' submissions must carry their organisation's signature."""
    return settings.model_copy(update={"require_signatures": True})


# ---- partners as HTTP clients -----------------------------------------------------------


@dataclass
class Partner:
    """One organisation's partner system: its token, its signing key, its private key."""

    org: str
    http: httpx.Client
    services: Services
    region: str
    keys: KeyDirectory | None = None

    def post(
        self,
        case_id: UUID | None,
        event_type: str,
        payload: dict[str, Any],
        *,
        key: str | None = None,
        sign: bool = True,
        keyless: bool = False,
        **body: Any,
    ) -> httpx.Response:
        """POST one event; signed as the partner would unless the org is hosted or `sign`
        is off. The idempotency key goes in the header and is the submission id signed
        (`keyless` sends it in neither header nor body)."""
        key = key or f"{self.org}-{uuid4()}"
        document: dict[str, Any] = {"type": event_type, "payload": payload, **body}
        if sign and self.org not in self.services.settings.hosted_organisations:
            signer = demo_signers(self.services.settings.key_directory)[self.org]
            at = datetime.fromisoformat(body["occurred_at"]) if "occurred_at" in body else None
            submission = Submission(event_type, payload, Author(self.org, "-"), at, key)
            cid = str(case_id) if case_id else None
            now = self.services.store.clock()
            # A payload the catalogue refuses cannot be signed; the service names what is
            # wrong with it before it looks at signatures.
            with contextlib.suppress(CaseStoreError):
                document |= sign_submission(self.region, cid, submission, signer, now=now)
        url = "/v1/cases" if case_id is None else f"/v1/cases/{case_id}/events"
        headers = {} if keyless else {"Idempotency-Key": key}
        return self.http.post(url, json=document, headers=headers)

    def events(self, case_id: UUID) -> httpx.Response:
        return self.http.get(f"/v1/cases/{case_id}/events")

    def feed(self) -> httpx.Response:
        return self.http.get("/v1/feed", params={"after": 0, "limit": 1000})

    def directory(self) -> KeyDirectory:
        """The published keys, checked against the custodian's key id as a partner pins it."""
        if self.keys is not None:
            return self.keys
        response = self.http.get("/v1/keys")
        assert response.status_code == 200, response.text
        keyring = self.services.sealer.keyring
        pinned = keyring.signing_key(self.services.settings.custodian).key_id
        self.keys = load_key_directory(response.json(), custodian_key_id=pinned)
        return self.keys

    def open(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event's fields, opened and verified as the partner's own system would."""
        return open_event(event, [self.decryption_key], directory=self.directory())

    @property
    def decryption_key(self) -> DecryptionKey:
        path = self.services.settings.key_directory / "private" / f"{self.org}.json"
        return load_decryption_key(json.loads(path.read_text()))


@dataclass
class Region:
    api: Api
    partners: dict[str, Partner] = field(default_factory=dict)

    def __getitem__(self, org: str) -> Partner:
        if org not in self.partners:
            region = self.api.services.store.sealer.region
            self.partners[org] = Partner(org, self.api.client(org), self.api.services, region)
        return self.partners[org]

    def close(self) -> None:
        for partner in self.partners.values():
            partner.http.close()


@pytest.fixture
def region(api: Api) -> Iterator[Region]:
    partners = Region(api)
    yield partners
    partners.close()


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem.keys() >= {"type", "title", "status", "detail", "instance"}, problem
    assert problem["status"] == status
    if slug is not None:
        assert problem["type"].endswith(f"/{slug}"), problem
    return problem


# ---- the scenario ------------------------------------------------------------------------

TRIAGE: dict[str, Any] = {
    "uitkomst": "inclusietafel",
    "onderbouwing": "Gevaarlijk gedrag met een psychiatrische grondslag.",
    "doelgroepcriteria": DOELGROEPCRITERIA,
}
INCLUSIE: dict[str, Any] = {
    "geincludeerd": True,
    "levensloopaanbieder": INFORSA,
    "casusregisseur": GEMEENTE,
    "procesregisseur": ZVH,
    "startniveau": 2,
    "onderbouwing": "Voldoet aan de criteria van de levensloopaanpak.",
    "risicotaxatie": "HKT-R: hoog risico bij middelengebruik.",
}
PLAN: dict[str, Any] = {
    "planversie": 1,
    "doelen": [
        {"levensdomein": "wonen", "doel": "Stabiele woonplek met begeleiding."},
        {"levensdomein": "gezondheid", "doel": "Medicatietrouw."},
    ],
    "acties": [
        {"organisatie": YMERE, "actie": "Woning met begeleiding aanbieden.", "termijn": None},
        {"organisatie": INFORSA, "actie": "Wekelijkse behandeling en depot."},
        {"organisatie": YMERE, "actie": "Huurachterstand bevriezen.", "termijn": "2026-06-01"},
        {"organisatie": POLITIE, "actie": "Wijkagent bezoekt maandelijks."},
    ],
    "casusregisseur_contact": "S. Bakker, casusregisseur, 020-5550199",
    "toelichting": "Besproken met betrokkene; zus wil niet dat de buren iets weten.",
}
SIGNALERING: dict[str, Any] = {
    "categorie": "terugval",
    "ernst": 3,
    "gevraagde_actie": "Politie alert bij meldingen van buren.",
    "toelichting": "Buren melden dreigende uitspraken in het trappenhuis.",
    "diagnose": "Schizofrenie, paranoide type.",
    "medicatie": "Depot gestopt sinds drie weken.",
}
DOORGEGEVEN = {  # what the procesregisseur passes on after hearing the provider
    "categorie": "dreiging",
    "ernst": 3,
    "gevraagde_actie": "Politie alert bij meldingen van buren.",
    "toelichting": "Doorgegeven na overleg met de levensloopaanbieder.",
}
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    (ZVH, "triagebesluit", TRIAGE),
    (ZVH, "inclusiebesluit", INCLUSIE),
    (
        GEMEENTE,
        "netwerkwijziging",
        {
            "organisatie": YMERE,
            "wijziging": "toegetreden",
            "rol_in_casus": "verhuurder",
            "reden": "Dreigende huisuitzetting.",
        },
    ),
    (
        ZVH,
        "netwerkwijziging",
        {
            "organisatie": ARKIN,
            "wijziging": "toegetreden",
            "rol_in_casus": "behandelaar",
        },
    ),
    (GEMEENTE, "planwijziging", PLAN),
    (ZVH, "signalering", DOORGEGEVEN),
    (INFORSA, "signalering", SIGNALERING),
    (INFORSA, "opschaling", {"niveau": 3, "reden": "Decompensatie; klinische opname."}),
    (
        ZVH,
        "casusoverleg",
        {
            "soort": "crisisoverleg",
            "deelnemers": [ZVH, GEMEENTE, INFORSA, POLITIE],
            "besluiten": "Tijdelijke opname; woning aanhouden.",
            "verslag": "Zus maakt zich zorgen over de schulden.",
        },
    ),
    (INFORSA, "afschaling", {"niveau": 2, "reden": "Stabiel na opname, ambulant verder."}),
    (
        GEMEENTE,
        "monitoringsmoment",
        {
            "bevindingen": "Geen meldingen sinds de opname.",
            "risico_inschatting": "verhoogd",
            "volgende_moment": "2026-01-15",
        },
    ),
    (GEMEENTE, "uitstroom", {"reden": "doelen_bereikt", "nazorg": "Jaarlijkse check."}),
]


@dataclass
class Posted:
    """What the test knows it posted: author, type, payload and the network it went to."""

    event_id: str
    author: str
    event_type: str
    payload: dict[str, Any]
    case: CaseContext
    """The network it went to, with the regie in force or named by it."""


def expected_fields(
    services: Services, org: str, posted: Posted, clock: Clock
) -> dict[str, Any] | None:
    """What `org` should open of one event by the policy: None if it receives nothing."""
    matrix = services.store.sealer.matrix
    decision = matrix.decide(org, posted.event_type, posted.case, clock(), author=posted.author)
    if not decision.receives:
        return None
    content = parse_payload(posted.event_type, posted.payload, today=clock().date())
    values = content.content_values()
    owned = type(content).owned_fields()
    granted: dict[str, Any] = {}
    for name, access in decision.fields.items():
        value = values[name]
        if access.scope is Scope.own:
            value = [entry for entry in value if entry["organisatie"] == org]
        if name in owned and not value:
            continue  # sealed per owner: no entries (of its own) is no part sealed for it
        granted[name] = value
    return granted


def startdossier_fields(
    services: Services, org: str, posted: list[Posted], clock: Clock
) -> dict[str, dict[str, Any]]:
    """What `org`, having joined after the aanmelding, opens of the events before it joined:
    its startdossier, by the rules with `on_join`, as the case stands at the end."""
    joined = next((i for i, p in enumerate(posted) if org in p.case.members), None)
    if not joined:
        return {}
    last = posted[-1].case
    past = [PastEvent(p.event_id, p.event_type, p.author) for p in posted[:joined]]
    past = [e for e in past if e.author != org]
    matrix = services.store.sealer.matrix
    chosen = matrix.startdossier(org, past, last, clock())
    by_id = {p.event_id: p for p in posted}
    found = {}
    for event_id, decision in chosen.items():
        event = by_id[str(event_id)]
        values = parse_payload(event.event_type, event.payload, today=clock().date())
        content = values.content_values()
        granted: dict[str, Any] = {}
        for name, access in decision.fields.items():
            value = content[name]
            if access.scope is Scope.own:
                value = [entry for entry in value if entry["organisatie"] == org]
                if not value:
                    continue
            granted[name] = value
        found[str(event_id)] = granted
    return found


def run_scenario(region: Region) -> tuple[UUID, list[Posted]]:
    """Post the whole case, checking each answer; returns what was posted."""
    payload = aanmelding(fresh_bsn())
    opened = region[POLITIE].post(None, "aanmelding", payload)
    assert opened.status_code == 201, opened.text
    first = opened.json()
    case_id = UUID(first["case_id"])
    assert opened.headers["location"] == f"/v1/cases/{case_id}"
    assert (first["version"], first["replayed"]) == (1, False)
    network = {POLITIE, ZVH}
    regie: dict[str, str] = {}
    partners: dict[str, str] = {}  # organisation -> its rol_in_casus, as the policy's case role
    posted = [Posted(first["event_id"], POLITIE, "aanmelding", payload, CaseContext.of(network))]
    position = first["position"]
    for version, (author, event_type, body) in enumerate(STEPS, start=2):
        response = region[author].post(case_id, event_type, body)
        assert response.status_code == 201, (event_type, response.text)
        recorded = response.json()
        assert recorded["case_id"] == str(case_id)
        assert recorded["version"] == version
        assert recorded["position"] > position
        assert recorded["replayed"] is False
        location = f"/v1/cases/{case_id}/events/{recorded['event_id']}"
        assert response.headers["location"] == location
        position = recorded["position"]
        audience = network | {body[k] for k in ("organisatie", *REGIE) if body.get(k)}
        named = {k: body[k] for k in REGIE if body.get(k)}
        joining = event_type == "netwerkwijziging" and body["wijziging"] == "toegetreden"
        roles_now = {**partners, body["organisatie"]: body["rol_in_casus"]} if joining else partners
        held: dict[str, set[str]] = {}
        for org, role in roles_now.items():
            held.setdefault(role.replace("_", "-"), set()).add(org)
        case = CaseContext.of(audience, {**held, **{k: {v} for k, v in {**regie, **named}.items()}})
        posted.append(Posted(recorded["event_id"], author, event_type, body, case))
        if event_type == "inclusiebesluit":
            network |= {body[k] for k in REGIE}
            regie = named
        elif event_type == "netwerkwijziging":
            change = network.add if body["wijziging"] == "toegetreden" else network.discard
            change(body["organisatie"])
            partners = {o: r for o, r in roles_now.items() if joining or o != body["organisatie"]}
    return case_id, posted


# ---- the lifecycle ------------------------------------------------------------------------


def test_each_organisation_opens_exactly_what_the_policy_grants_it(
    region: Region, clock: Clock
) -> None:
    case_id, posted = run_scenario(region)
    services = region.api.services
    by_id = {p.event_id: p for p in posted}

    opened: dict[str, dict[str, dict[str, Any]]] = {}
    for org in sorted(services.store.sealer.matrix.organisations):
        partner = region[org]
        expected = {p.event_id: expected_fields(services, org, p, clock) for p in posted}
        for event_id, fields in startdossier_fields(services, org, posted, clock).items():
            expected[event_id] = {**(expected[event_id] or {}), **fields}
        received_ids = [eid for eid, fields in expected.items() if fields is not None]
        response = partner.events(case_id)
        feed = partner.feed()
        assert feed.status_code == 200, feed.text
        if not received_ids:
            assert_problem(response, 404, "not-found")
            assert feed.json()["items"] == []
            continue
        assert response.status_code == 200, (org, response.text)
        events = response.json()
        assert [e["event_id"] for e in events] == received_ids, org
        # The feed carries the same events, in the same order, in the same form (the
        # case endpoint's response model adds `payload: null` where the feed omits it).
        assert feed.json()["items"] == events, org
        assert feed.json()["next_after"] == events[-1]["position"]
        opened[org] = {}
        for event in events:
            fields = partner.open(event)
            assert fields == expected[event["event_id"]], (org, event["event_type"])
            readable = {name.partition("/")[0] for name in event["sealed"]}
            assert readable == set(fields), (org, event["event_type"])
            assert not readable & set(event["withheld"])
            assert event["author_org"] == by_id[event["event_id"]].author
            assert event["countersignature"]["org_id"] == ZVH
            assert event["submission_id"].startswith(event["author_org"])  # its key
            opened[org][event["event_type"]] = fields

    # A few of the policy's promises, spelled out.
    assert set(opened[POLITIE]["signalering"]) == {"categorie", "ernst", "gevraagde_actie"}
    assert opened[POLITIE]["signalering"]["gevraagde_actie"] == DOORGEGEVEN["gevraagde_actie"]
    assert OM not in opened  # never in the network: receives nothing at all
    assert opened[YMERE]["planwijziging"] == {
        "acties": [PLAN["acties"][0], PLAN["acties"][2]],
        "casusregisseur_contact": PLAN["casusregisseur_contact"],
    }
    assert opened[YMERE]["signalering"] == {}  # the envelope only
    # What the levensloopaanbieder writes (its signal, the level and why) reaches nobody
    # outside the treatment relationship without the betrokkene's toestemming or a
    # conflict van plichten recorded in the case.
    inforsa_events = {p.event_id for p in posted if p.author == INFORSA}
    for org in (ZVH, GEMEENTE, POLITIE, YMERE):
        received = {e["event_id"] for e in region[org].events(case_id).json()}
        assert not received & inforsa_events, org
    # Arkin joined as behandelaar: the policy's case role, inside the treatment relationship.
    received = {e["event_id"] for e in region[ARKIN].events(case_id).json()}
    assert received & inforsa_events
    assert opened[INFORSA]["opschaling"]["reden"].startswith("Decompensatie")
    assert opened[INFORSA]["afschaling"]["reden"].startswith("Stabiel")
    assert opened[INFORSA]["signalering"] == SIGNALERING
    assert "diagnose" not in opened[GEMEENTE]["signalering"]
    assert "toelichting" not in opened[POLITIE]["planwijziging"]
    assert opened[POLITIE]["planwijziging"]["acties"] == [PLAN["acties"][3] | {"termijn": None}]
    assert opened[POLITIE]["aanmelding"]["bsn"] == posted[0].payload["bsn"]  # its own
    assert "aanmelding" not in opened[YMERE]  # joined later
    assert "verslag" not in opened[POLITIE]["casusoverleg"]


def test_every_post_answers_201_with_where_it_landed_and_the_event_reads_back(
    region: Region,
) -> None:
    inforsa, zvh = region[INFORSA], region[ZVH]
    opened = inforsa.post(None, "aanmelding", aanmelding(fresh_bsn()), key="ref-1")
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    signal = inforsa.post(UUID(case_id), "signalering", SIGNALERING, key="sig-1")
    assert signal.status_code == 201
    event = inforsa.http.get(signal.headers["location"])
    assert event.status_code == 200
    assert event.json()["event_id"] == signal.json()["event_id"]
    assert event.json()["position"] == signal.json()["position"]
    assert inforsa.open(event.json()) == SIGNALERING
    missing = inforsa.http.get(f"/v1/cases/{case_id}/events/no-such-event")
    assert_problem(missing, 404, "not-found")
    # The custodian (hosted) may write unsigned: the service signs for it.
    triage = zvh.post(UUID(case_id), "triagebesluit", TRIAGE)
    assert triage.status_code == 201, triage.text
    assert triage.json()["version"] == 3


def test_retries_replay_and_conflicts_are_409(region: Region) -> None:
    arkin = region[ARKIN]
    services = region.api.services
    payload = aanmelding(fresh_bsn())
    first = arkin.post(None, "aanmelding", payload, key="referral-1")
    assert first.status_code == 201
    again = arkin.post(None, "aanmelding", payload, key="referral-1")
    assert again.status_code == 201, again.text
    assert again.json() == {**first.json(), "replayed": True}
    case_id = UUID(first.json()["case_id"])

    signal = arkin.post(case_id, "signalering", SIGNALERING, key="sig-1")
    position = services.store.max_position()
    retry = arkin.post(case_id, "signalering", SIGNALERING, key="sig-1")
    assert retry.status_code == 201
    assert retry.json() == {**signal.json(), "replayed": True}
    assert services.store.max_position() == position  # nothing new stored
    assert len(arkin.events(case_id).json()) == 2

    other = {**SIGNALERING, "ernst": 4}
    conflict = arkin.post(case_id, "signalering", other, key="sig-1")
    assert_problem(conflict, 409, "idempotency-conflict")
    stale = arkin.post(case_id, "signalering", SIGNALERING, expected_version=1)
    problem = assert_problem(stale, 409, "version-conflict")
    assert problem["current_version"] == 2
    current = arkin.post(case_id, "signalering", other, expected_version=2)
    assert current.status_code == 201
    assert services.store.max_position() == position + 1


def test_a_case_opened_by_anything_but_an_aanmelding_is_409_and_stores_nothing(
    region: Region,
) -> None:
    services = region.api.services
    position = services.store.max_position()
    refused = region[ARKIN].post(None, "signalering", SIGNALERING)
    problem = assert_problem(refused, 409, "process-violation")
    assert "aanmelding" in problem["detail"]
    assert services.store.max_position() == position


def test_who_may_write_is_the_policy_and_unseen_cases_are_not_found(region: Region) -> None:
    gemeente, arkin = region[GEMEENTE], region[ARKIN]
    opened = gemeente.post(None, "aanmelding", aanmelding(fresh_bsn()))
    case_id = UUID(opened.json()["case_id"])
    joined = gemeente.post(
        case_id,
        "netwerkwijziging",
        {
            "organisatie": ARKIN,
            "wijziging": "toegetreden",
            "rol_in_casus": "behandelaar",
        },
    )
    assert joined.status_code == 201

    # A member writing a type the policy's authorship does not give it.
    triage = arkin.post(case_id, "triagebesluit", TRIAGE)
    assert_problem(triage, 403, "author-not-permitted")
    # A former member that saw the case: told it is no longer in the network.
    left = gemeente.post(
        case_id,
        "netwerkwijziging",
        {
            "organisatie": ARKIN,
            "wijziging": "uitgetreden",
            "rol_in_casus": "behandelaar",
        },
    )
    assert left.status_code == 201
    assert_problem(arkin.post(case_id, "signalering", SIGNALERING), 403, "not-in-network")
    assert arkin.events(case_id).status_code == 200  # still reads what it received

    # An organisation that never saw the case learns nothing, whatever it tries.
    unknown = uuid4()
    for outsider, event_type, payload in [
        (OM, "signalering", SIGNALERING),
        (POLITIE, "signalering", SIGNALERING),
        (YMERE, "triagebesluit", TRIAGE),  # not even an author of the type
    ]:
        for target in (case_id, unknown):
            response = region[outsider].post(target, event_type, payload)
            assert_problem(response, 404, "not-found")
            assert_problem(region[outsider].events(target), 404, "not-found")
            one = region[outsider].http.get(f"/v1/cases/{target}/events/x")
            assert_problem(one, 404, "not-found")
    assert_problem(gemeente.events(unknown), 404, "not-found")


BAD_PAYLOADS: list[tuple[str, dict[str, Any], str]] = [
    ("signalering", {**SIGNALERING, "mening": "x"}, "mening"),
    ("signalering", {**SIGNALERING, "ernst": "hoog"}, "ernst"),
    ("signalering", {**SIGNALERING, "ernst": 9}, "ernst"),
    ("signalering", {k: v for k, v in SIGNALERING.items() if k != "categorie"}, "categorie"),
    ("signalering", {**SIGNALERING, "toelichting": "x" * 10_001}, "toelichting"),
    ("monitoringsmoment", {"bevindingen": "-", "risico_inschatting": "eng"}, "risico_inschatting"),
]


def test_bad_requests_are_422_naming_the_field(region: Region) -> None:
    """Payload problems name the field inside the payload; request problems the body's."""
    ggz = region[ARKIN]
    bad_referral = {**aanmelding(fresh_bsn()), "geboortedatum": "2099-01-01"}
    future = ggz.post(None, "aanmelding", bad_referral)
    problem = assert_problem(future, 422, "payload-invalid")
    assert [e["field"] for e in problem["errors"]] == ["geboortedatum"]
    elfproef = ggz.post(None, "aanmelding", {**aanmelding(fresh_bsn()), "bsn": "123456789"})
    assert [e["field"] for e in assert_problem(elfproef, 422, "payload-invalid")["errors"]] == [
        "bsn"
    ]

    opened = ggz.post(None, "aanmelding", aanmelding(fresh_bsn()))
    case_id = UUID(opened.json()["case_id"])
    for event_type, payload, field_name in BAD_PAYLOADS:
        response = ggz.post(case_id, event_type, payload)
        problem = assert_problem(response, 422, "payload-invalid")
        assert [e["field"] for e in problem["errors"]] == [field_name], problem
    unknown = ggz.post(case_id, "gesprek", {"inhoud": "x"})
    assert_problem(unknown, 422, "unknown-event-type")
    extra = ggz.http.post(
        f"/v1/cases/{case_id}/events", json={"type": "signalering", "payload": {}, "x": 1}
    )
    assert [e["field"] for e in assert_problem(extra, 422, "request-invalid")["errors"]] == ["x"]
    no_payload = ggz.http.post(f"/v1/cases/{case_id}/events", json={"type": "signalering"})
    fields = [e["field"] for e in assert_problem(no_payload, 422, "request-invalid")["errors"]]
    assert fields == ["payload"]
    late = ggz.post(case_id, "signalering", SIGNALERING, occurred_at="2099-01-01T00:00:00Z")
    assert [e["field"] for e in assert_problem(late, 422, "payload-invalid")["errors"]] == [
        "occurred_at"
    ]
    unsigned = ggz.post(case_id, "signalering", SIGNALERING, sign=False)
    assert_problem(unsigned, 422, "signature-invalid")
    keyless = ggz.post(case_id, "signalering", SIGNALERING, keyless=True)
    assert [e["field"] for e in assert_problem(keyless, 422, "payload-invalid")["errors"]] == [
        "event_id"
    ]
    assert len(ggz.events(case_id).json()) == 1  # nothing of the above was stored


def test_only_the_hosted_custodian_may_ask_the_service_to_decrypt(region: Region) -> None:
    zvh, gemeente = region[ZVH], region[GEMEENTE]  # a referral the ZVH receives without a door
    payload = aanmelding(fresh_bsn())
    case_id = gemeente.post(None, "aanmelding", payload).json()["case_id"]
    decrypted = zvh.http.get(f"/v1/cases/{case_id}/events", params={"decrypt": "true"})
    assert decrypted.status_code == 200
    [event] = decrypted.json()
    assert event["payload"]["bsn"] == payload["bsn"]
    assert event["payload"] == zvh.open(event)
    refused = gemeente.http.get(f"/v1/cases/{case_id}/events", params={"decrypt": "true"})
    assert "private key" in assert_problem(refused, 403, "forbidden")["detail"]
    one = gemeente.http.get(f"/v1/cases/{case_id}/events/{event['event_id']}?decrypt=true")
    assert_problem(one, 403, "forbidden")
    assert gemeente.events(UUID(case_id)).json()[0]["payload"] is None


def test_an_oversized_body_is_413_whether_declared_or_streamed(region: Region) -> None:
    ggz = region[ARKIN]
    limit = region.api.services.settings.max_request_bytes
    big = {"type": "aanmelding", "payload": {"naam": "x" * limit}}
    declared = ggz.http.post("/v1/cases", json=big)
    assert_problem(declared, 413, "request-too-large")

    def chunks() -> Iterator[bytes]:
        body = json.dumps(big).encode()
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    streamed = ggz.http.post(
        "/v1/cases", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, "request-too-large")
    assert region.api.services.store.max_position() == 0


def test_a_client_over_its_rate_is_429_with_retry_after(settings: Settings, clock: Clock) -> None:
    limited = settings.model_copy(update={"rate_limit": 0.01, "rate_burst": 3})
    services = build(limited, clock=clock)
    token = services.clients.add(ARKIN, "partner-system", "busy").token
    other = services.clients.add(ARKIN, "partner-system", "calm").token
    with serve_in_thread(services) as base_url:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as c:
            assert [c.get("/v1/feed").status_code for _ in range(3)] == [200, 200, 200]
            refused = c.get("/v1/feed")
            assert_problem(refused, 429, "rate-limited")
            assert int(refused.headers["retry-after"]) >= 1
        calm = httpx.get(f"{base_url}/v1/feed", headers={"Authorization": f"Bearer {other}"})
        assert calm.status_code == 200  # the limit is per client
