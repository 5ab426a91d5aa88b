"""Sharing through the case record, on SQLite and PostgreSQL: each partner receives exactly
what the policy grants it and opens it with its own private key; nothing else leaves."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import yaml

from casestore.adapters.persistence.migrations import SchemaError
from casestore.adapters.persistence.policy_table import JobRow
from casestore.bootstrap import Services, build
from casestore.domain.catalogue import parse_payload, schema_of
from casestore.domain.errors import CaseNotFound, CaseStillOpen
from casestore.domain.events.conditions import conditions_of
from casestore.domain.events.rights import corrections_in
from casestore.entrypoints import demo
from casestore.services.case_store import Author, CaseStore, Submission
from casestore.services.disclosure import Disclosure
from casestore.services.sealing import case_context
from casestore.settings import Settings
from sharing.client import open_event, open_fields
from sharing.envelope import Escrow, EventContext, SealedField, open_field_from_escrow
from sharing.errors import CaseKeyDestroyed, DecryptionFailed
from sharing.keys import OrgPrivateKeys
from sharing.policy import Decision, PastEvent
from tests.factories import (
    Clock,
    activate_policy,
    key_directory,
    load_signed_demo,
    signalering,
    submit,
)

ZVH = demo.ZVH
POLITIE = demo.POLITIE


def partner_keys(settings: Settings, org: str) -> OrgPrivateKeys:
    path = settings.key_directory / "private" / f"{org}.json"
    return OrgPrivateKeys.from_json(json.loads(path.read_text()))


def opened_as_partner(services: Services, org: str, event: Any) -> dict[str, Any]:
    """What a partner system gets out of one received event with its own private key,
    verified against the published keys."""
    key = partner_keys(services.settings, org).decryption_key
    return open_event(event.to_json(), [key], directory=key_directory(services))


def demo_truth(services: Services) -> dict[tuple[UUID, int], dict[str, Any]]:
    """The content the demo submitted, per (case, version), as the catalogue normalises it."""
    store = services.store
    truth = {}
    recordings = load_signed_demo(services)
    steps_by_case: dict[UUID, list[tuple[str, dict[str, Any]]]] = {}
    for (_, _, aanmelding, walked), opened in zip(
        demo.SCENARIOS, [r for r in recordings if r.version == 1], strict=True
    ):
        steps_by_case[opened.case_id] = [("aanmelding", aanmelding)] + [
            (s.event_type, demo.dated(s.payload, demo.DEMO_START)) for s in walked
        ]
    today = store.clock().date()
    for case_id, steps in steps_by_case.items():
        for version, (event_type, payload) in enumerate(steps, start=1):
            parsed = parse_payload(event_type, payload, today=today)
            truth[(case_id, version)] = parsed.content_values()
    return truth


def expected_decisions(store: CaseStore, org: str, case_id: UUID) -> dict[int, list[Decision]]:
    """Per version, the policy's decisions that give `org` the event (none: not received):
    each event as the case stood then, under the case's condition records as they stand
    now, and for a member that joined later its startdossier. (The demo has no leavers.)"""
    expected: dict[int, list[Decision]] = {}
    history = store.history(case_id)
    final: Any = None
    for event in history:
        final = event.mutate(final)
    records = conditions_of(final)
    case: Any = None
    now = store.clock()
    joined = None  # since when its membership runs (asked a bekendheidsvraag is not joining)
    previous: frozenset[str] = frozenset()
    for event in history:
        context = case_context(case, event.control, event_id=event.event_id, conditions=records)
        if org in context.members and org not in previous:
            joined = event.originator_version
        previous = context.members
        decision = store.sealer.matrix.decide(
            org, event.event_type, context, now, author=event.author_org
        )
        if decision.receives:
            expected[event.originator_version] = [decision]
        case = event.mutate(case)
    if joined is not None and org in final.network:
        past = [
            PastEvent(e.originator_version, e.event_type, e.author_org)
            for e in history
            if e.originator_version < joined and e.author_org != org
        ]
        context = case_context(final, {}, conditions=records)
        for version, decision in store.sealer.matrix.startdossier(org, past, context, now).items():
            assert isinstance(version, int)
            expected.setdefault(version, []).append(decision)
    return expected


def test_each_partner_opens_exactly_what_the_policy_grants_it(services: Services) -> None:
    store = services.store
    disclosure = services.disclosure
    truth = demo_truth(services)
    services.grants.reconcile_all("retention")  # terms that ended, as the daily run does
    for org in sorted(store.sealer.matrix.organisations):
        for case_id in {case for case, _ in truth}:
            decisions = expected_decisions(store, org, case_id)
            expired = services.grants.expiry(case_id, store.clock(), store.case(case_id).closed_at)
            events = {e.originator_version: e for e in store.history(case_id)}
            # A field a correctie superseded is granted to no one (the demo corrects one).
            corrected = corrections_in(events.values())
            expected = {
                v: {
                    name
                    for d in ds
                    for name, access in d.fields.items()
                    if not expired(access, events[v])
                    and name not in corrected.get(events[v].event_id, {})
                }
                for v, ds in decisions.items()
            }
            if not expected:
                with pytest.raises(CaseNotFound):
                    disclosure.read_case(org, case_id)
                continue
            received = disclosure.read_case(org, case_id)
            assert [e.version for e in received] == sorted(expected), (
                org,
                [(e.version, e.event_type, e.author_org) for e in received],
            )
            for event in received:
                values = opened_as_partner(services, org, event)
                original = truth[(case_id, event.version)]
                readable = expected[event.version]
                # An owned field read with scope "own" holds the organisation's entries
                # only, and is absent when it owns none.
                owned = set(schema_of(event.event_type).owned_fields())
                for name in owned & readable & set(values):
                    own = [a for a in original[name] if a["organisatie"] == org]
                    scope = next(
                        (d.scope(name) for d in decisions[event.version] if d.scope(name)), None
                    )
                    if scope is not None and scope.value == "own":
                        assert values.pop(name) == own
                        readable = readable - {name}
                assert set(values) == readable - (owned - set(values)), (org, event)
                assert values == {f: original[f] for f in values}
                assert set(event.withheld).isdisjoint(values)


def test_the_police_never_open_diagnosis_or_medication(services: Services) -> None:
    disclosure = services.disclosure
    case_id = next(r.case_id for r in load_signed_demo(services) if r.version == 1)
    signaleringen = [
        e for e in disclosure.read_case(POLITIE, case_id) if e.event_type == "signalering"
    ]
    # The ZVH's signal, passed on: never its explanation. The provider's own, with the
    # diagnosis and medication, does not reach the police at all without a door.
    assert [e.author_org for e in signaleringen] == [ZVH]
    for event in signaleringen:
        assert set(event.sealed) == {"categorie", "ernst", "gevraagde_actie"}
        assert "toelichting" in event.withheld
        opened = opened_as_partner(services, POLITIE, event)
        assert set(opened) == {"categorie", "ernst", "gevraagde_actie"}
    provider = [e for e in services.store.history(case_id) if e.author_org == demo.FORENSISCH]
    assert any(e.event_type == "signalering" and "diagnose" in e.content for e in provider)
    received = {e.event_id: e for e in disclosure.read_case(POLITIE, case_id)}
    # The provider's own events reach the police only through its conflict van plichten,
    # which covers the level of care (the header of an opschaling), nothing more.
    through_door = [e for e in provider if e.event_id in received]
    assert {e.event_type for e in through_door} == {"conflict_van_plichten", "opschaling"}
    for door_event in through_door:
        assert opened_as_partner(services, POLITIE, received[door_event.event_id]) == {}


def test_a_case_outside_the_network_is_indistinguishable_from_no_case(services: Services) -> None:
    store = services.store
    disclosure = services.disclosure
    case_id = next(r.case_id for r in demo.load(store) if r.version == 1)
    with pytest.raises(CaseNotFound) as outside:
        disclosure.read_case("om-amsterdam", case_id)
    with pytest.raises(CaseNotFound) as nowhere:
        disclosure.read_case("om-amsterdam", uuid4())
    assert type(outside.value) is type(nowhere.value)


def test_a_sealed_field_moved_to_another_event_does_not_open(services: Services) -> None:
    store = services.store
    disclosure = services.disclosure
    recordings = list(demo.load(store))  # every scenario, so the police are in the network
    case_id = recordings[0].case_id
    key = partner_keys(services.settings, POLITIE).decryption_key
    first, second = [e for e in disclosure.read_case(POLITIE, case_id) if e.sealed][:2]
    with pytest.raises(DecryptionFailed):
        open_fields(second.context, first.sealed, first.grants, [key])
    swapped = {**first.context, "case_id": str(uuid4())}
    with pytest.raises(DecryptionFailed):
        open_fields(swapped, first.sealed, first.grants, [key])
    other = partner_keys(services.settings, ZVH).decryption_key
    with pytest.raises(DecryptionFailed):
        theirs = [{**g, "org_id": ZVH, "key_id": other.key_id} for g in first.grants]
        open_fields(first.context, first.sealed, theirs, [other])


def test_a_hosted_organisation_is_served_decrypted(services: Services) -> None:
    disclosure = services.disclosure
    truth = demo_truth(services)
    case_id = next(iter(truth))[0]
    for event in disclosure.read_case(ZVH, case_id, decrypt=True):
        assert event.payload is not None
        original = truth[(case_id, event.version)]
        assert event.payload == {f: original[f] for f in event.payload}


def closed_case(store: CaseStore) -> UUID:
    recordings = list(demo.load(store))
    return recordings[0].case_id  # the first scenario runs through uitstroom


def test_the_grants_of_one_case_share_its_sender_key_and_shredding_drops_it(
    services: Services,
) -> None:
    store = services.store
    grants = services.grants
    closed = closed_case(store)
    recorder = store.records.tables
    senders = {
        cid: {json.loads(g.grant)["ephemeral_public"] for g in recorder.grants_of_case(cid)}
        for cid in recorder.case_ids()
    }
    assert all(len(keys) == 1 for keys in senders.values())
    assert len({next(iter(keys)) for keys in senders.values()}) == len(senders)
    kept = store.sealer.sender(str(closed))
    grants.shred(closed, by=ZVH, reason="bewaartermijn verstreken")
    assert store.sealer.sender(str(closed)).public != kept.public


def test_shredding_destroys_every_key_and_keeps_the_record(services: Services) -> None:
    store = services.store
    disclosure, grants = services.disclosure, services.grants
    case_id = closed_case(store)
    before = disclosure.read_case(demo.GGZ, case_id)
    assert any(e.grants for e in before)
    record = grants.shred(case_id, by=ZVH, reason="bewaartermijn verstreken")
    assert grants.shred_record(case_id) == record
    assert grants.shred(case_id, by=ZVH, reason="again") == record  # idempotent
    after = disclosure.read_case(demo.GGZ, case_id)
    assert [e.version for e in after] == [e.version for e in before]
    assert all(not e.grants and not e.sealed for e in after)
    recorder = store.records.tables
    assert recorder.grants_of_case(str(case_id)) == []
    assert recorder.escrows_of_case(str(case_id)) == []
    assert recorder.wrapped_case_key(str(case_id)) == (None, True)
    assert grants.reconcile(case_id).granted == 0  # no content is left to grant
    with pytest.raises(CaseKeyDestroyed):  # nor a key to grant it with
        store.case_key(case_id)
    with pytest.raises(CaseKeyDestroyed):
        open_field_from_escrow(
            SealedField.from_json(next(iter(before[0].sealed.values()))),
            Escrow((next(iter(before[0].sealed)),), b"\0" * 24, b"\0" * 48),
            EventContext(**before[0].context).field(next(iter(before[0].sealed))),
            None,
        )


def test_an_open_case_cannot_be_shredded(services: Services) -> None:
    store = services.store
    disclosure, grants = services.disclosure, services.grants
    open_case = [r.case_id for r in demo.load(store) if r.version == 1][1]
    with pytest.raises(CaseStillOpen):
        grants.shred(open_case, by=ZVH, reason="te vroeg")
    assert disclosure.read_case(ZVH, open_case)[0].grants


# ---- policy changes: the demo region's police rule for signaleringen, edited ---------------

POLICE_RULE = "signalering-politie"


def demo_case_with_police(services: Services) -> UUID:
    """The demo loaded, and what its terms ended taken away as the daily retention run
    would have; the case whose network holds the police."""
    case_id = [r.case_id for r in load_signed_demo(services) if r.version == 1][1]
    services.grants.reconcile_all("retention")
    return case_id


def police_signaleringen(disclosure: Disclosure, case_id: UUID) -> list[Any]:
    """The signaleringen of the case as the police read them (none if they see no event)."""
    try:
        events = disclosure.read_case(POLITIE, case_id)
    except CaseNotFound:
        return []
    return [e for e in events if e.event_type == "signalering"]


def edited_policy(settings: Settings, edit: Callable[[dict[str, Any]], None]) -> str:
    """The region's policy with `edit` applied to its document."""
    document = yaml.safe_load(settings.policy_path.read_text())
    edit(document)
    return yaml.safe_dump(document, allow_unicode=True)


