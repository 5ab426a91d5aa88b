"""The application layer: composes the case aggregate with storage.

Methods take and return plain values. Every write goes through one path that parses the
payload against the catalogue, derives the event id, checks idempotency and the expected
version, lets the aggregate enforce the process, and saves — retrying only where a
concurrent writer, not the caller, caused the conflict (see contention.py), and for no
longer than `write_patience`.

Beside it: `submissions` (the values it takes and returns, re-exported here),
`event_headers` (event ids, the told time, the retry digest), `person_index` (which
person a referral is about) and `case_erasure` (what destroying a case rewrites).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import date, datetime
from typing import Any, ClassVar, cast
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError

from casestore.adapters import metrics
from casestore.adapters.persistence.policy_table import SUPERSEDED
from casestore.adapters.persistence.recorder import CaseRecorder
from casestore.adapters.persistence.sharing_tables import (
    Erasure,
    EventIdRow,
    SideRows,
)
from casestore.domain import errors
from casestore.domain.case import Case, visible_control
from casestore.domain.catalogue import Aanmelding, Payload, content_fields, parse_payload
from casestore.domain.events.closing import Uitstroom
from casestore.domain.events.rights import CORRECTIE, check_correction
from casestore.domain.header import EventHeader
from casestore.domain.person import Person
from casestore.services.audit import AuditTrail
from casestore.services.case_erasure import erasure_of
from casestore.services.contention import WRITE_PATIENCE_SECONDS, Retries
from casestore.services.event_headers import (
    check_occurred_at,
    event_id_for,
    new_case_id,
    payload_digest,
)
from casestore.services.lru import Lru
from casestore.services.person_index import PersonIndex
from casestore.services.provenance import Attested, Provenance
from casestore.services.recording_trail import recording_entries
from casestore.services.region_settings import check_setting, check_uitstroom
from casestore.services.sealing import PolicySuperseded, Sealed, Sealer, case_context
from casestore.services.submissions import (
    Author,
    Clock,
    Recorded,
    StoredCaseEvent,
    Submission,
    utcnow,
)
from sharing.errors import PolicyError
from sharing.keys import format_time
from sharing.policy import CaseContext
from sharing.provenance import stored_document

log = structlog.get_logger("casestore")

__all__ = [
    "Author",
    "CaseStore",
    "Clock",
    "Recorded",
    "StoredCaseEvent",
    "Submission",
    "utcnow",
]

CASE_TOPICS = tuple(sorted({cls.TOPIC for cls in Case.Event.__subclasses__()}))
RECENT_CASES = 256  # cases kept after a write, so the next append needs no read


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
        provenance: Provenance,
        clock: Clock = utcnow,
        snapshot_interval: int = 100,
        write_patience: float = WRITE_PATIENCE_SECONDS,
    ) -> None:
        self.snapshotting_intervals = {Case: snapshot_interval}  # type: ignore[misc]
        super().__init__(env)
        self._pseudonym_secret = pseudonym_secret
        self.persons = PersonIndex(pseudonym_secret, self._read_person)
        self.custodian = custodian
        self.sealer = sealer
        self.provenance = provenance
        self.clock = clock
        self.write_patience = write_patience  # seconds a write retries lost races
        self._recent: Lru[UUID, Case] = Lru(RECENT_CASES)
        self._save_listeners: list[Callable[[], None]] = []
        self._record_listeners: list[Callable[[Recorded, str], None]] = []
        self.audit: AuditTrail | None = None  # set by bootstrap; saves chain its entries

    def on_saved(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every committed save through this store (e.g. to wake
        live readers in this process at once); returns the function that removes it."""
        self._save_listeners.append(listener)
        return lambda: self._save_listeners.remove(listener)

    def on_recorded(self, listener: Callable[[Recorded, str], None]) -> None:
        """Call `listener(recorded, event_type)` after an append is committed, and again on
        an idempotent replay of it: grants that depend on the case as a whole (a condition
        recorded or withdrawn, a partner that joins or leaves) follow from there, and a
        retry completes what a failure after the save left undone."""
        self._record_listeners.append(listener)

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
        """Open a case with its aanmelding; a retry with the same key opens nothing new.

        A referral of a person with an open case is refused, naming that case, only when
        the referrer is in its network; from anyone else it opens a case like any other
        referral (an *aanmelding bij lopende casus*, linked to the open case in the person
        index for the custodian's bekendheid check), so that the answer tells an outsider
        nothing (see `casestore.domain.person.Person`)."""
        if submission.event_type != "aanmelding":
            raise errors.OpeningEventRequired(submission.event_type)
        author = submission.author.organisation
        self._check_author(author, submission.event_type, {author, self.custodian})
        now = self.clock()
        payload = parse_payload("aanmelding", submission.payload, today=now.date())
        assert isinstance(payload, Aanmelding)  # noqa: S101 - parse_payload picked the schema
        header, attested = self._header(submission, payload, None, now)
        case_id = new_case_id(header.event_id)
        retries = Retries(self.write_patience)
        while True:
            existing = self._replay(submission, header)
            if existing is not None:
                return existing
            resolved = self.persons.resolve(payload, now)
            person, pid = resolved.person, resolved.person.id
            if resolved.elsewhere is not None:
                person.name_leads_elsewhere(case_id, resolved.elsewhere, now)
            network = sorted({submission.author.organisation, self.custodian})
            beside = person.refer(case_id, submission.author.organisation, network, now)
            case_key, key_row = self.sealer.new_case_key(str(case_id), now)
            control = {**payload.control_values(), "netwerk": network}
            sealed, stored = self._seal(
                case_id, 1, header, "aanmelding", network, attested, control, case_key
            )
            sealed.rows.case_keys.append(key_row)
            case = Case.open(
                case_id=case_id,
                person_id=pid,
                network=network,
                header=stored,
                control=payload.recorded_control(),
                content=sealed.content,
            )
            try:
                recordings = self._save_sealed(
                    case,
                    *resolved.to_save,
                    side_rows=sealed.rows,
                    audit=self._audited(case_id, str(pid), header.event_id, "aanmelding", sealed),
                )
            except PolicySuperseded:
                continue  # sealed under a version no longer in force: seal again
            except IntegrityError:
                # A concurrent referral of the person, or a retry of this one, won; look again.
                if not retries.pause():
                    raise errors.CaseBusy(str(case_id), retries.waited) from None
                continue
            self._keep(case)
            # Every referral is logged alike, whether it was made beside an open case or
            # not: a line written for the one kind only would show in the answer's time.
            log.info(
                "aanmelding",
                organisation=submission.author.organisation,
                client=submission.author.user,
                case_id=str(case_id),
                lopende_casus=beside,
            )
            return self._recorded(case_id, header.event_id, recordings)

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
            recorded = self._append(case_id, submission, expected_version)
        except (errors.AuthorNotInNetwork, errors.AuthorNotPermitted):
            if not self.records.tables.access_positions(
                submission.author.organisation, str(case_id)
            ):
                raise errors.CaseNotFound(str(case_id)) from None
            raise
        # Also for a replay: a retry after a failure that followed the save completes it.
        for listener in list(self._record_listeners):
            listener(recorded, submission.event_type)
        return recorded

    def _append(
        self, case_id: UUID, submission: Submission, expected_version: int | None
    ) -> Recorded:
        if submission.event_type == "aanmelding":
            raise errors.CaseAlreadyOpened()
        self._check_author(submission.author.organisation, submission.event_type)
        now = self.clock()
        payload = parse_payload(submission.event_type, submission.payload, today=now.date())
        region = self.sealer.matrix.policy.region
        check_setting(region, payload)
        header, attested = self._header(submission, payload, case_id, now)
        # Idempotency is optimistic: the unique event id makes a repeat fail on save, and
        # only then (or when the case refuses the event) is the first recording looked up.
        # A conflict is only ever raised from a fresh read, against the version the caller
        # named; a lost race without one is retried until the patience runs out.
        retries = Retries(self.write_patience)
        while not retries.expired:
            case, from_cache = self._writable(case_id)
            try:
                type(payload).check_author(
                    case, submission.author.organisation, payload.recorded_control()
                )
                if expected_version is not None and case.version != expected_version:
                    raise errors.VersionConflict(expected_version, case.version)
                if isinstance(payload, Uitstroom) and case.is_open:
                    check_uitstroom(region, payload, self.history(case_id), header.occurred_at)
                sealed, touched = self._record_on(case, payload, attested, header, now)
            except (errors.ProcessViolation, errors.VersionConflict, errors.AuthorNotPermitted):
                if from_cache:
                    continue  # the cached case may be stale: decide on a fresh read
                existing = self._replay(submission, header)
                if existing is not None:
                    return existing  # a retry of what was recorded is not an error
                raise
            try:
                audit = self._audited(
                    case_id, case.person_id, header.event_id, payload.event_type, sealed
                )
                recordings = self._save_sealed(*touched, side_rows=sealed.rows, audit=audit)
            except PolicySuperseded:
                continue  # sealed under a version no longer in force: seal again
            except IntegrityError:
                existing = self._replay(submission, header)
                if existing is not None:
                    return existing
                # Someone else wrote this version first: try again on a fresh read, which
                # tells a caller that named a version that the case has moved on.
                if not retries.pause():
                    break
                continue
            self._keep(case)
            return self._recorded(case_id, header.event_id, recordings)
        raise errors.CaseBusy(str(case_id), retries.waited)

    def _record_on(
        self,
        case: Case,
        payload: Payload,
        attested: Attested,
        header: EventHeader,
        now: datetime,
    ) -> tuple[Sealed, list[Any]]:
        """Seal, countersign and record one event on `case`; returns what to save. The
        person index is saved with it when the case ends, reopens or its network changes."""
        was_open, was_network = case.is_open, list(case.network)
        control = payload.control_values()
        context = case_context(case, control, event_id=header.event_id)
        # Authorship by a case role (the levensloopaanbieder scales) is known only now.
        self._check_author(header.author_org, payload.event_type, context)
        if payload.by_regie:
            regie = case.regie.get("procesregisseur") or self.custodian
            if header.author_org != regie:
                raise errors.RegieRequired(header.author_org, payload.event_type, regie)
        if payload.event_type == CORRECTIE:
            self._check_correction(case, header.author_org, control)
        sealed, stored = self._seal(
            case.id,
            case.version + 1,
            header,
            payload.event_type,
            context,
            attested,
            control,
            self.case_key(case.id),
        )
        case.record(
            payload.event_type,
            header=stored,
            control=payload.recorded_control(),
            content=sealed.content,
        )
        touched: list[Any] = [case]
        if was_open and not case.is_open:
            person = self.person_of(case)
            person.end(case.id, now)
            touched.append(person)
        elif not was_open and case.is_open:  # a heraanmelding
            person = self.person_of(case)
            person.reopen(case.id, case.network, now)
            touched.append(person)
        elif case.network != was_network:
            person = self.person_of(case)
            person.network_changed(case.id, case.network, now)
            touched.append(person)
        return sealed, touched

    def _save_sealed(
        self, *objs: Any, side_rows: SideRows, audit: Sequence[dict[str, Any]] = ()
    ) -> Any:
        """Save what was sealed; PolicySuperseded (the policy in force taken up) when the
        store holds another policy version than the one it was sealed under."""
        try:
            return self.save(*objs, side_rows=side_rows, audit=audit)
        except Exception as exc:
            if SUPERSEDED not in str(exc):
                raise
            if not self.sealer.refresh():  # the store names a version it cannot take up
                raise RuntimeError(f"{SUPERSEDED}: {self.sealer.policy_version}") from exc
            raise PolicySuperseded() from None

    def _writable(self, case_id: UUID) -> tuple[Case, bool]:
        """The case to write on: the one this process saved last if it has it (no read at
        all), else from the store. A stale copy only costs a retry: saving it conflicts."""
        case = self._recent.pop(case_id)
        if case is not None:
            return case, True
        return self.case(case_id), False

    def _audited(
        self, case_id: UUID, person: str, event_id: str, event_type: str, sealed: Sealed
    ) -> list[dict[str, Any]]:
        if self.audit is None:
            return []
        return recording_entries(self.audit, case_id, person, event_id, event_type, sealed)

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

    def _check_correction(self, case: Case, author: str, control: dict[str, Any]) -> None:
        """A correctie names an event of the case, content fields of it, and is written by
        that event's author (or the custodian on the person's request)."""
        target = str(control["gebeurtenis"])
        found = next((e for e in self.history(case.id) if e.event_id == target), None)
        check_correction(
            control,
            author,
            self.custodian,
            None if found is None else found.author_org,
            None if found is None else content_fields(found.event_type),
        )

    def history(self, case_id: UUID) -> list[Case.Event]:
        """Every event of one case, in order."""
        events = [e for e in self.events.get(case_id) if isinstance(e, Case.Event)]
        if not events:
            raise errors.CaseNotFound(str(case_id))
        return events

    def histories(self, case_ids: Sequence[UUID]) -> dict[UUID, list[Case.Event]]:
        """`history` of many cases, read together."""
        found = {}
        for case_id, stored in self.records.events_of(case_ids).items():
            events = [self.mapper.to_domain_event(s) for s in stored]
            found[case_id] = [e for e in events if isinstance(e, Case.Event)]
            if not found[case_id]:
                raise errors.CaseNotFound(str(case_id))
        return found

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
        self, org: str, event_type: str, case: CaseContext | Collection[str] | None = None
    ) -> None:
        """Whether the policy lets the author write the type: in this case when given, else
        in some case (a case role it could hold), so a refusal needs no read of the case."""
        matrix = self.sealer.matrix
        try:
            if case is None:
                allowed = matrix.may_ever_author(org, event_type)
            else:
                allowed = matrix.may_author(org, event_type, case)
        except PolicyError:
            raise errors.UnknownEventType(event_type) from None
        if not allowed:
            raise errors.AuthorNotPermitted(org, event_type)

    def _header(
        self, submission: Submission, payload: Payload, case_id: UUID | None, now: datetime
    ) -> tuple[EventHeader, Attested]:
        """The event's header and its attested content: ids, times and who vouches."""
        author = submission.author.organisation
        told = submission.occurred_at
        if told is not None:
            check_occurred_at(submission.event_type, told, now)
        attested = self.provenance.attest(
            submission,
            payload,
            author=author,
            case_id=str(case_id) if case_id else None,
            now=now,
        )
        occurred_at = attested.occurred_at  # a signed document may tell it alone
        check_occurred_at(submission.event_type, occurred_at, now)
        event_id = event_id_for(attested.submission_id, author, case_id)
        # The time the author told: a signed submission may tell it in its document only.
        if told is None and submission.signature is not None:
            told = occurred_at
        header = EventHeader(
            event_id=event_id,
            author_org=author,
            author_user=submission.author.user,
            occurred_at=occurred_at,
            recorded_at=now,
            digest=payload_digest(
                self._pseudonym_secret, submission, told, case_id or new_case_id(event_id)
            ),
            submission_id=attested.submission_id,
            author_document=attested.document,
            signature=attested.signature,
        )
        return header, attested

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
        attested: Attested,
        control: dict[str, Any],
        case_key: bytes,
    ) -> tuple[Sealed, EventHeader]:
        """Seal the disclosures and countersign the event as it will be stored; note its
        id and digest for idempotent retries."""
        started = time.perf_counter()
        sealed = self.sealer.seal(
            case_id=str(case_id),
            version=version,
            event_id=header.event_id,
            event_type=event_type,
            author=header.author_org,
            network=network,
            plaintexts=attested.plaintexts,
            case_key=case_key,
            now=header.recorded_at,
        )
        metrics.SEAL_SECONDS.observe(time.perf_counter() - started)
        stored = stored_document(
            region=self.sealer.region,
            case_id=str(case_id),
            version=version,
            event_id=header.event_id,
            event_type=event_type,
            author_user=header.author_user,
            recorded_at=format_time(header.recorded_at),
            control=visible_control(control),
            author_document=attested.document,
            author_signature=attested.signature,
        )
        sealed.rows.event_ids.append(
            EventIdRow(header.event_id, str(case_id), version, header.digest, sealed.escrow)
        )
        return sealed, replace(header, countersignature=self.provenance.countersign(stored))

    def case_key(self, case_id: UUID) -> bytes:
        """The case's key, unwrapped (cached after a write or a read)."""
        cached = self.sealer.cached_case_key(str(case_id))
        if cached is not None:
            return cached
        wrapped, known = self.records.tables.wrapped_case_key(str(case_id))
        return self.sealer.case_key(str(case_id), wrapped, known)

    def person_by_bsn(self, bsn: str) -> Person | None:
        """The person index of a BSN, through its pseudonym (None: never referred). The
        BSN itself is neither stored nor logged."""
        return self.persons.by_bsn(bsn)

    def person_by_name(self, naam: str, geboortedatum: date) -> Person | None:
        """The person index of a name and birth date, through their pseudonym, as an
        aanmelding without a BSN finds it (None: never referred)."""
        return self.persons.by_name(naam, geboortedatum)

    def person_of(self, case: Case) -> Person:
        """The person index of a case's person."""
        if case.destroyed:
            raise errors.CaseNotFound(str(case.id))
        person = self._read_person(UUID(case.person_id))
        if person is None:
            raise errors.CaseNotFound(str(case.id))
        return person

    # ---- destroying ----------------------------------------------------------------------

    def erasure(self, case: Case, when: datetime) -> Erasure:
        """What destroying `case` rewrites (`casestore.services.case_erasure`)."""
        return erasure_of(self, case, when)

    def forget(self, case_id: UUID) -> None:
        """Drop what this process keeps of a destroyed case in memory."""
        self._recent.pop(case_id)
        cache = getattr(self.repository, "cache", None)
        if cache is not None:
            with suppress(KeyError):
                cache.get(case_id, evict=True)

    def _read_person(self, pid: UUID) -> Person | None:
        """A person index read straight from its events. Not through the repository: its
        cache would answer a known person with a copy and a known-nothing with a further
        look for a snapshot, and a referral must take about as long whether the person is
        known or not (see `open_case`)."""
        person: Any = None
        for event in self.events.get(pid):
            person = cast(Person.Event, event).mutate(person)
        assert person is None or isinstance(person, Person)  # noqa: S101 - ids per kind
        return person

    def _recorded(self, case_id: UUID, event_id: str, recordings: Sequence[Any]) -> Recorded:
        for recording in recordings:
            event = recording.domain_event
            if event.originator_id == case_id:
                metrics.APPENDS.labels(event.event_type).inc()
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
