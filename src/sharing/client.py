"""The partner's side: opening the sealed fields the service delivers, from their JSON.

A partner system receives, per event, the readable envelope (region, case id, event id,
event type), the sealed fields and its own grants, all as JSON. Nothing here talks HTTP or
touches storage; these are pure functions a partner can call from any transport, and
docs/envelope.md lets it do the same with any libsodium instead.

The field name a value is opened *as* is always the caller's, never the sealed record's: the
record's own label is checked against it, so a value moved to another field fails to open
rather than being read under a name it was not sealed for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sharing.envelope import EventContext, Grant, SealedField, open_grant
from sharing.envelope import open_field as _open_field
from sharing.errors import DecryptionFailed
from sharing.keys import DecryptionKey, OrgPrivateKeys
from sharing.owned import reassemble

__all__ = ["event_context", "load_decryption_key", "open_event", "open_field", "open_fields"]

_CONTEXT_KEYS = ("region", "case_id", "event_id", "event_type")


def load_decryption_key(private_keys: Mapping[str, object]) -> DecryptionKey:
    """The X25519 key from an organisation's private key file (``OrgPrivateKeys`` JSON)."""
    return OrgPrivateKeys.from_json(private_keys).decryption_key


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
    by_id = {(key.org_id, key.key_id): key for key in keys}
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
        opened.update(open_grant(sealed, grant, ctx, key))
    return opened


def open_event(event: Mapping[str, Any], keys: Iterable[DecryptionKey]) -> dict[str, Any]:
    """The field values of a delivered event (its JSON) that ``keys`` were granted, owned
    fields put back together."""
    return reassemble(open_fields(event, event["sealed"], event["grants"], keys))


def _context(event: Mapping[str, object] | EventContext) -> EventContext:
    return event if isinstance(event, EventContext) else event_context(event)
