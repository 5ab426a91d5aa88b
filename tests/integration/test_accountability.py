"""The accountability reports against what really happened: a partner's
verstrekkingsprotocol, a breach's blast radius and the access review, each compared with
the grants and reads the test performs. No report carries a content value or a token.
Both backends."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from casestore.bootstrap import Services
from casestore.services.audit import (
    AUDIT_ACCESS_REVIEW,
    AUDIT_BLAST_RADIUS,
    AUDIT_PROTOCOL,
    Actor,
    acting,
)
from sharing.owned import field_of
from tests.factories import (
    FORENSISCH,
    GGZ,
    POLITIE,
    ZVH,
    Clock,
    aanmelding,
    fresh_bsn,
    include,
    netwerk,
    signalering,
    submit,
)

MARKER = "Zeldzaam-Merkteken-9031"


def _case(services: Services, bsn: str | None = None) -> UUID:
    store = services.store
    payload = {**aanmelding(bsn or fresh_bsn()), "aanmeldreden": f"{MARKER} reden"}
    case_id = store.open_case(submit("aanmelding", payload, GGZ)).case_id
    include(store, case_id)
    store.append(case_id, submit("signalering", signalering(f"{MARKER} toelichting"), ZVH))
    return case_id


def _authors(services: Services, case_id: UUID) -> dict[str, str]:
    return {e.event_id: e.author_org for e in services.store.history(case_id)}


def _actions(services: Services) -> list[str]:
    return [item["entry"]["action"] for item in services.audit.export()]


def test_the_protocol_lists_every_grant_and_read_of_the_partners_events(
    services: Services,
) -> None:
    first, second = _case(services), _case(services)
    # The levensloopaanbieder receives the aanmelding (its startdossier); the ZVH does not.
    services.disclosure.read_case(FORENSISCH, first)
    services.disclosure.feed(FORENSISCH, 0, 1000)
    report = services.protocols.of(GGZ)

    tables = services.store.records.tables
    expected = set()
    for case_id in (first, second):
        authors = _authors(services, case_id)
        for g in tables.grants_of_case(str(case_id)):
            if authors[g.event_id] == GGZ and g.org_id != GGZ:
                names = tuple(sorted({field_of(f)[0] for f in g.fields}))
                expected.add((g.org_id, g.event_id, names))
    assert expected  # the aanmelding is provided to the ZVH at least
    granted = {
        (v["ontvanger"], ev, tuple(v["gegevens"]))
        for v in report["verstrekkingen"]
        if v["actie"] == "verstrekt"
        for ev in v["gebeurtenissen"]
    }
    assert granted == expected
    for v in report["verstrekkingen"]:
        assert v["ontvanger"] != GGZ
        assert all(_authors(services, UUID(v["zaak"]))[ev] == GGZ for ev in v["gebeurtenissen"])
        if v["actie"] == "verstrekt" and not all(r == "author" for r in v["regels"]):
            assert v["grondslagen"], v
    reads = [v for v in report["verstrekkingen"] if v["actie"].startswith("opgevraagd")]
    assert [(v["actie"], v["zaak"]) for v in reads] == [
        ("opgevraagd", str(first)),
        ("opgevraagd (feed)", str(first)),
        ("opgevraagd (feed)", str(second)),
    ]
    reader_fields = {f for o, _, names in expected if o == FORENSISCH for f in names}
    assert reads[0]["gegevens"] and all(set(v["gegevens"]) <= reader_fields for v in reads)
    assert {v["ontvanger"] for v in reads} == {FORENSISCH}
    assert report["ontvangers"][FORENSISCH]["zaken"] == 2
    assert _actions(services)[-1] == AUDIT_PROTOCOL
    # The ZVH's own protocol holds its signaleringen, not the GGZ's aanmeldingen.
    own = services.protocols.of(ZVH)
    assert {s for v in own["verstrekkingen"] for s in v["soorten"]} <= {
        "triagebesluit",
        "inclusiebesluit",
        "signalering",
    }


def test_a_stolen_token_exposes_what_its_client_read_and_no_more(services: Services) -> None:
    read, unread = _case(services), _case(services)
    thief = services.clients.add(ZVH, "partner-system", "gestolen").client.client_id
    with acting(Actor(thief, ZVH, "partner-system")):
        services.disclosure.read_case(ZVH, read)
    services.disclosure.read_case(ZVH, unread)  # by someone else
    report = services.blast_radius.of_client(thief)

    tables = services.store.records.tables
    zvh = [g for g in tables.grants_of_case(str(read)) if g.org_id == ZVH]
    types = {e.event_id: e.event_type for e in services.store.history(read)}
    assert report["zaken"] == [str(read)]
    assert report["personen"] == 1
    assert report["ontvangers"] == [ZVH]
    assert set(report["gegevens"]) == {
        f"{types[g.event_id]}.{field_of(f)[0]}" for g in zvh for f in g.fields
    }
    health = report["per_categorie"]["gezondheid (AVG art. 9)"]
    assert "signalering.toelichting" in health["gegevens"]  # free text is special
    assert health["personen"] == 1
    assert "72 uur" in report["concept_melding_ap"]
    assert "art. 34" in report["concept_bericht_betrokkenen"]
    assert _actions(services)[-1] == AUDIT_BLAST_RADIUS


def test_a_leaked_key_exposes_everything_sealed_to_it(services: Services) -> None:
    cases = {_case(services) for _ in range(2)}
    keys = services.sealer.keyring.generations(ZVH)
    report = services.blast_radius.of_key(ZVH, 1)
    key_id = keys[0].enc_key_id
    tables = services.store.records.tables
    sealed = {
        c for c in tables.case_ids() if any(g.key_id == key_id for g in tables.grants_of_case(c))
    }
    assert sealed == {str(c) for c in cases}
    assert set(report["zaken"]) == sealed and report["personen"] == 2
    assert report["uitgangspunt"]["sleutel"] == key_id


def test_a_window_exposes_what_was_provided_in_it(services: Services, clock: Clock) -> None:
    before = clock()
    clock.advance(hours=1)
    case_id = _case(services)
    services.disclosure.read_case(ZVH, case_id)
    after = clock.advance(hours=1)
    inside = services.blast_radius.of_window(before, after, ZVH)
    assert inside["zaken"] == [str(case_id)] and inside["ontvangers"] == [ZVH]
    empty = services.blast_radius.of_window(after, clock.advance(hours=1))
    assert empty["personen"] == 0 and empty["zaken"] == []


def test_the_access_review_finds_stale_tokens_many_cases_and_reads_after_leaving(
    services: Services, clock: Clock
) -> None:
    store = services.store
    idle = services.clients.add(GGZ, "partner-system", "stil").client.client_id
    busy = services.clients.add(POLITIE, "partner-system", "bezig").client.client_id
    clock.advance(days=100)
    cases = [_case(services) for _ in range(2)]
    for case_id in cases:
        store.append(case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    with acting(Actor(busy, POLITIE, "partner-system")):
        for case_id in cases:
            services.disclosure.read_case(POLITIE, case_id)
    store.append(cases[0], submit("netwerkwijziging", netwerk(POLITIE, "uitgetreden"), ZVH))
    clock.advance(minutes=5)
    with acting(Actor(busy, POLITIE, "partner-system")):
        services.disclosure.read_case(POLITIE, cases[0])

    review = services.access_reviews.review(stale_days=90, many_cases=2)
    assert [s["client"] for s in review["ongebruikte_tokens"]] == [idle]
    assert [m["client"] for m in review["veel_zaken_gelezen"]] == [busy]
    late = review["gelezen_na_uittreden"]
    assert [(x["zaak"], x["organisatie"], x["client"]) for x in late] == [
        (str(cases[0]), POLITIE, busy)
    ]
    police = review["organisaties"][POLITIE]["partner-system"]
    assert [c["client"] for c in police] == [busy] and police[0]["laatst_gebruikt"]
    assert review["organisaties"][GGZ]["partner-system"][0]["laatst_gebruikt"] is None
    assert _actions(services)[-1] == AUDIT_ACCESS_REVIEW


def test_no_report_carries_a_content_value_or_a_token(services: Services) -> None:
    bsn = fresh_bsn()
    issued = services.clients.add(ZVH, "partner-system", "markers")
    case_id = _case(services, bsn)
    with acting(Actor(issued.client.client_id, ZVH, "partner-system")):
        services.disclosure.read_case(ZVH, case_id, decrypt=True)
    reports: list[dict[str, Any]] = [
        services.protocols.of(GGZ),
        services.protocols.of(ZVH),
        services.blast_radius.of_client(issued.client.client_id),
        services.blast_radius.of_key(ZVH, 1),
        services.access_reviews.review(),
        services.subject_reports.for_bsn(bsn).document,
    ]
    text = json.dumps(reports, ensure_ascii=False) + "\n".join(
        json.dumps(item, ensure_ascii=False) for item in services.audit.export()
    )
    secret = issued.token.rsplit("_", 1)[-1]
    for needle in (MARKER, bsn, issued.token, secret, "Herhaalde escalaties", "J. de Wit"):
        assert needle not in text
