"""The partner's side: opening the sealed fields the service delivers, from their JSON, and
checking who wrote and who stored them.

A partner system receives, per event, the readable envelope (region, case id, event id,
event type), the sealed fields and its own grants, the author's signed document and the
custodian's countersignature, all as JSON. Nothing here talks HTTP or touches storage;
these are pure functions a partner can call from any transport, and docs/envelope.md and
docs/provenance.md let it do the same with any libsodium instead.

The field name a value is opened *as* is always the caller's, never the sealed record's: the
record's own label is checked against it, so a value moved to another field fails to open
rather than being read under a name it was not sealed for.

Failing to open is one opaque ``DecryptionFailed``; failing to verify is a
``ProvenanceInvalid`` that says which check failed, so a partner can tell a forged
countersignature from a field that does not match what its author signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sharing.canonical import canonical_json
from sharing.directory import KeyDirectory, read_directory
from sharing.disclosures import matches, read_disclosure
from sharing.envelope import EventContext, Grant, Opener, SealedField, open_grant
from sharing.envelope import open_field as _open_field
from sharing.errors import DecryptionFailed, ProvenanceInvalid, SignatureInvalid
from sharing.keys import DecryptionKey, OrgPrivateKeys, parse_time
from sharing.owned import field_of, reassemble
from sharing.provenance import AUTHOR_DOCUMENT, DOCUMENT_VERSION, STORED_EVENT, stored_document
from sharing.signing import Signature, verify

__all__ = [
    "event_context",
    "load_decryption_key",
    "load_key_directory",
    "open_event",
    "open_field",
    "open_fields",
    "open_fields_with",
    "values_of",
    "verify_event",
]

_CONTEXT_KEYS = ("region", "case_id", "event_id", "event_type")


def load_decryption_key(private_keys: Mapping[str, object]) -> DecryptionKey:
    """The X25519 key from an organisation's private key file (``OrgPrivateKeys`` JSON)."""
    return OrgPrivateKeys.from_json(private_keys).decryption_key


def load_key_directory(
    published: Mapping[str, Any], *, custodian_key_id: str | None = None, trust: bool = False
) -> KeyDirectory:
    """The key directory as ``GET /v1/keys`` publishes it, checked against the custodian
    signing key id the partner pinned (or, with ``trust=True``, taken as it is)."""
    return read_directory(published, custodian_key_id=custodian_key_id, trust=trust)


def event_context(envelope: Mapping[str, object]) -> EventContext:
    """The binding context from an event's readable envelope."""
    values = [envelope.get(name) for name in _CONTEXT_KEYS]
    if not all(isinstance(value, str) for value in values):
        raise DecryptionFailed()
    region, case_id, event_id, event_type = (str(value) for value in values)
    return EventContext(region, case_id, event_id, event_type)


def open_field(
    event: Mapping[str, object] | EventContext,
    field: str,
    sealed: Mapping[str, object],
    grant: Mapping[str, object],
    key: DecryptionKey,
) -> bytes:
    """Open one field of ``event`` with this organisation's grant for it."""
    ctx = _context(event).field(field)
    return _open_field(SealedField.from_json(sealed), Grant.from_json(grant), ctx, key)


def open_fields(
    event: Mapping[str, object] | EventContext,
    sealed_fields: Mapping[str, Mapping[str, object]],
    grants: Iterable[Mapping[str, object]],
    keys: Iterable[DecryptionKey],
) -> dict[str, bytes]:
    """Every field of ``event`` that one of ``keys`` holds a grant for, opened.

    Grants for other organisations or keys are skipped; a grant that is ours but does not
    open raises, because silently dropping it would hide tampering.
    """
    ctx = _context(event)
    by_id: dict[tuple[str, str], DecryptionKey | Opener] = {
        (key.org_id, key.key_id): key for key in keys
    }
    return _open_with(ctx, sealed_fields, grants, by_id)


def open_fields_with(
    event: Mapping[str, object] | EventContext,
    sealed_fields: Mapping[str, Mapping[str, object]],
    grants: Iterable[Mapping[str, object]],
    openers: Iterable[Opener],
) -> dict[str, bytes]:
    """``open_fields`` with openers that keep their key exchanges: for a reader that opens
    many events of the same cases (a whole case's history)."""
    by_id: dict[tuple[str, str], DecryptionKey | Opener] = {
        (o.key.org_id, o.key.key_id): o for o in openers
    }
    return _open_with(_context(event), sealed_fields, grants, by_id)


def _open_with(
    ctx: EventContext,
    sealed_fields: Mapping[str, Mapping[str, object]],
    grants: Iterable[Mapping[str, object]],
    by_id: Mapping[tuple[str, str], DecryptionKey | Opener],
) -> dict[str, bytes]:
    opened: dict[str, bytes] = {}
    for data in grants:
        grant = Grant.from_json(data)
        key = by_id.get((grant.org_id, grant.key_id))
        if key is None:
            continue
        sealed = {}
        for name in grant.fields:
            record = sealed_fields.get(name)
            if record is None:
                raise DecryptionFailed()
            sealed[name] = SealedField.from_json(record)
        if isinstance(key, Opener):
            opened.update(key.open_grant(sealed, grant, ctx))
        else:
            opened.update(open_grant(sealed, grant, ctx, key))
    return opened


