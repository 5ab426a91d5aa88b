"""Events recorded before signed disclosures (format 1) stay readable: they decode with no
author document and no submission id, their sealed values open as bare JSON, and a
partner is told plainly why they cannot be verified field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from casestore.domain.case import Case
from casestore.domain.header import EventHeader
from sharing.canonical import canonical_json
from sharing.client import values_of, verify_event
from sharing.directory import KeyDirectory
from sharing.errors import ProvenanceInvalid
from tests.factories import pending

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def opening() -> Case.Event:
    header = EventHeader(
        event_id="evt-1",
        author_org="arkin",
        author_user="medewerker",
        occurred_at=NOW,
        recorded_at=NOW,
        digest="d",
        submission_id="sub-1",
        author_document={"v": 2},
    )
    case = Case.open(
        case_id=uuid4(),
        person_id=uuid4(),
        network=["arkin"],
        header=header,
        control={},
        content={"naam": {"sealed": True}},
    )
    [event] = pending(case)
    return event


def as_format_1(stored: StoredEvent, app: Application[UUID]) -> StoredEvent:
    """The stored event as a release before signed disclosures wrote it."""
    state: dict[str, Any] = app.mapper.transcoder.decode(stored.state)
    for member in ("class_version", "submission_id", "author_document"):
        state.pop(member, None)
    return StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        app.mapper.transcoder.encode(state),
    )


def test_a_format_1_event_decodes_without_a_document_or_submission_id() -> None:
    app = Application[UUID]()
    event = opening()
    stored = app.mapper.to_stored_event(event)
    assert b"class_version" in stored.state  # what is written now is format 2
    old = app.mapper.to_domain_event(as_format_1(stored, app))
    assert isinstance(old, Case.Event)
    assert (old.submission_id, old.author_document, old.is_disclosed) == (None, None, False)
    new = app.mapper.to_domain_event(stored)
    assert isinstance(new, Case.Event) and new.is_disclosed and new.submission_id == "sub-1"


def test_format_1_values_open_as_bare_json() -> None:
    opened = {"naam": canonical_json("J. de Wit"), "acties/ymere": canonical_json([[0, {}]])}
    assert values_of(opened, disclosed=False) == {"naam": "J. de Wit", "acties/ymere": [[0, {}]]}
    with pytest.raises(ProvenanceInvalid):
        values_of(opened)  # as disclosures they are not


def test_a_format_1_event_is_refused_by_verifying_with_a_reason() -> None:
    event = {"recorded_at": "2025-06-01T12:00:00Z", "author_document": None}
    directory = KeyDirectory("amsterdam-amstelland", "zvh-amsterdam-amstelland", NOW, ())
    with pytest.raises(ProvenanceInvalid, match="before signed disclosures"):
        verify_event(json.loads(json.dumps(event)), directory, {})
