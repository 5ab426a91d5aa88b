"""The application layer: composes the case aggregate with storage.

Methods take and return plain values. Every write goes through one path that parses the
payload against the catalogue, derives the event id, checks idempotency and the expected
version, lets the aggregate enforce the process, and saves — retrying only where a
concurrent writer, not the caller, caused the conflict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from casestore.domain import errors
from casestore.domain.case import Case
from casestore.domain.catalogue import Aanmelding, parse_payload
from casestore.domain.envelope import Envelope
from casestore.domain.errors import FieldProblem
from casestore.domain.person import Person, person_id, pseudonym
from casestore.persistence import CaseRecorder

Clock = Callable[[], datetime]

EVENT_NAMESPACE = UUID("0b8f3c52-5a7e-4d0e-8a0c-7d8a51f1c9e3")
CASE_NAMESPACE = UUID("a3f4e1d2-9b8c-4c7d-8e6f-5a4b3c2d1e0f")
CASE_TOPICS = tuple(sorted({cls.TOPIC for cls in Case.Recorded.__subclasses__()}))
CLOCK_SKEW = timedelta(minutes=5)
MAX_WRITE_ATTEMPTS = 5


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
    """One case event as stored: envelope, control attributes and (sealed) content."""

    position: int
    case_id: UUID
    version: int
    event: Case.Recorded

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
        clock: Clock = utcnow,
        snapshot_interval: int = 100,
    ) -> None:
        self.snapshotting_intervals = {Case: snapshot_interval}  # type: ignore[misc]
        super().__init__(env)
        self._pseudonym_secret = pseudonym_secret
        self._digest_key = blake2b(
            b"payload-digest", key=pseudonym_secret[:64], digest_size=32, encoder=RawEncoder
        )
        self.custodian = custodian
        self.clock = clock

    @property
    def case_recorder(self) -> CaseRecorder:
        recorder: Any = self.recorder
        return recorder  # type: ignore[no-any-return]

    # ---- writing ----------------------------------------------------------------------

    def open_case(self, submission: Submission) -> Recorded:
        """Open a case with its aanmelding; a retry with the same key opens nothing new."""
        if submission.event_type != "aanmelding":
            raise errors.OpeningEventRequired(submission.event_type)
        now = self.clock()
        payload = parse_payload("aanmelding", submission.payload, today=now.date())
        assert isinstance(payload, Aanmelding)  # noqa: S101 - parse_payload picked the schema
        envelope = self._envelope(submission, None, now)
        case_id = uuid5(CASE_NAMESPACE, envelope.event_id)
        pid = person_id(pseudonym(payload.bsn, self._pseudonym_secret))
        for _ in range(MAX_WRITE_ATTEMPTS):
            existing = self._replay(case_id, envelope)
            if existing is not None:
                return existing
            person = self._person(pid, now)
            person.start(case_id, now)
            case = Case.open(
                case_id=case_id,
                person_id=pid,
                network=[submission.author.organisation, self.custodian],
                envelope=envelope,
                control=payload.control_values(),
                content=payload.content_values(),
            )
            try:
                recordings = self.save(case, person)
            except IntegrityError:
                continue  # a concurrent referral or retry won; look again
            return self._recorded(case_id, envelope.event_id, recordings)
        raise errors.VersionConflict(0, -1)

    def append(
        self,
        case_id: UUID,
        submission: Submission,
        *,
        expected_version: int | None = None,
    ) -> Recorded:
        """Append one event to an open case."""
        if submission.event_type == "aanmelding":
            raise errors.CaseAlreadyOpened()
        now = self.clock()
        payload = parse_payload(submission.event_type, submission.payload, today=now.date())
        envelope = self._envelope(submission, case_id, now)
        for _ in range(MAX_WRITE_ATTEMPTS):
            existing = self._replay(case_id, envelope)
            if existing is not None:
                return existing
            case = self.case(case_id)
            if expected_version is not None and case.version != expected_version:
                raise errors.VersionConflict(expected_version, case.version)
            was_open = case.is_open
            case.record(
                submission.event_type,
                envelope=envelope,
                control=payload.control_values(),
                content=payload.content_values(),
            )
            touched: list[Any] = [case]
            if was_open and not case.is_open:
                person: Person = self.repository.get(UUID(case.person_id))
                person.end(case_id, now)
                touched.append(person)
            try:
                recordings = self.save(*touched)
            except IntegrityError:
                continue  # someone else wrote this version first; re-check and retry
            return self._recorded(case_id, envelope.event_id, recordings)
        current = self.case(case_id).version
        raise errors.VersionConflict(expected_version or current, current)

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

    def history(self, case_id: UUID) -> list[Case.Recorded]:
        """Every event of one case, in order."""
        events = [e for e in self.events.get(case_id) if isinstance(e, Case.Recorded)]
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
            assert isinstance(event, Case.Recorded)  # noqa: S101 - filtered by topic
            items.append(StoredCaseEvent(n.id, event.originator_id, n.originator_version, event))
        return items

    def iter_events(self, position: int = 0, page: int = 500) -> Iterator[StoredCaseEvent]:
        while batch := self.events_after(position, page):
            yield from batch
            position = batch[-1].position

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # ---- helpers ----------------------------------------------------------------------

    def _envelope(self, submission: Submission, case_id: UUID | None, now: datetime) -> Envelope:
        occurred_at = submission.occurred_at or now
        if occurred_at.tzinfo is None:
            raise errors.PayloadInvalid(
                submission.event_type, [FieldProblem("occurred_at", "needs a time zone")]
            )
        if occurred_at > now + CLOCK_SKEW:
            raise errors.PayloadInvalid(
                submission.event_type, [FieldProblem("occurred_at", "may not lie in the future")]
            )
        return Envelope(
            event_id=self._event_id(submission, case_id),
            author_org=submission.author.organisation,
            author_user=submission.author.user,
            occurred_at=occurred_at,
            recorded_at=now,
            digest=self._digest(submission),
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
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
        digest: bytes = blake2b(canonical.encode(), key=self._digest_key, digest_size=16)
        return digest.decode("ascii")

    def _replay(self, case_id: UUID, envelope: Envelope) -> Recorded | None:
        try:
            case = self.case(case_id)
        except errors.CaseNotFound:
            return None
        seen = case.previously_recorded(envelope.event_id)
        if seen is None:
            return None
        version, digest = seen
        if digest != envelope.digest:
            raise errors.IdempotencyConflict(envelope.event_id)
        position = self.case_recorder.position_of(case_id, version)
        assert position is not None  # noqa: S101 - the aggregate saw it, so it is stored
        return Recorded(case_id, envelope.event_id, version, position, replayed=True)

    def _person(self, pid: UUID, now: datetime) -> Person:
        try:
            person: Any = self.repository.get(pid)
        except AggregateNotFoundError:
            return Person.register(pid, now)
        assert isinstance(person, Person)  # noqa: S101 - ids are namespaced per kind
        return person

    def _recorded(self, case_id: UUID, event_id: str, recordings: Sequence[Any]) -> Recorded:
        for recording in recordings:
            if recording.domain_event.originator_id == case_id:
                return Recorded(
                    case_id,
                    event_id,
                    recording.domain_event.originator_version,
                    recording.notification.id,
                )
        raise AssertionError("the case event was not among the recordings")

    def _version_at(self, case_id: UUID, as_of: datetime) -> int:
        version = None
        for event in self.events.get(case_id):
            assert isinstance(event, Case.Recorded)  # noqa: S101 - case ids hold case events
            if event.timestamp > as_of:
                break
            version = event.originator_version
        if version is None:
            raise errors.CaseNotFound(str(case_id))
        return version