def open_event(
    event: Mapping[str, Any],
    keys: Iterable[DecryptionKey],
    *,
    directory: KeyDirectory | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    """The field values of a delivered event (its JSON) that ``keys`` were granted, owned
    fields put back together, after ``verify_event`` has checked them against ``directory``.

    ``verify=False`` opens without checking who wrote or stored the event: what it returns
    may then be anyone's.
    """
    if verify and directory is None:
        raise ValueError("verifying needs the key directory; pass verify=False not to verify")
    opened = open_fields(event, event["sealed"], event["grants"], keys)
    if directory is None or not verify:
        return reassemble(values_of(opened, disclosed=event.get("author_document") is not None))
    return reassemble(verify_event(event, directory, opened))


def values_of(opened: Mapping[str, bytes], *, disclosed: bool = True) -> dict[str, Any]:
    """The value in each opened disclosure, by sealed name, unchecked. An event recorded
    before signed disclosures (format 1: no author document) sealed bare JSON values."""
    if not disclosed:
        return {name: json.loads(plaintext) for name, plaintext in opened.items()}
    values = {}
    for name, plaintext in opened.items():
        try:
            values[name] = read_disclosure(name, plaintext).value
        except ValueError:
            raise ProvenanceInvalid(f"field {name} holds no disclosure") from None
    return values


def verify_event(
    event: Mapping[str, Any], directory: KeyDirectory, opened: Mapping[str, bytes] | None = None
) -> dict[str, Any]:
    """Check a delivered event: the custodian's countersignature over it, its author's
    signature over the author's document, that the two agree with the event, and each
    opened field (sealed name -> plaintext, from ``open_fields``) against the digest its
    author signed. Returns the opened values by sealed name; ProvenanceInvalid says what
    failed.

    Keys are taken valid at the event's ``recorded_at``: the author's signature was checked
    against the keys of that moment when the service accepted it, and a key retired later
    still vouches for what it signed before.
    """
    try:
        return _verified(event, directory, opened or {})
    except (KeyError, TypeError, ValueError):
        raise ProvenanceInvalid("the event lacks what verifying needs") from None


def _verified(
    event: Mapping[str, Any], directory: KeyDirectory, opened: Mapping[str, bytes]
) -> dict[str, Any]:
    recorded_at = parse_time(event["recorded_at"])
    document = event["author_document"]
    if document is None:
        raise ProvenanceInvalid(
            "the event was recorded before signed disclosures (format 1): its fields cannot "
            "be checked one by one; open it without verifying to read it"
        )
    if not isinstance(document, Mapping):
        raise ProvenanceInvalid("the event carries no author document")
    stored = stored_document(
        region=event["region"],
        case_id=event["case_id"],
        version=event["version"],
        event_id=event["event_id"],
        event_type=event["event_type"],
        author_user=event["author_user"],
        recorded_at=event["recorded_at"],
        control=event["control"],
        author_document=document,
        author_signature=event["signature"],
    )
    _check_signature(
        stored,
        event["countersignature"],
        directory,
        signer=directory.custodian,
        purpose=STORED_EVENT,
        at=recorded_at,
        what="countersignature",
    )
    _check_signature(
        document,
        event["signature"],
        directory,
        signer=event["author_org"],
        purpose=AUTHOR_DOCUMENT,
        at=recorded_at,
        what="author's signature",
    )
    _check_agreement(event, document)
    for name, plaintext in opened.items():
        if not matches(document["digests"], name, plaintext):
            raise ProvenanceInvalid(f"field {name} does not match what its author signed")
    return values_of(opened)


def _check_signature(
    document: Mapping[str, Any],
    data: object,
    directory: KeyDirectory,
    *,
    signer: str,
    purpose: str,
    at: Any,
    what: str,
) -> None:
    if not isinstance(data, Mapping):
        raise ProvenanceInvalid(f"the event carries no {what}")
    try:
        signature = Signature.from_json(data)
    except SignatureInvalid:
        raise ProvenanceInvalid(f"the {what} is malformed") from None
    if signature.org_id != signer:
        raise ProvenanceInvalid(f"the {what} is by {signature.org_id}, not by {signer}")
    try:
        verify(document, signature, directory.keys, purpose=purpose, at=at)
    except SignatureInvalid:
        raise ProvenanceInvalid(
            f"the {what} does not verify with {signer}'s key {signature.key_id}"
        ) from None


def _check_agreement(event: Mapping[str, Any], document: Mapping[str, Any]) -> None:
    """What the author signed says the same as the event the service delivered."""
    expected = {
        "v": DOCUMENT_VERSION,
        "region": event["region"],
        "author": event["author_org"],
        "event_type": event["event_type"],
        "submission_id": event.get("submission_id"),
        "occurred_at": event["occurred_at"],
    }
    for member, value in expected.items():
        if document.get(member) != value or type(document.get(member)) is not type(value):
            raise ProvenanceInvalid(f"the author's document names another {member}")
    opening = document.get("case_id") is None and event["version"] == 1
    if document.get("case_id") != event["case_id"] and not opening:
        raise ProvenanceInvalid("the author's document names another case_id")
    control, seen = document.get("control"), event["control"]
    if not isinstance(control, Mapping) or not isinstance(seen, Mapping):
        raise ProvenanceInvalid("the author's document has no control attributes")
    for name, value in control.items():
        if name not in seen or canonical_json(seen[name]) != canonical_json(value):
            raise ProvenanceInvalid(f"control attribute {name} is not what its author signed")
    digests = document.get("digests")
    if not isinstance(digests, Mapping):
        raise ProvenanceInvalid("the author's document has no digests")
    sealed = {field_of(str(name))[0] for name in event["sealed"]}
    withheld = set(event["withheld"])
    if sealed & withheld or sealed | withheld != set(digests):
        raise ProvenanceInvalid("the fields sealed and withheld are not the author's fields")


def _context(event: Mapping[str, object] | EventContext) -> EventContext:
    return event if isinstance(event, EventContext) else event_context(event)
