"""The application layer: composes the case aggregate with storage.

Methods take and return plain values. Every write goes through one path that parses the
payload against the catalogue, derives the event id, checks idempotency and the expected
version, lets the aggregate enforce the process, and saves — retrying only where a
concurrent writer, not the caller, caused the conflict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast
from uuid import UUID, uuid4, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from casestore.adapters.persistence.recorder import CaseRecorder
from casestore.adapters.persistence.sharing_tables import (
    EventIdRow,
)
from casestore.domain import errors
from casestore.domain.case import Case, visible_control
from casestore.domain.catalogue import Aanmelding, Payload, parse_payload
from casestore.domain.errors import FieldProblem
from casestore.domain.header import EventHeader
from casestore.domain.person import Person, person_id, pseudonym
from casestore.services.lru import Lru
from casestore.services.provenance import content_digests, stored_document, submission_document
from casestore.services.sealing import Sealed, Sealer, case_context
from sharing.canonical import canonical_json
from sharing.errors import PolicyError, SignatureInvalid
from sharing.policy import CaseContext

Clock = Callable[[], datetime]
log = structlog.get_logger("casestore")

EVENT_NAMESPACE = UUID("0b8f3c52-5a7e-4d0e-8a0c-7d8a51f1c9e3")
CASE_NAMESPACE = UUID("a3f4e1d2-9b8c-4c7d-8e6f-5a4b3c2d1e0f")
CASE_TOPICS = tuple(sorted({cls.TOPIC for cls in Case.Event.__subclasses__()}))
CLOCK_SKEW = timedelta(minutes=5)
MAX_WRITE_ATTEMPTS = 5
RECENT_CASES = 256  # cases kept after a write, so the next append needs no read


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Author:
    organisation: str
    user: str


@dataclass(frozen=True)
class Submission:
    """One event as a partner submits it."""

    event_type: str
    payload: dict[str, Any]
    author: Author
    occurred_at: datetime | None = None
    idempotency_key: str | None = None
    signature: dict[str, Any] | None = None  # the author's, over `submission_document`


@dataclass(frozen=True)
class Recorded:
    """Where an event landed; `replayed` is true when an idempotent retry found it."""

    case_id: UUID
    event_id: str
    version: int
    position: int
    replayed: bool = False


@dataclass(frozen=True)
class StoredCaseEvent:
    """One case event as stored: header, control attributes and (sealed) content."""

    position: int
    case_id: UUID
    version: int
    event: Case.Event

    @property
    def event_type(self) -> str:
        return self.event.event_type


class CaseStore(Application[UUID]):
    name = "casestore"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Case: 100}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        pseudonym_secret: bytes,
        custodian: str,
        sealer: Sealer,
        clock: Clock = utcnow,
        snapshot_interval: int = 100,
        require_signatures: bool = True,
    ) -> None:
        self.snapshotting_intervals = {Case: snapshot_interval}  # type: ignore[misc]
        super().__init__(env)
        self._pseudonym_secret = pseudonym_secret
        self._digest_key = blake2b(
            b"payload-digest", key=pseudonym_secret[:64], digest_size=32, encoder=RawEncoder
        )
        self.custodian = custodian
        self.sealer = sealer
        self.require_signatures = require_signatures
        self.clock = clock
        self._recent: Lru[UUID, Case] = Lru(RECENT_CASES)
        self._save_listeners: list[Callable[[], None]] = []

    def on_saved(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every committed save through this store (e.g. to wake
        live readers in this process at once); returns the function that removes it."""
        self._save_listeners.append(listener)
        return lambda: self._save_listeners.remove(listener)

    # `_notify` and `_take_snapshots` are the library's own hooks, called by `save` after
    # the events are recorded; checked against eventsourcing 9.5.6, and
    # tests/unit/test_library_contract.py fails when either or `save` changes.
    def _notify(self, recordings: list[Any]) -> None:
        for listener in list(self._save_listeners):
            listener()

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The library re-reads a case from the store to snapshot it. The case just saved is
        # that same state in memory (the state-machine test holds them equal), which spares
        # a read of up to `snapshot_interval` events on every hundredth append.
        left = ProcessingEvent[UUID](processing_event.tracking)
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if aggregate is None or interval is None or event.originator_version % interval:
                continue
            snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            in_hand = aggregate.version == event.originator_version
            if self.snapshots is not None and snapshot_class is not None and in_hand:
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                left.events.append(event)
                left.aggregates[event.originator_id] = aggregate
        super()._take_snapshots(left)

    @property
    def records(self) -> CaseRecorder:
        """The recorder as the services use it: events, sharing tables and backend."""
        return cast(CaseRecorder, self.recorder)

    # ---- writing ----------------------------------------------------------------------

    def open_case(self, submission: Submission) -> Recorded:
        """Open a case with its aanmelding; a retry with the same key opens nothing new."""
        if submission.event_type != "aanmelding":
            raise errors.OpeningEventRequired(submission.event_type)
        self._check_author(submission, {submission.author.organisation, self.custodian})
        now = self.clock()
        payload = parse_payload("aanmelding", submission.payload, today=now.date())
        assert isinstance(payload, Aanmelding)  # noqa: S101 - parse_payload picked the schema
        header = self._header(submission, None, now)
        case_id = uuid5(CASE_NAMESPACE, header.event_id)
        pid = person_id(pseudonym(payload.bsn, self._pseudonym_secret))
        for _ in range(MAX_WRITE_ATTEMPTS):
            existing = self._replay(submission, header)
            if existing is not None:
                return existing
            person = self._person(pid, now)
            person.start(case_id, now)
            network = sorted({submission.author.organisation, self.custodian})
            case_key, key_row = self.sealer.new_case_key(str(case_id), now)
            control = {**payload.control_values(), "netwerk": network}
            sealed, stored = self._seal(
                case_id, 1, header, "aanmelding", network, payload, control, case_key
            )
            sealed.rows.case_keys.append(key_row)
            case = Case.open(
                case_id=case_id,
                person_id=pid,
                network=network,
                header=stored,
                control=payload.control_values(),
                content=sealed.content,
            )
            try:
                recordings = self.save(case, person, side_rows=sealed.rows)
            except IntegrityError:
                continue  # a concurrent referral or retry won; look again
            self._keep(case)
            return self._recorded(case_id, header.event_id, recordings)
        raise errors.VersionConflict(0, -1)

    def append(
        self,
        case_id: UUID,
        submission: Submission,
        *,
        expected_version: int | None = None,
    ) -> Recorded:
        """Append one event to an open case. An organisation that may not write to the
        case and never received anything of it is told the case does not exist: refusing
        it otherwise would reveal that the person has a case."""
        try:
            return self._append(case_id, submission, expected_version)
        except (errors.AuthorNotInNetwork, errors.AuthorNotPermitted):
            if not self.records.tables.access_positions(
                submission.author.organisation, str(case_id)
            ):
                raise errors.CaseNotFound(str(case_id)) from None
            raise

    def _append(
        self, case_id: UUID, submission: Submission, expected_version: int | None
    ) -> Recorded:
        if submission.event_type == "aanmelding":
            raise errors.CaseAlreadyOpened()
        self._check_author(submission)
        now = self.clock()
        payload = parse_payload(submission.event_type, submission.payload, today=now.date())
        header = self._header(submission, case_id, now)
        # Idempotency is optimistic: the unique event id makes a repeat fail on save, and
        # only then (or when the case refuses the event) is the first recording looked up.
        for _ in range(MAX_WRITE_ATTEMPTS):
            case, from_cache = self._writable(case_id)
            try:
                if submission.author.organisation not in case.network:
                    raise errors.AuthorNotInNetwork(submission.author.organisation)
                if expected_version is not None and case.version != expected_version:
                    raise errors.VersionConflict(expected_version, case.version)
                sealed, touched = self._record_on(case, payload, submission, header, now)
            except (errors.ProcessViolation, errors.VersionConflict, errors.AuthorNotPermitted):
                if from_cache:
                    continue  # the cached case may be stale: decide on a fresh read
                existing = self._replay(submission, header)
                if existing is not None:
                    return existing  # a retry of what was recorded is not an error
                raise
            try:
                recordings = self.save(*touched, side_rows=sealed.rows)
            except IntegrityError:
                existing = self._replay(submission, header)
                if existing is not None:
                    return existing
                continue  # someone else wrote this version first; retry on a fresh read
            self._keep(case)
            return self._recorded(case_id, header.event_id, recordings)
        current = self.case(case_id).version
        raise errors.VersionConflict(expected_version or current, current)

    def _record_on(
        self,
        case: Case,
        payload: Payload,
        submission: Submission,
        header: EventHeader,
        now: datetime,
    ) -> tuple[Sealed, list[Any]]:
        """Seal, countersign and record one event on `case`; returns what to save."""
        was_open = case.is_open
        control = payload.control_values()
        context = case_context(case, control)
        # Authorship by a case role (the levensloopaanbieder scales) is known only now.
        self._check_author(submission, context)
        sealed, stored = self._seal(
            case.id,
            case.version + 1,
            header,
            submission.event_type,
            context,
            payload,
            control,
            self.case_key(case.id),
        )
        case.record(submission.event_type, header=stored, control=control, content=sealed.content)
        touched: list[Any] = [case]
        if was_open and not case.is_open:
            person: Person = self.repository.get(UUID(case.person_id))
            person.end(case.id, now)
            touched.append(person)
        return sealed, touched

    def _writable(self, case_id: UUID) -> tuple[Case, bool]:
        """The case to write on: the one this process saved last if it has it (no read at
        all), else from the store. A stale copy only costs a retry: saving it conflicts."""
        case = self._recent.pop(case_id)
        if case is not None:
            return case, True
        return self.case(case_id), False

    def _keep(self, case: Case) -> None:
        self._recent.put(case.id, case)

    # ---- reading ----------------------------------------------------------------------

    def case(
        self, case_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> Case:
        """The case now, at a version, or as it was recorded at a moment."""
        if as_of is not None:
            version = self._version_at(case_id, as_of)
        try:
            case: Any = self.repository.get(case_id, version=version)
        except AggregateNotFoundError:
            raise errors.CaseNotFound(str(case_id)) from None
        if not isinstance(case, Case):
            raise errors.CaseNotFound(str(case_id))
        return case

    def history(self, case_id: UUID) -> list[Case.Event]:
        """Every event of one case, in order."""
        events = [e for e in self.events.get(case_id) if isinstance(e, Case.Event)]
        if not events:
            raise errors.CaseNotFound(str(case_id))
        return events

    def events_after(self, position: int, limit: int = 100) -> list[StoredCaseEvent]:
        """Case events in global order after a position: the basis of every feed."""
        notifications = self.recorder.select_notifications(
            start=position, limit=limit, topics=CASE_TOPICS, inclusive_of_start=False
        )
        items = []
        for n in notifications:
            event = self.mapper.to_domain_event(n)
            assert isinstance(event, Case.Event)  # noqa: S101 - filtered by topic
            items.append(StoredCaseEvent(n.id, event.originator_id, n.originator_version, event))
        return items

    def iter_events(self, position: int = 0, page: int = 500) -> Iterator[StoredCaseEvent]:
        while batch := self.events_after(position, page):
            yield from batch
            position = batch[-1].position

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # ---- helpers ----------------------------------------------------------------------

    def _check_author(
        self, submission: Submission, case: CaseContext | Collection[str] | None = None
    ) -> None:
        """Whether the policy lets the author write the type: in this case when given, else
        in some case (a case role it could hold), so a refusal needs no read of the case."""
        org = submission.author.organisation
        matrix = self.sealer.matrix
        try:
            if case is None:
                allowed = matrix.may_ever_author(org, submission.event_type)
            else:
                allowed = matrix.may_author(org, submission.event_type, case)
        except PolicyError:
            raise errors.UnknownEventType(submission.event_type) from None
        if not allowed:
            raise errors.AuthorNotPermitted(org, submission.event_type)

    def _header(self, submission: Submission, case_id: UUID | None, now: datetime) -> EventHeader:
        author = submission.author.organisation
        document = submission_document(
            self.sealer.region, str(case_id) if case_id else None, author, submission
        )
        signature = self.sealer.authenticate(document, submission.signature, author, now)
        if signature is None and self.require_signatures:
            raise SignatureInvalid()
        occurred_at = submission.occurred_at or now
        if occurred_at.tzinfo is None:
            raise errors.PayloadInvalid(
                submission.event_type, [FieldProblem("occurred_at", "needs a time zone")]
            )
        if occurred_at > now + CLOCK_SKEW:
            raise errors.PayloadInvalid(
                submission.event_type, [FieldProblem("occurred_at", "may not lie in the future")]
            )
        return EventHeader(
            event_id=self._event_id(submission, case_id),
            author_org=submission.author.organisation,
            author_user=submission.author.user,
            occurred_at=occurred_at,
            recorded_at=now,
            digest=self._digest(submission),
            signature=signature,
        )

    def _event_id(self, submission: Submission, case_id: UUID | None) -> str:
        """A client key becomes a stable id scoped to its author (and case), so retries
        find their first attempt and two organisations' keys never collide."""
        if submission.idempotency_key is None:
            return str(uuid4())
        scope = f"{case_id or 'new-case'}\x1f{submission.author.organisation}"
        return str(uuid5(EVENT_NAMESPACE, f"{scope}\x1f{submission.idempotency_key}"))

    def _digest(self, submission: Submission) -> str:
        """A keyed digest: a plain hash of a low-entropy field would reveal its value."""
        document = {
            "type": submission.event_type,
            "payload": submission.payload,
            "occurred_at": submission.occurred_at.isoformat() if submission.occurred_at else None,
            "author": submission.author.organisation,
        }
        digest: bytes = blake2b(canonical_json(document), key=self._digest_key, digest_size=16)
        return digest.decode("ascii")

    def _replay(self, submission: Submission, header: EventHeader) -> Recorded | None:
        """The first recording of a retried event, if its key was recorded before. Events
        without an idempotency key have fresh random ids and cannot repeat."""
        if submission.idempotency_key is None:
            return None
        seen = self.records.tables.recorded_event(header.event_id)
        if seen is None:
            return None
        if seen.digest != header.digest:
            raise errors.IdempotencyConflict(header.event_id)
        case_id = UUID(seen.case_id)
        position = self.records.position_of(case_id, seen.version)
        assert position is not None  # noqa: S101 - recorded in the event's transaction
        return Recorded(case_id, header.event_id, seen.version, position, replayed=True)

    def _seal(
        self,
        case_id: UUID,
        version: int,
        header: EventHeader,
        event_type: str,
        network: list[str] | CaseContext,
        payload: Payload,
        control: dict[str, Any],
        case_key: bytes,
    ) -> tuple[Sealed, EventHeader]:
        """Seal the content and countersign the event as it will be stored; note its id
        and digests for idempotent retries and for readers."""
        sealed = self.sealer.seal(
            case_id=str(case_id),
            version=version,
            event_id=header.event_id,
            event_type=event_type,
            author=header.author_org,
            network=network,
            content=payload.content_values(),
            case_key=case_key,
            now=header.recorded_at,
        )
        digests = content_digests(sealed.content)
        stored = stored_document(
            region=self.sealer.region,
            case_id=str(case_id),
            version=version,
            event_id=header.event_id,
            event_type=event_type,
            author_org=header.author_org,
            occurred_at=header.occurred_at,
            recorded_at=header.recorded_at,
            control=visible_control(control),
            content_digests=digests,
            author_signature=header.signature,
        )
        sealed.rows.event_ids.append(
            EventIdRow(
                header.event_id,
                str(case_id),
                version,
                header.digest,
                json.dumps(digests),
                sealed.escrow,
            )
        )
        return sealed, replace(header, countersignature=self.sealer.countersign(stored))

    def case_key(self, case_id: UUID) -> bytes:
        """The case's key, unwrapped (cached after a write or a read)."""
        cached = self.sealer.cached_case_key(str(case_id))
        if cached is not None:
            return cached
        wrapped, known = self.records.tables.wrapped_case_key(str(case_id))
        return self.sealer.case_key(str(case_id), wrapped, known)

    def _person(self, pid: UUID, now: datetime) -> Person:
        try:
            person: Any = self.repository.get(pid)
        except AggregateNotFoundError:
            return Person.register(pid, now)
        assert isinstance(person, Person)  # noqa: S101 - ids are namespaced per kind
        return person

    def _recorded(self, case_id: UUID, event_id: str, recordings: Sequence[Any]) -> Recorded:
        for recording in recordings:
            event = recording.domain_event
            if event.originator_id == case_id:
                log.info(
                    "event recorded",
                    case_id=str(case_id),
                    event_id=event_id,
                    event_type=event.event_type,
                    version=event.originator_version,
                    author=event.author_org,
                    position=recording.notification.id,
                )
                return Recorded(
                    case_id, event_id, event.originator_version, recording.notification.id
                )
        raise AssertionError("the case event was not among the recordings")

    def _version_at(self, case_id: UUID, as_of: datetime) -> int:
        version = None
        for event in self.events.get(case_id):
            assert isinstance(event, Case.Event)  # noqa: S101 - case ids hold case events
            if event.timestamp > as_of:
                break
            version = event.originator_version
        if version is None:
            raise errors.CaseNotFound(str(case_id))
        return version
