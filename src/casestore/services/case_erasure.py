"""What destroying a case rewrites in the event store: its events without content or link
to the person, and the person index's events that name it, re-encoded as the library
stores them (transcoded, compressed, encrypted as configured)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application

from casestore.adapters.persistence.recorder import CaseRecorder
from casestore.adapters.persistence.sharing_tables import Erasure, Rewrite
from casestore.domain.case import Case, destroyed_state
from casestore.domain.person import forget_case


def erasure_of(app: Application[UUID], case: Case, when: datetime) -> Erasure:
    """What destroying `case` rewrites: every event of the case without content or link
    to the person, marked destroyed at `when`, and every event of the person's index
    that names the case with the marker in its place; the case's snapshots go."""
    records = cast(CaseRecorder, app.recorder)
    backend = records.backend
    events_table = backend.library_table(records.events_table_name)
    marker = when.astimezone(UTC).isoformat()
    rewrites = [
        Rewrite(
            events_table,
            backend.originator(case.id),
            stored.originator_version,
            _encoded(app, destroyed_state(_decoded(app, stored.state), marker)),
        )
        for stored in app.recorder.select_events(case.id)
    ]
    if not case.destroyed:
        pid = UUID(case.person_id)
        for stored in app.recorder.select_events(pid):
            state = _decoded(app, stored.state)
            if forget_case(state, str(case.id)):
                rewrites.append(
                    Rewrite(
                        events_table,
                        backend.originator(pid),
                        stored.originator_version,
                        _encoded(app, state),
                    )
                )
    snapshots = None
    if app.snapshots is not None:
        recorder = cast(Any, app.snapshots.recorder)
        snapshots = backend.library_table(recorder.events_table_name)
    return Erasure(rewrites, snapshots, backend.originator(case.id))


def _decoded(app: Application[UUID], state: bytes) -> dict[str, Any]:
    if app.mapper.cipher is not None:
        state = app.mapper.cipher.decrypt(state)
    if app.mapper.compressor is not None:
        state = app.mapper.compressor.decompress(state)
    decoded: dict[str, Any] = app.mapper.transcoder.decode(state)
    return decoded


def _encoded(app: Application[UUID], state: dict[str, Any]) -> bytes:
    encoded = app.mapper.transcoder.encode(state)
    if app.mapper.compressor is not None:
        encoded = app.mapper.compressor.compress(encoded)
    if app.mapper.cipher is not None:
        encoded = app.mapper.cipher.encrypt(encoded)
    return encoded
