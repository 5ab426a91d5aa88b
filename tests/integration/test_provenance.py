"""Provenance: authors sign salted digests of what they submit, the custodian countersigns
what it stored, and every partner verifies exactly the fields it received."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from casestore.adapters.keyring import demo_signers
from casestore.bootstrap import Services, build
from casestore.domain.catalogue import parse_payload
from casestore.domain.errors import PayloadInvalid
from casestore.entrypoints import demo
from casestore.services.case_store import Author, Submission
from casestore.services.disclosure import Disclosure
from casestore.services.provenance import sealed_values, sign_submission
from casestore.settings import Settings
from sharing.canonical import b64encode, canonical_json
from sharing.client import open_fields, verify_event
from sharing.disclosures import Disclosure as SealedValue
from sharing.disclosures import digest
from sharing.errors import ProvenanceInvalid, SignatureInvalid
from sharing.keys import OrgPrivateKeys
from sharing.provenance import AUTHOR_DOCUMENT, STORED_EVENT, author_document, stored_document
from sharing.signing import Signature, sign, verify
from tests.factories import (
    Clock,
    key_directory,
    load_signed_demo,
    open_case,
    signalering,
    submit,
)


@pytest.fixture
def signed_services(settings: Settings, clock: Clock) -> Iterator[Services]:
    built = build(settings.model_copy(update={"require_signatures": True}), clock=clock)
    try:
        yield built
    finally:
        built.close()


def referral(author: str = demo.GGZ, bsn: str = "111222333", key: str = "r-1") -> Submission:
    return Submission(
        "aanmelding", demo.SCENARIOS[0][2] | {"bsn": bsn}, Author(author, "intake"), None, key
    )


def signed(
    services: Services, submission: Submission, signer: str | None = None, case_id: Any = None
) -> Submission:
    key = demo_signers(services.settings.key_directory)[signer or submission.author.organisation]
    region = services.store.sealer.region
    now = services.store.clock()
    cid = str(case_id) if case_id else None
    return replace(submission, **sign_submission(region, cid, submission, key, now=now))


def fields_named(problem: PayloadInvalid) -> set[str]:
    return {p.field for p in problem.problems}


def test_an_unsigned_partner_submission_is_refused_and_nothing_is_stored(
    signed_services: Services,
) -> None:
    store = signed_services.store
    with pytest.raises(SignatureInvalid):
        store.open_case(referral())
    assert store.max_position() == 0


def test_a_submission_signed_by_another_organisation_is_refused(
    signed_services: Services,
) -> None:
    store = signed_services.store
    # The other organisation's document names itself as the author ...
    with pytest.raises(PayloadInvalid) as named:
        store.open_case(signed(signed_services, referral(), signer=demo.POLITIE))
    assert fields_named(named.value) == {"author_document.author"}
    # ... or names the author and carries its own signature.
    honest = signed(signed_services, referral())
    police = demo_signers(signed_services.settings.key_directory)[demo.POLITIE]
    assert honest.author_document is not None
    forged = sign(honest.author_document, police, purpose=AUTHOR_DOCUMENT).to_json()
    with pytest.raises(SignatureInvalid):
        store.open_case(replace(honest, signature=forged))
    assert store.max_position() == 0


def test_a_payload_altered_after_signing_is_refused_naming_the_field(
    signed_services: Services,
) -> None:
    store = signed_services.store
    original = signed(signed_services, referral())
    altered = replace(original, payload=original.payload | {"naam": "Iemand Anders"})
    with pytest.raises(PayloadInvalid) as refused:
        store.open_case(altered)
    assert fields_named(refused.value) == {"author_document.digests.naam"}
    assert "payload.naam" in str(refused.value)
    moved = replace(original, idempotency_key="r-2")
    with pytest.raises(PayloadInvalid) as elsewhere:
        store.open_case(moved)
    assert fields_named(elsewhere.value) == {"author_document.submission_id"}
    assert store.max_position() == 0


def test_authors_sign_the_normal_form_and_may_send_the_payload_as_typed(
    signed_services: Services,
) -> None:
    store = signed_services.store
    typed = referral()
    typed = replace(typed, payload=typed.payload | {"naam": "  A. de Vries \n"})
    assert store.open_case(signed(signed_services, typed)).version == 1

    # A document over the value as typed, not as normalised, names the field.
    other = referral(bsn="123456782", key="r-9")
    payload = parse_payload("aanmelding", other.payload, today=store.clock().date())
    values = sealed_values(payload) | {"naam": "  A. de Vries \n"}
    disclosures = {name: SealedValue(bytes(16), name, v) for name, v in values.items()}
    key = demo_signers(signed_services.settings.key_directory)[demo.GGZ]
    document = author_document(
        region=store.sealer.region,
        case_id=None,
        author=demo.GGZ,
        event_type="aanmelding",
        submission_id="r-9",
        occurred_at="2026-03-02T08:00:00Z",
        control={},
        digests={name: digest(d.encode()) for name, d in disclosures.items()},
    )
    unnormalised = replace(
        other,
        payload=other.payload | {"naam": "  A. de Vries \n"},
        author_document=document,
        signature=sign(document, key, purpose=AUTHOR_DOCUMENT).to_json(),
        salts={name: b64encode(bytes(16)) for name in values},
    )
    with pytest.raises(PayloadInvalid) as refused:
        store.open_case(unnormalised)
    assert fields_named(refused.value) == {"author_document.digests.naam"}


def test_a_signed_submission_needs_a_submission_id(signed_services: Services) -> None:
    submission = signed(signed_services, referral())
    with pytest.raises(PayloadInvalid) as refused:
        signed_services.store.open_case(replace(submission, idempotency_key=None))
    assert fields_named(refused.value) == {"event_id"}
    with pytest.raises(ValueError, match="idempotency key"):
        signed(signed_services, referral(key=None))  # type: ignore[arg-type]


def test_a_replayed_signed_submission_records_nothing_new(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    opened = store.open_case(signed(signed_services, referral()))
    append = signed(
        signed_services,
        Submission("signalering", signalering(), Author(demo.GGZ, "x"), None, "s-1"),
        case_id=opened.case_id,
    )
    first = store.append(opened.case_id, append)
    position = store.max_position()
    # The very request again, and the same submission signed anew (fresh salts).
    again = store.append(opened.case_id, append)
    resigned = store.append(
        opened.case_id,
        signed(signed_services, replace(append, signature=None), case_id=opened.case_id),
    )
    reopened = store.open_case(signed(signed_services, referral()))
    assert again == resigned == replace(first, replayed=True)
    assert reopened == replace(opened, replayed=True)
    assert store.max_position() == position
    events = disclosure.read_case(demo.GGZ, opened.case_id)
    assert [e.submission_id for e in events] == ["r-1", "s-1"]


def test_a_signed_submission_is_stored_with_its_document_and_signature(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    submission = signed(signed_services, referral())
    recorded = store.open_case(submission)
    [event] = disclosure.read_case(demo.GGZ, recorded.case_id)
    assert event.signature == submission.signature
    assert event.author_document == submission.author_document
    assert event.submission_id == "r-1"
    assert event.occurred_at.isoformat().replace("+00:00", "Z") == (
        submission.author_document or {}
    ).get("occurred_at")


def test_the_hosted_custodian_is_signed_for_by_the_service(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    recorded = store.open_case(referral(author=demo.ZVH))
    unkeyed = store.open_case(referral(author=demo.ZVH, bsn="123456782", key=None))  # type: ignore[arg-type]
    [event] = disclosure.read_case(demo.ZVH, recorded.case_id)
    assert event.signature is not None and event.signature["org_id"] == demo.ZVH
    assert event.submission_id == "r-1"
    [generated] = disclosure.read_case(demo.ZVH, unkeyed.case_id)
    assert generated.submission_id and generated.submission_id != "r-1"


def test_every_partner_verifies_what_it_received(signed_services: Services) -> None:
    store = signed_services.store
    load_signed_demo(signed_services)
    directory = key_directory(signed_services)
    keys_dir = signed_services.settings.key_directory
    checked = 0
    for org in sorted(store.sealer.matrix.organisations):
        private = OrgPrivateKeys.from_json(
            json.loads((keys_dir / "private" / f"{org}.json").read_text())
        )
        for shared in signed_services.disclosure.feed(org, 0, 1000):
            event = json.loads(json.dumps(shared.to_json()))
            opened = open_fields(event, event["sealed"], event["grants"], [private.decryption_key])
            assert verify_event(event, directory, opened).keys() == opened.keys()
            checked += 1
            tampered = event | {"control": {**event["control"], "niveau": 4}}
            with pytest.raises(ProvenanceInvalid, match="countersignature"):
                verify_event(tampered, directory, opened)
    assert checked >= 50


def test_the_countersignature_covers_the_network_never_the_person(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    recorded = store.open_case(signed(signed_services, referral()))
    [event] = disclosure.read_case(demo.GGZ, recorded.case_id)
    assert event.control == {"netwerk": sorted({demo.GGZ, demo.ZVH})}
    document = stored_document(
        region=event.region,
        case_id=str(event.case_id),
        version=1,
        event_id=event.event_id,
        event_type="aanmelding",
        author_user=event.author_user,
        recorded_at=event.recorded_at.isoformat().replace("+00:00", "Z"),
        control=event.control,
        author_document=event.author_document or {},
        author_signature=event.signature,
    )
    records = store.sealer.keyring.records()
    counter = Signature.from_json(event.countersignature or {})
    verify(document, counter, records, purpose=STORED_EVENT, at=event.recorded_at)
    assert counter.org_id == signed_services.settings.custodian


def test_digests_reveal_nothing_of_the_plaintext(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    recorded = store.open_case(referral(author=demo.ZVH))
    [event] = disclosure.read_case(demo.ZVH, recorded.case_id)
    document = event.author_document or {}
    unsalted = digest(canonical_json([None, "bsn", "111222333"]))
    assert unsalted not in json.dumps(document)
    assert "111222333" not in json.dumps(event.to_json())
    assert all(len(d) == 43 for d in document["digests"].values())  # 32 bytes, base64url


def test_identical_payloads_in_two_cases_are_not_linkable_by_their_digest(
    services: Services,
) -> None:
    store = services.store
    first, second = open_case(store), open_case(store)
    payload = submit("signalering", signalering(), demo.ZVH)
    a = store.append(first.case_id, payload)
    b = store.append(second.case_id, payload)
    again = store.append(first.case_id, payload)
    tables = store.records.tables
    digest_of = {r.event_id: tables.recorded_event(r.event_id).digest for r in (a, b, again)}  # type: ignore[union-attr]
    assert digest_of[a.event_id] != digest_of[b.event_id]
    assert digest_of[a.event_id] == digest_of[again.event_id]  # a retry is still recognised


def test_a_partner_key_file_alone_signs_a_valid_submission(
    signed_services: Services, settings: Settings
) -> None:
    path = settings.key_directory / "private" / f"{demo.GGZ}.json"
    key = OrgPrivateKeys.from_json(json.loads(path.read_text())).signing_key
    submission = referral()
    store = signed_services.store
    parts = sign_submission(store.sealer.region, None, submission, key, now=store.clock())
    assert Signature.from_json(parts["signature"]).org_id == demo.GGZ
    assert set(parts) == {"author_document", "signature", "salts"}
    recorded = store.open_case(replace(submission, **parts))
    assert recorded.version == 1