def activated(services: Services, document: str) -> JobRow:
    job = activate_policy(services, document)
    assert job is not None
    return job


def police_rule(document: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = next(r for r in document["rules"] if r["id"] == POLICE_RULE)
    return rule


def test_revoking_deletes_grants_and_restoring_reseals_from_escrow(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    store = services.store
    case_id = demo_case_with_police(services)
    original = services.policy.in_force().document

    granted = police_signaleringen(services.disclosure, case_id)
    assert granted and all(e.grants for e in granted)
    truth = opened_as_partner(services, POLITIE, granted[0])
    police_signalering_grants = sum(
        1
        for cid in store.records.tables.case_ids()
        for g in store.records.tables.grants_of_case(cid)
        if g.org_id == POLITIE
        and any(POLICE_RULE in basis["rules"] for basis in json.loads(g.basis).values())
    )
    # One grant per event and organisation key, however many fields it holds.
    assert police_signalering_grants >= len(granted)
    assert all(len(e.grants) == 1 and len(e.sealed) >= 3 for e in granted)

    def without_police_rule(document: dict[str, Any]) -> None:
        document["rules"].remove(police_rule(document))

    changes = activated(services, edited_policy(settings, without_police_rule))
    assert changes.revoked == police_signalering_grants
    assert (
        police_signaleringen(services.disclosure, case_id) == []
    )  # no rule left: not even the envelope

    changes = activated(services, original)
    assert changes.granted == police_signalering_grants
    restored = police_signaleringen(services.disclosure, case_id)
    assert [e.version for e in restored] == [e.version for e in granted]
    assert opened_as_partner(services, POLITIE, restored[0]) == truth
    assert activated(services, original).granted == 0


def test_narrowing_a_rule_replaces_each_grant_with_one_for_the_fields_left(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    case_id = demo_case_with_police(services)
    original = services.policy.in_force().document

    before = police_signaleringen(services.disclosure, case_id)
    assert before and all("gevraagde_actie" in e.sealed for e in before)
    truth = [opened_as_partner(services, POLITIE, e) for e in before]

    def narrowed_police_rule(document: dict[str, Any]) -> None:
        police_rule(document)["fields"] = ["categorie", "ernst"]

    changes = activated(services, edited_policy(settings, narrowed_police_rule))
    assert changes.revoked >= len(before) and changes.granted == changes.revoked

    narrowed = police_signaleringen(services.disclosure, case_id)
    assert [e.version for e in narrowed] == [e.version for e in before]
    for event, full in zip(narrowed, truth, strict=True):
        assert "gevraagde_actie" not in event.sealed and "gevraagde_actie" in event.withheld
        assert [grant["fields"] for grant in event.grants] == [["categorie", "ernst"]]
        opened = opened_as_partner(services, POLITIE, event)
        assert opened == {k: v for k, v in full.items() if k != "gevraagde_actie"}
        # The replaced grant is gone: the old one's field list no longer opens anything.
        assert all("gevraagde_actie" not in g["fields"] for g in event.grants)

    activated(services, original)
    restored = police_signaleringen(services.disclosure, case_id)
    assert [opened_as_partner(services, POLITIE, e) for e in restored] == truth


def test_a_new_policy_names_its_own_rules_in_the_grants_it_makes(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    """A grant records the rules and grounds that granted it; bases are written once per
    decision, and a new policy's decisions must not be given an old one's."""
    store = services.store
    case_id = demo_case_with_police(services)

    def police_bases_of_latest() -> dict[str, Any]:
        latest = store.append(case_id, submit("signalering", signalering(), demo.ZVH))
        rows = store.records.tables.grants_of_case(str(case_id))
        [row] = [r for r in rows if r.version == latest.version and r.org_id == POLITIE]
        return dict(json.loads(row.basis))

    before = police_bases_of_latest()
    assert before and all(b["rules"] == [POLICE_RULE] for b in before.values())

    def renamed_police_rule(document: dict[str, Any]) -> None:
        police_rule(document)["id"] = "signalering-politie-herzien"

    activated(services, edited_policy(settings, renamed_police_rule))

    after = police_bases_of_latest()
    assert after.keys() == before.keys()
    assert all(b["rules"] == ["signalering-politie-herzien"] for b in after.values())
    assert [b["grounds"] for b in after.values()] == [b["grounds"] for b in before.values()]


def test_a_rotated_partner_key_gets_new_grants_and_the_old_key_opens_none(
    services: Services, settings: Settings, clock: Clock
) -> None:
    store = services.store
    disclosure, grants = services.disclosure, services.grants
    case_id = [r.case_id for r in demo.load(store) if r.version == 1][1]
    old = partner_keys(settings, POLITIE)
    clock.advance(days=1)
    new = OrgPrivateKeys.generate(POLITIE, clock())
    public_path = settings.key_directory / "public" / f"{POLITIE}.json"
    retired = {**old.public.to_json(), "retired_at": new.public.to_json()["valid_from"]}
    public_path.write_text(json.dumps([retired, new.public.to_json()]))
    store.sealer.keyring.public[POLITIE] = [
        type(old.public).from_json(retired),
        new.public,
    ]

    changes = grants.reconcile(case_id)
    assert changes.granted == changes.revoked > 0
    received = [e for e in disclosure.read_case(POLITIE, case_id) if e.grants]
    assert received
    for event in received:
        assert {g["key_id"] for g in event.grants} == {new.decryption_key.key_id}
        assert open_fields(event.context, event.sealed, event.grants, [old.decryption_key]) == {}
        assert open_fields(event.context, event.sealed, event.grants, [new.decryption_key])


def test_writes_keep_working_when_a_partner_has_no_key_yet(
    services: Services, settings: Settings
) -> None:
    store = services.store
    disclosure, grants = services.disclosure, services.grants
    del store.sealer.keyring.public[POLITIE]
    recordings = list(demo.load(store))
    case_id = recordings[0].case_id
    assert all(not e.grants for e in disclosure.read_case(POLITIE, case_id))
    store.sealer.keyring.public[POLITIE] = [partner_keys(settings, POLITIE).public]
    assert grants.reconcile(case_id).granted > 0
    assert any(e.grants for e in disclosure.read_case(POLITIE, case_id))


def test_a_second_store_on_the_same_database_reads_the_same_grants(
    services: Services, settings: Settings, clock: Clock, disclosure: Disclosure
) -> None:
    list(demo.load(services.store))
    other = build(settings, clock=clock)
    try:
        case_id = next(r.case_id for r in demo.load(other.store) if r.version == 1)
        assert other.disclosure.read_case(POLITIE, case_id) == disclosure.read_case(
            POLITIE, case_id
        )
    finally:
        other.close()


def test_an_author_outside_the_policy_is_refused_and_nothing_is_stored(
    services: Services,
) -> None:
    from sharing.errors import UnknownOrganisation

    store = services.store

    before = store.max_position()
    submission = Submission(
        "aanmelding",
        demo.SCENARIOS[0][2] | {"bsn": "555666773"},
        Author("onbekende-partij", "x"),
    )
    with pytest.raises(UnknownOrganisation):
        store.open_case(submission)
    assert store.max_position() == before


def test_a_database_with_grants_in_the_older_per_field_layout_is_refused_at_start(
    settings: Settings, clock: Clock
) -> None:
    services = build(settings, clock=clock)
    backend = services.store.records.backend
    grants = backend.table("grants")
    with backend.transaction(commit=True) as cursor:
        cursor.execute(f"DROP TABLE {grants}")
        cursor.execute(
            f"CREATE TABLE {grants} (case_id TEXT, version BIGINT, event_id TEXT, field TEXT, "
            "org_id TEXT, key_id TEXT, grant_json TEXT, policy_version TEXT, rules TEXT, "
            "grounds TEXT)"
        )
        cursor.execute(f"DROP TABLE {backend.table('schema_version')}")  # as before migrations
    services.close()
    with pytest.raises(SchemaError, match="layout older than schema version 1"):
        build(settings, clock=clock)
