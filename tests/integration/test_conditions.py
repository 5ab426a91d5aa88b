"""Conditions, joining and leaving through the real services, on SQLite and PostgreSQL.

A toestemming or conflict van plichten recorded in the case opens exactly the flows the
policy lets rest on it, and withdrawing or expiring it takes exactly those away again; a
partner that joins late opens its startdossier (the current plan's own actions and the
identity it needs), nothing older; a partner that leaves under `revoke` opens nothing of
the case any more. Every partner opens with its own private key, as a partner system
would.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from casestore.bootstrap import Services
from casestore.domain import errors
from casestore.services.housekeeping import CONDITION_ENDED
from sharing.client import open_fields, values_of
from sharing.envelope import EventContext
from sharing.keys import OrgPrivateKeys, format_time
from sharing.owned import reassemble
from tests.factories import (
    FORENSISCH,
    GEMEENTE,
    GGZ,
    INCLUSIE,
    POLITIE,
    TRIAGE,
    ZVH,
    Clock,
    aanmelding,
    fresh_bsn,
    include,
    netwerk,
    submit,
)

YMERE = "ymere"
IDENTITY = {"bsn", "naam", "geboortedatum"}
SIGNAAL = {"categorie": "terugval", "ernst": 2, "gevraagde_actie": "Bellen."}


def toestemming(*ontvangers: str, types: list[str] | None = None, **more: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ontvangers": list(ontvangers),
        "gegeven_door": "betrokkene",
        "gegeven_op": "2026-03-01",
        "motivering": "Betrokkene wil dat de regie de aanmelding kent.",
        **more,
    }
    if types is not None:
        payload["gebeurtenistypen"] = types
    return payload


def opened(services: Services, org: str, case_id: UUID) -> dict[int, dict[str, Any]]:
    """What `org` opens of the case with its own private key, per version; {} when the case
    is not shared with it at all."""
    path = services.settings.key_directory / "private" / f"{org}.json"
    key = OrgPrivateKeys.from_json(json.loads(path.read_text())).decryption_key
    try:
        shared = services.disclosure.read_case(org, case_id)
    except errors.CaseNotFound:
        return {}
    region = services.store.sealer.region
    return {
        e.version: reassemble(
            values_of(
                open_fields(
                    EventContext(region, str(case_id), e.event_id, e.event_type),
                    e.sealed,
                    e.grants,
                    [key],
                ),
                disclosed=True,
            )
        )
        for e in shared
    }


def grants(services: Services, case_id: UUID) -> set[tuple[str, int, tuple[str, ...]]]:
    rows = services.store.records.tables.grants_of_case(str(case_id))
    return {(g.org_id, g.version, g.fields) for g in rows}


def resting_on(services: Services, case_id: UUID, record: str) -> set[tuple[str, int]]:
    """The grants whose basis names the condition record."""
    found = set()
    for g in services.store.records.tables.grants_of_case(str(case_id)):
        for access in json.loads(g.basis).values():
            if any(c["record"] == record for c in access["conditions"]):
                found.add((g.org_id, g.version))
    return found


def test_a_toestemming_opens_a_ggz_referral_to_the_regie_and_withdrawing_it_closes_it(
    services: Services,
) -> None:
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)).case_id
    # No door yet: the ZVH, custodian and member, receives nothing of a GGZ referral.
    assert 1 not in opened(services, ZVH, case_id)

    given = store.append(case_id, submit("toestemming", toestemming(ZVH, types=["aanmelding"])))
    referral = opened(services, ZVH, case_id)[1]
    assert referral["naam"] == "J. de Wit"
    assert set(referral) >= IDENTITY | {"risico_indicatie"}
    assert resting_on(services, case_id, given.event_id) == {(ZVH, 1)}  # keys: content only
    # The ZVH sees the toestemming itself (header), not its motivering.
    assert opened(services, ZVH, case_id)[given.version] == {}

    store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    before = grants(services, case_id)
    rested = resting_on(services, case_id, given.event_id)
    withdrawn = store.append(
        case_id,
        submit(
            "toestemming_ingetrokken",
            {"toestemming": given.event_id, "ingetrokken_op": "2026-03-02"},
        ),
    )

    after = grants(services, case_id)
    assert {(o, v) for o, v, _ in before - after} == rested == {(ZVH, 1)}
    assert after - before == {
        (o, v, f) for o, v, f in after if v == withdrawn.version
    }  # only the new event's own grants are new
    assert 1 not in opened(services, ZVH, case_id)
    assert opened(services, ZVH, case_id)[withdrawn.version] == {}  # told, by header
    history = services.grants.history(case_id)
    assert {(c.org_id, c.version) for c in history if c.change == "revoked"} == rested
    assert {c.reason for c in history if c.change == "revoked"} == {
        f"toestemming_ingetrokken {withdrawn.event_id}"
    }
    for change in history:  # the timeline names the consent each grant came and went with
        assert f"toestemming:{given.event_id}" in change.rules.split(",")
    with pytest.raises(errors.ConditionWithdrawn):
        store.append(
            case_id,
            submit(
                "toestemming_ingetrokken",
                {"toestemming": given.event_id, "ingetrokken_op": "2026-03-02"},
            ),
        )


def test_an_expired_toestemming_loses_its_grants_at_the_next_housekeeping_pass(
    services: Services, clock: Clock
) -> None:
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GGZ)).case_id
    until = clock.now + timedelta(days=1)
    given = store.append(
        case_id,
        submit("toestemming", toestemming(ZVH, GEMEENTE, geldig_tot=format_time(until))),
    )
    assert "naam" in opened(services, ZVH, case_id)[1]
    rule_grants = services.store.records.tables.grants_for(ZVH, str(case_id))
    conditions = [
        c for g in rule_grants for a in json.loads(g.basis).values() for c in a["conditions"]
    ]
    assert {(c["kind"], c["record"], c["until"]) for c in conditions} == {
        ("toestemming", given.event_id, format_time(until))
    }
    first = services.housekeeping.run_once()
    assert first is not None
    assert 1 in opened(services, ZVH, case_id)

    clock.now = until + timedelta(minutes=1)
    services.housekeeping.run_once()

    assert 1 not in opened(services, ZVH, case_id)
    revoked = [c for c in services.grants.history(case_id) if c.change == "revoked"]
    assert {(c.org_id, c.reason) for c in revoked} == {(ZVH, CONDITION_ENDED)}


def test_a_conflict_van_plichten_is_the_authors_own_door_and_names_its_events(
    services: Services,
) -> None:
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE)).case_id
    include(store, case_id)
    store.append(case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    up = store.append(case_id, submit("opschaling", {"niveau": 3, "reden": "Opname."}, FORENSISCH))
    assert up.version not in opened(services, POLITIE, case_id)

    weighed = store.append(
        case_id,
        submit(
            "conflict_van_plichten",
            {"ontvangers": [POLITIE], "gebeurtenissen": [up.event_id], "afweging": "Gevaar."},
            FORENSISCH,
        ),
    )
    police = opened(services, POLITIE, case_id)
    assert police[up.version] == {}  # the level (header), never the reden
    assert resting_on(services, case_id, weighed.event_id) == set()  # header grants hold no key
    down = store.append(case_id, submit("afschaling", {"niveau": 2, "reden": "Rust."}, FORENSISCH))
    # Named events only: the next level change is not covered.
    assert down.version not in opened(services, POLITIE, case_id)


def test_a_late_partner_opens_its_startdossier_and_after_leaving_nothing(
    services: Services,
) -> None:
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE)).case_id
    include(store, case_id)
    plans = []
    for version in (1, 2):
        plan = {
            "planversie": version,
            "doelen": [{"levensdomein": "wonen", "doel": "Woning behouden."}],
            "acties": [
                {"organisatie": YMERE, "actie": f"Huurgesprek (plan {version})."},
                {"organisatie": FORENSISCH, "actie": "Depot."},
            ],
            "casusregisseur_contact": "S. Bakker",
            "toelichting": "Besproken met betrokkene.",
        }
        plans.append(store.append(case_id, submit("planwijziging", plan, GEMEENTE)))
    signal = store.append(case_id, submit("signalering", SIGNAAL, ZVH))
    assert opened(services, YMERE, case_id) == {}

    joined = store.append(case_id, submit("netwerkwijziging", netwerk(YMERE), ZVH))

    ymere = opened(services, YMERE, case_id)
    # The identity it needs to find the person, without the BSN it may not process.
    assert set(ymere[1]) == {"naam", "geboortedatum"}
    # The current plan's own actions; no older plan, no earlier signal, no triage.
    assert ymere[plans[1].version]["acties"] == [
        {"organisatie": YMERE, "actie": "Huurgesprek (plan 2).", "termijn": None}
    ]
    assert "toelichting" not in ymere[plans[1].version]
    assert plans[0].version not in ymere and signal.version not in ymere
    assert joined.version in ymere
    assert set(ymere) <= {1, 3, plans[1].version, joined.version}  # 3: the inclusion header
    granted = [c for c in services.grants.history(case_id) if c.org_id == YMERE]
    assert {c.change for c in granted} == {"granted"}
    assert {c.reason for c in granted} == {f"netwerkwijziging {joined.event_id}"}

    # The police, who may process the BSN, receive it when they join.
    store.append(case_id, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    assert set(opened(services, POLITIE, case_id)[1]) >= IDENTITY

    left = store.append(case_id, submit("netwerkwijziging", netwerk(YMERE, "uitgetreden"), ZVH))
    assert services.store.records.tables.grants_for(YMERE, str(case_id)) == []
    after = opened(services, YMERE, case_id)
    assert after == {left.version: {}}  # only the header of its own leaving: told by name
    # Every grant its joining gave is revoked by its leaving (the history orders changes of
    # one moment by version, so a revocation need not come last).
    history = [c for c in services.grants.history(case_id) if c.org_id == YMERE]
    revoked = [c for c in history if c.change == "revoked"]
    assert {c.version for c in revoked} == {c.version for c in granted}
    assert {c.reason for c in revoked} == {f"netwerkwijziging {left.event_id}"}
    with pytest.raises(errors.AuthorNotInNetwork):
        store.append(case_id, submit("signalering", SIGNAAL, YMERE))


def test_only_the_procesregie_writes_the_inclusiebesluit(services: Services) -> None:
    store = services.store
    case_id = store.open_case(submit("aanmelding", aanmelding(fresh_bsn()), GEMEENTE)).case_id
    store.append(case_id, submit("triagebesluit", TRIAGE, ZVH))
    # A ZVH that is not this case's procesregie (another region's custodian, say) may
    # write inclusion decisions by its role, but not in this case.
    store.custodian = "zvh-elders"
    try:
        with pytest.raises(errors.RegieRequired):
            store.append(case_id, submit("inclusiebesluit", INCLUSIE, ZVH))
    finally:
        store.custodian = ZVH
    store.append(case_id, submit("inclusiebesluit", INCLUSIE, ZVH))
