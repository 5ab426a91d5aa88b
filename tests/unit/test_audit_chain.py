"""The audit chain's encoding and hash, as properties: entries are hashed over their
RFC 8785 canonical form, and any change to an entry or to the link changes the hash."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from casestore.adapters.persistence.audit_table import GENESIS, chain_hash, entry_json
from casestore.services.audit import parse_traceparent, traceparent
from sharing.canonical import canonical_json

KEYS = st.sampled_from(
    ["action", "case", "events", "fields", "on_behalf_of", "reason", "rules", "seq", "start"]
)
TEXT = st.text(st.characters(max_codepoint=0xD7FF), max_size=30)
VALUES = st.one_of(
    st.none(),
    TEXT,
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.lists(TEXT, max_size=4),
)
ENTRIES = st.dictionaries(KEYS, VALUES, max_size=9)


@given(ENTRIES)
def test_an_entry_is_encoded_in_its_canonical_form(entry: dict[str, Any]) -> None:
    assert entry_json(entry) == canonical_json(entry)


@given(ENTRIES, st.data())
def test_any_change_to_an_entry_changes_its_chain_hash(
    entry: dict[str, Any], data: st.DataObject
) -> None:
    changed = data.draw(ENTRIES.filter(lambda other: other != entry))
    assert chain_hash(entry_json(entry), GENESIS) != chain_hash(entry_json(changed), GENESIS)


@given(ENTRIES, st.text("0123456789abcdef", min_size=64, max_size=64))
def test_the_hash_binds_the_previous_link(entry: dict[str, Any], previous: str) -> None:
    text = entry_json(entry)
    if previous != GENESIS:
        assert chain_hash(text, previous) != chain_hash(text, GENESIS)


def test_the_chain_hash_is_sha256_over_the_canonical_link_document() -> None:
    entry = {"action": "case.read", "events": ["e1"]}
    document = canonical_json({"entry": entry, "previous": GENESIS})
    assert chain_hash(entry_json(entry), GENESIS) == hashlib.sha256(document).hexdigest()


@given(
    st.text("0123456789abcdef", min_size=32, max_size=32),
    st.text("0123456789abcdef", min_size=16, max_size=16),
)
def test_a_traceparent_goes_round(trace_id: str, span_id: str) -> None:
    parsed = parse_traceparent(traceparent(trace_id, span_id))
    if set(trace_id) == {"0"} or set(span_id) == {"0"}:
        assert parsed is None
    else:
        assert parsed == (trace_id, span_id)


def test_a_malformed_traceparent_is_ignored() -> None:
    for header in (None, "", "01-abc", "00-" + "0" * 32 + "-" + "1" * 16 + "-01", "garbage"):
        assert parse_traceparent(header) is None
