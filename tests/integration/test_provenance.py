"""Provenance: authors sign what they submit, the service countersigns what it stored,
and a partner who reads only some fields can still verify what it received."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from casestore.adapters.keyring import demo_signers
from casestore.bootstrap import Services, build
from casestore.entrypoints import demo
from casestore.services.case_store import Author, Submission
from casestore.services.disclosure import Disclosure
from casestore.services.provenance import STORED, SUBMISSION, content_digests, sign_submission
from casestore.settings import Settings
from sharing.canonical import b64encode, canonical_json
from sharing.errors import SignatureInvalid
from sharing.keys import OrgPrivateKeys
from sharing.signing import Signature, verify
from tests.factories import Clock


@pytest.fixture
def signed_services(settings: Settings, clock: Clock) -> Iterator[Services]:
    built = build(settings.model_copy(update={"require_signatures": True}), clock=clock)
    try:
        yield built
    finally:
        built.close()


def referral(author: str = demo.GGZ, bsn: str = "111222333") -> Submission:
    return Submission(
        "aanmelding",
        demo.SCENARIOS[0][2] | {"bsn": bsn},
        Author(author, "intake"),
        idempotency_key="r-1",
    )


def signed(services: Services, submission: Submission, signer: str | None = None) -> Submission:
    key = demo_signers(services.settings.key_directory)[signer or submission.author.organisation]
    region = services.store.sealer.region
    return replace(submission, signature=sign_submission(region, None, submission, key))


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
    with pytest.raises(SignatureInvalid):
        signed_services.store.open_case(signed(signed_services, referral(), signer=demo.POLITIE))


def test_a_payload_altered_after_signing_is_refused(signed_services: Services) -> None:
    original = signed(signed_services, referral())
    altered = replace(original, payload=original.payload | {"naam": "Iemand Anders"})
    with pytest.raises(SignatureInvalid):
        signed_services.store.open_case(altered)
    moved = replace(original, idempotency_key="r-2")
    with pytest.raises(SignatureInvalid):
        signed_services.store.open_case(moved)


def test_a_signed_submission_is_stored_with_its_signature(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    submission = signed(signed_services, referral())
    recorded = store.open_case(submission)
    [event] = disclosure.read_case(demo.GGZ, recorded.case_id)
    assert event.signature == submission.signature


def test_the_hosted_custodian_is_signed_for_by_the_service(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    recorded = store.open_case(referral(author=demo.ZVH))
    [event] = disclosure.read_case(demo.ZVH, recorded.case_id)
    assert event.signature is not None
    assert event.signature["org_id"] == demo.ZVH


def stored_document_as_received(event: Any) -> dict[str, Any]:
    """What a partner rebuilds from one received event to check the countersignature."""
    return {
        "region": event.region,
        "case_id": str(event.case_id),
        "version": event.version,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "author": event.author_org,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "recorded_at": event.recorded_at.isoformat().replace("+00:00", "Z"),
        "control": event.control,
        "content_digests": event.content_digests,
        "author_signature": event.signature,
    }


def test_a_partner_verifies_the_countersignature_over_what_it_received(
    signed_services: Services,
    disclosure: Disclosure,
) -> None:
    store = signed_services.store
    signers = demo_signers(signed_services.settings.key_directory)
    recordings = list(demo.load(store, signers))
    case_id = recordings[0].case_id
    records = store.sealer.keyring.records()
    checked = 0
    for event in disclosure.read_case(demo.POLITIE, case_id):
        document = stored_document_as_received(event)
        counter = Signature.from_json(event.countersignature or {})
        verify(document, counter, records, purpose=STORED, at=event.recorded_at)
        assert content_digests(event.sealed).items() <= event.content_digests.items()
        assert len(event.content_digests) > len(event.sealed) or not event.withheld
        tampered = document | {"control": {**event.control, "niveau": 4}}
        with pytest.raises(SignatureInvalid):
            verify(tampered, counter, records, purpose=STORED, at=event.recorded_at)
        checked += 1
    assert checked >= 5


def test_content_digests_reveal_nothing_of_the_plaintext(
    signed_services: Services, disclosure: Disclosure
) -> None:
    store = signed_services.store
    recorded = store.open_case(referral(author=demo.ZVH))
    [event] = disclosure.read_case(demo.ZVH, recorded.case_id)
    bsn_digest = b64encode(canonical_json("111222333"))
    assert bsn_digest not in json.dumps(event.content_digests)
    assert all(len(d) == 43 for d in event.content_digests.values())  # 32 bytes, base64url


def test_a_partner_key_file_alone_signs_a_valid_submission(
    signed_services: Services, settings: Settings
) -> None:
    path = settings.key_directory / "private" / f"{demo.GGZ}.json"
    key = OrgPrivateKeys.from_json(json.loads(path.read_text())).signing_key
    submission = referral()
    signature = sign_submission(signed_services.store.sealer.region, None, submission, key)
    assert Signature.from_json(signature).org_id == demo.GGZ
    recorded = signed_services.store.open_case(replace(submission, signature=signature))
    assert recorded.version == 1
    assert SUBMISSION == "casestore/submission"
