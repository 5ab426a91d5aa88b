"""Grants after the fact: a new policy version, a rotated key, a rule's validity ending,
a shredded case.

Sealing grants at write time what the policy in force allows then. When the policy, the
rules in force or an organisation's key change, `reconcile` re-seals from the escrow what
is newly granted and deletes what no longer is (a grant to a key generation still in
use is kept: after a rotation that is the old one too, until its organisation confirms the
new one, casestore.services.keys); shredding destroys a closed case's key and
every wrapped data key, so its content can never be opened again. Every such change is
recorded, with its reason, in the grant history (`history`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError

from casestore.adapters.keyring import Keyring
from casestore.adapters.persistence.backend import Cursor
from casestore.adapters.persistence.grant_history import (
    GRANTED,
    REVOKED,
    GrantChangeRow,
    GrantHistoryTable,
)
from casestore.adapters.persistence.policy_table import SUPERSEDED, NoticeRow
from casestore.adapters.persistence.rows import project
from casestore.adapters.persistence.sharing_tables import (
    AccessRow,
    EscrowRow,
    GrantRow,
    ShredRecord,
)
from casestore.domain import errors
from casestore.domain.case import Case
from casestore.domain.events.conditions import conditions_of
from casestore.domain.events.rights import corrections_of
from casestore.domain.processing_restrictions import grantable, restraints_of
from casestore.services.audit import CASE_SHREDDED, GRANT_CREATED, GRANT_REVOKED, Basis
from casestore.services.case_store import CaseStore, Recorded
from casestore.services.retention_terms import Terms
from casestore.services.sealing import Sealer, case_context, context_of
from sharing.envelope import Escrow
from sharing.keys import Recipient
from sharing.owned import field_of
from sharing.policy import AccessMatrix, CaseContext, Decision, PastEvent, Scope
from sharing.policy.decisions import FieldAccess
from sharing.policy.model import OnLeave

log = structlog.get_logger("casestore.grants")

Progress = Callable[[int, int], None]
"""Told (done, total) as a long operation moves on."""


@dataclass(frozen=True)
class GrantChanges:
    """What a reconciliation changed: grants re-sealed and revoked, access given and taken."""

    granted: int
    revoked: int
    access_added: int
    access_removed: int

    def __add__(self, other: GrantChanges) -> GrantChanges:
        return GrantChanges(
            self.granted + other.granted,
            self.revoked + other.revoked,
            self.access_added + other.access_added,
            self.access_removed + other.access_removed,
        )


@dataclass(frozen=True)
class GrantChange:
    """One grant given or taken after its event was sealed, and why."""

    changed_at: datetime
    case_id: str
    version: int
    event_id: str
    org_id: str
    key_id: str
    change: str  # granted | revoked
    policy_version: str
    rules: str
    reason: str


@dataclass
class _ChangeSet:
    """The rows a reconciliation writes, of one case or of a batch of cases."""

    add: list[GrantRow] = field(default_factory=list)
    remove: list[tuple[str, str, int, str]] = field(default_factory=list)
    add_access: list[AccessRow] = field(default_factory=list)
    remove_access: list[tuple[str, str, int]] = field(default_factory=list)
    history: list[GrantChangeRow] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)

    def extend(self, other: _ChangeSet) -> None:
        for name in ("add", "remove", "add_access", "remove_access", "history", "audit", "notices"):
            getattr(self, name).extend(getattr(other, name))

    def writes(self) -> dict[str, Any]:
        return dict(vars(self))

    def counts(self) -> GrantChanges:
        return GrantChanges(
            len(self.add), len(self.remove), len(self.add_access), len(self.remove_access)
        )


@dataclass(frozen=True)
class Plan:
    """One case's grants and access as stored (`have`) and as the policy wants them."""

    case_id: str
    now: datetime
    rows: dict[tuple[str, int, str], GrantRow]
    have: dict[tuple[str, int, str], frozenset[str]]  # (org, version, key) -> fields
    have_access: set[tuple[str, int]]
    want: dict[tuple[str, int, str], frozenset[str]]
    events: dict[int, tuple[Case.Event, CaseContext]]
    want_access: dict[tuple[str, int], Case.Event]
    decisions: dict[tuple[str, int], Decision]  # what each wanted header and grant rests on
    recipients: dict[str, dict[str, Recipient]]  # org -> key id -> every generation held
    person_id: str = ""  # whose case it is
    positions: dict[int, int] = field(default_factory=dict)  # version -> place in the order

    def fields(self, wanted: bool) -> dict[tuple[str, int], frozenset[str]]:
        """(org, version) -> fields, over every key of the organisation."""
        found: dict[tuple[str, int], frozenset[str]] = {}
        for (org, version, _), names in (self.want if wanted else self.have).items():
            found[(org, version)] = found.get((org, version), frozenset()) | names
        return found


class _Wanted:
    """What the policy gives each organisation of a case's events, collected event by
    event: the header, the decision it rests on, and a grant of the sealed fields it may
    open under every key generation the organisation holds now (during a rotation's
    overlap the old one too, so its grants stay until the organisation confirms the new)."""

    def __init__(
        self,
        now: datetime,
        keyring: Keyring,
        expired: Callable[[FieldAccess, Case.Event], bool],
        superseded: dict[str, dict[str, str]],
    ) -> None:
        self.now = now
        self.keyring = keyring
        self.expired = expired  # past its retention terms: not granted again
        self.superseded = superseded  # event id -> fields a correctie replaced: never again
        self.fields: dict[tuple[str, int, str], frozenset[str]] = {}
        self.access: dict[tuple[str, int], Case.Event] = {}
        self.decisions: dict[tuple[str, int], Decision] = {}
        self.recipients: dict[str, dict[str, Recipient]] = {}
        self._parsed: dict[int, list[tuple[str, str, str]]] = {}

    def add(self, org: str, event: Case.Event, decision: Decision) -> None:
        version = event.originator_version
        self.access[(org, version)] = event
        earlier = self.decisions.get((org, version))
        self.decisions[(org, version)] = decision if earlier is None else _either(earlier, decision)
        corrected = self.superseded.get(event.event_id, {})
        parsed = self._parsed.get(version)
        if parsed is None:  # each event is judged for several organisations
            parsed = self._parsed[version] = [(name, *field_of(name)) for name in event.content]
        names = {
            name
            for name, plain, owner in parsed
            if plain not in corrected
            and (access := decision.fields.get(plain)) is not None
            and (access.scope is Scope.all or owner in ("", org))
            and not self.expired(access, event)
        }
        if not names:
            return
        for key in self._keys_of(org):
            have = self.fields.get((org, version, key.key_id), frozenset())
            self.fields[(org, version, key.key_id)] = have | names

    def _keys_of(self, org: str) -> list[Recipient]:
        found = self.recipients.get(org)
        if found is None:
            found = self.recipients[org] = {
                k.key_id: k for k in self.keyring.recipients(org, self.now)
            }
        return list(found.values())


BY_HAND = "grants reconcile"
RECONCILING_EVENT_TYPES = frozenset(
    {
        "toestemming",
        "toestemming_ingetrokken",
        "conflict_van_plichten",
        "netwerkwijziging",
        "inclusiebesluit",
        "correctie",
        "bezwaar",
        "beperking_opgeheven",
    }
)
"""Events after which the grants of the case's earlier events may differ (a correctie: the
fields it supersedes are granted no more; an upheld bezwaar, a lifted beperking)."""

KEY_TABLES = ("case_keys", "event_ids", "grants")
"""The tables that hold key material: wrapped case keys, escrows, wrapped data keys."""
RECONCILE_ATTEMPTS = 3  # a write to the case between the reads of a reconciliation


class Grants:
    """Re-granting, revoking and shredding, for one case or every case."""

    def __init__(
        self,
        store: CaseStore,
        sealer: Sealer,
        history: GrantHistoryTable,
        terms: Terms | None = None,
    ) -> None:
        self.store = store
        self.sealer = sealer
        self._tables = store.records.tables
        self._history = history
        self.terms = terms  # retention: a field past every term that grants it is not kept
        store.on_recorded(self._follow)

    def _follow(self, recorded: Recorded, event_type: str) -> None:
        """A condition recorded or withdrawn, or a partner joining or leaving, changes what
        the case's earlier events grant: reconcile the case at once."""
        if event_type in RECONCILING_EVENT_TYPES:
            self.reconcile_case(recorded.case_id, f"{event_type} {recorded.event_id}")

    def history(self, case_id: UUID) -> list[GrantChange]:
        """Every grant of the case changed after the fact, oldest first."""
        return [project(GrantChange, row) for row in self._history.of_case(str(case_id))]

    def plan(self, case_id: UUID, matrix: AccessMatrix | None = None) -> Plan:
        """What one case's grants and access are, and what `matrix` (by default the policy
        in force) wants them to be now: the one computation behind both a reconciliation
        and the impact a proposal would have on stored history.

        Each event is judged with the network and regie of its own time and the case's
        condition records as they stand now (a withdrawn toestemming grants nothing more).
        A member that joined later also holds its startdossier: what the rules in force
        with `on_join` give it of the events before it joined. A partner that left keeps
        only what rules with `on_leave: keep` gave it, its own events, and the header of its
        own leaving (so that it is told by name that it left)."""
        cid = str(case_id)
        return self._plan(
            case_id, matrix, self._tables.grants_of_case(cid), self._tables.access_of_case(cid)
        )

    def plans(self, case_ids: Sequence[str], matrix: AccessMatrix | None = None) -> Iterator[Plan]:
        """`plan` of many cases, their grants and access rows read in one query each."""
        tables = self._tables
        grants = tables.grants_of_cases(case_ids)
        access = tables.access_of_cases(case_ids, tables.access_org_ids())
        histories = self.store.histories([UUID(c) for c in case_ids])
        for cid in case_ids:
            yield self._plan(UUID(cid), matrix, grants[cid], access[cid], histories[UUID(cid)])

    def _plan(
        self,
        case_id: UUID,
        matrix: AccessMatrix | None,
        grant_rows: Sequence[GrantRow],
        access_rows: Sequence[AccessRow],
        stored: list[Case.Event] | None = None,
    ) -> Plan:
        now = self.store.clock()
        self.sealer.at(now)
        matrix = matrix or self.sealer.matrix
        cid = str(case_id)
        rows = {(g.org_id, g.version, g.key_id): g for g in grant_rows}
        have = {key: _sealed_fields(g.basis) for key, g in rows.items()}
        have_access = {(a.org_id, a.version) for a in access_rows}
        positions = {a.version: a.position for a in access_rows if a.position is not None}
        if stored is None:
            stored = self.store.history(case_id)
        final: Any = None
        for event in stored:
            final = event.mutate(final)
        records = conditions_of(final)
        members_now = frozenset(final.network)
        wanted = _Wanted(
            now,
            self.sealer.keyring,
            self.expiry(case_id, now, final.closed_at),
            corrections_of(final),
        )
        events: dict[int, tuple[Case.Event, CaseContext]] = {}
        decided: dict[tuple[str, CaseContext, str], list[tuple[str, Decision]]] = {}
        joined: dict[str, int] = {}  # a current member: the version its membership runs from
        case: Any = None
        previous: frozenset[str] = frozenset()
        for event in stored:
            version = event.originator_version
            network = case_context(case, event.control, event_id=event.event_id, conditions=records)
            events[version] = (event, network)
            for org in network.members - previous:
                joined[org] = version
            previous = network.members
            author = event.author_org
            # A case's events mostly repeat a few shapes (type, network, author): each
            # shape is decided once per plan, at the plan's one moment.
            shape = (event.event_type, network, author)
            judged = decided.get(shape)
            if judged is None:
                judged = decided[shape] = [
                    (org, matrix.decide(org, event.event_type, network, now, author=author))
                    for org in matrix.recipients(
                        event.event_type, network, now, author=author
                    ).receivers
                ]
            for org, decision in judged:
                still = org in members_now and joined.get(org, version) <= version
                if not (still or org == author):
                    decision_kept = _kept(decision, org, event)
                    if decision_kept is None:
                        continue
                    decision = decision_kept
                wanted.add(org, event, decision)
            case = event.mutate(case)

        context = case_context(final, {}, conditions=records)
        for org in sorted(members_now):
            since = joined.get(org, 1)
            past = [
                PastEvent(v, e.event_type, e.author_org)
                for v, (e, _) in events.items()
                if v < since and e.author_org != org
            ]
            if not past:
                continue
            for key, decision in matrix.startdossier(org, past, context, now).items():
                wanted.add(org, events[int(str(key))][0], decision)
        # A beperking in force suspends re-grants, an upheld bezwaar ends them.
        authors = {v: e.author_org for v, (e, _) in events.items()}
        want = grantable(
            wanted.fields, have, restraints_of(final), self.store.custodian, now.date(), authors.get
        )
        return Plan(
            cid,
            now,
            rows,
            have,
            have_access,
            want,
            events,
            wanted.access,
            wanted.decisions,
            wanted.recipients,
            str(final.person_id),
            positions,
        )

    def reconcile(self, case_id: UUID, reason: str = BY_HAND) -> GrantChanges:
        """Bring one case's grants and access in line with the current policy, keys, network
        and conditions (see `plan`): re-seal from escrow what is newly granted, delete what
        no longer is. A grant whose fields change is replaced by one for the fields now
        granted. Each change goes into the grant history with `reason`."""
        changes = self._changes(self.plan(case_id), reason, None)
        self._tables.change_grants(**changes.writes())
        return changes.counts()

    def reconcile_many(self, case_ids: Sequence[str], reason: str) -> GrantChanges:
        """`reconcile_case` of many cases (none shredded) in one transaction, their plans
        and escrows read a batch at a time; when the batch cannot be written (a case written
        or a version activated meanwhile) each case is done on its own, as `reconcile_case`
        does, so the end is the same."""
        plans = list(self.plans(case_ids))
        needed = [p.case_id for p in plans if any(p.have.get(k) != n for k, n in p.want.items())]
        escrows = self._tables.escrows_of_cases(needed)
        batch = _ChangeSet()
        for plan in plans:
            batch.extend(self._changes(plan, reason, escrows.get(plan.case_id)))
        try:
            self._tables.change_grants(**batch.writes())
        except Exception as exc:
            if not (SUPERSEDED in str(exc) or isinstance(exc, IntegrityError)):
                raise
            total = GrantChanges(0, 0, 0, 0)
            for cid in case_ids:
                total = total + self.reconcile_case(UUID(cid), reason)
            return total
        return batch.counts()

    def _changes(
        self, plan: Plan, reason: str, escrow_rows: Sequence[EscrowRow] | None
    ) -> _ChangeSet:
        """What bringing one planned case in line writes (`reconcile`); its escrows as read
        already, or read here when needed."""
        now, cid, tables = plan.now, plan.case_id, self._tables
        rows, have, have_access = plan.rows, plan.have, plan.have_access
        want, events, want_access = plan.want, plan.events, plan.want_access
        new = [k for k, names in want.items() if have.get(k) != names]
        escrows = {}
        if new:
            escrows = {
                r.event_id: Escrow.from_json(json.loads(r.escrow))
                for r in (tables.escrows_of_case(cid) if escrow_rows is None else escrow_rows)
            }
        case_key = self.store.case_key(UUID(cid)) if new else b""
        added = []
        for org, version, key_id in new:
            event, _ = events[version]
            recipient = plan.recipients[org][key_id]
            grant = self.sealer.regrant(
                context=context_of(self.sealer.region, event),
                fields=sorted(want[(org, version, key_id)]),
                escrow=escrows[event.event_id],
                case_key=case_key,
                recipient=recipient,
            )
            decision = plan.decisions[(org, version)]
            added.append(self.sealer.grant_row(cid, version, event.event_id, grant, decision, now))
        revoked = [
            (org, cid, version, key_id)
            for (org, version, key_id), names in have.items()
            if want.get((org, version, key_id)) != names
        ]
        access_added = [
            AccessRow(
                org,
                cid,
                version,
                event.event_id,
                self.sealer.policy_version,
                self._position(plan, version),
                now,
            )
            for (org, version), event in want_access.items()
            if (org, version) not in have_access
        ]
        access_removed = [(org, cid, v) for org, v in have_access if (org, v) not in want_access]
        history = [
            self._change(rows[(org, cid_version, key_id)], REVOKED, now, reason)
            for org, _, cid_version, key_id in revoked
        ] + [self._change(row, GRANTED, now, reason) for row in added]
        return _ChangeSet(
            added,
            revoked,
            access_added,
            access_removed,
            history,
            self._audited(rows, added, revoked, reason),
            self._notices(plan, now),
        )

    def _audited(
        self,
        had: dict[tuple[str, int, str], GrantRow],
        added: list[GrantRow],
        revoked: list[tuple[str, str, int, str]],
        reason: str,
    ) -> list[dict[str, Any]]:
        """The trail's entries of a reconciliation: each grant taken and given."""
        trail = self.store.audit
        if trail is None:
            return []
        taken = [had[(org, version, key_id)] for org, _, version, key_id in revoked]
        entries = [
            trail.entry(
                change,
                case=g.case_id,
                events=[g.event_id],
                fields=tuple(json.loads(g.basis)),
                receiver=g.org_id,
                basis=Basis.of_grant_basis(g.basis),
                reason=reason,
            )
            for change, grants in ((GRANT_REVOKED, taken), (GRANT_CREATED, added))
            for g in grants
        ]
        return list(trail.within(entries))

    def _notices(self, plan: Plan, now: datetime) -> list[NoticeRow]:
        """A notice per event of which an organisation newly receives fields or the event
        itself: it lies behind the organisation's feed position, where a reader following
        the feed would never look again."""
        before, after = plan.fields(False), plan.fields(True)
        notices = []
        for (org, version), names in sorted(after.items()):
            gained = names - before.get((org, version), frozenset())
            new_event = (org, version) not in plan.have_access
            if not gained and not new_event:
                continue
            event, _ = plan.events[version]
            position = self._position(plan, version)
            notices.append(
                NoticeRow(
                    org,
                    position,
                    plan.case_id,
                    version,
                    event.event_id,
                    ",".join(sorted(gained)),
                    self.sealer.policy_version,
                    now,
                )
            )
        return notices

    def _position(self, plan: Plan, version: int) -> int:
        """An event's place in the global order: from the case's access rows read with the
        plan (one read per case, not one per grant), else from the store."""
        found = plan.positions.get(version)
        if found is None:
            found = self.store.records.position_of(UUID(plan.case_id), version)
            assert found is not None  # noqa: S101 - the event is stored
        return found

    def expiry(
        self, case_id: UUID, now: datetime, case_end: datetime | None
    ) -> Callable[[FieldAccess, Case.Event], bool]:
        """Whether a field granted by an access is past every retention term that grants it
        (never while the case is held, nor without retention terms); `case_end` as the
        case's own history has it (the plan has just read it: no second load)."""
        paused = None if self.terms is None else self.terms.paused(str(case_id))
        if self.terms is None or paused is None:
            return lambda access, event: False
        terms, held = self.terms, paused
        return lambda access, event: terms.field_expired(
            access, event.occurred_at, case_end, held, now
        )

    def _change(self, grant: GrantRow, change: str, now: datetime, reason: str) -> GrantChangeRow:
        bases = json.loads(grant.basis).values()
        rules = sorted({rule for basis in bases for rule in basis["rules"]})
        # The condition records the grant rested on, so the timeline says which consent
        # or weighing a grant came and went with.
        rules += sorted(
            {f"{c['kind']}:{c['record']}" for basis in bases for c in basis.get("conditions", ())}
        )
        return GrantChangeRow(
            changed_at=now,
            case_id=grant.case_id,
            version=grant.version,
            event_id=grant.event_id,
            org_id=grant.org_id,
            key_id=grant.key_id,
            change=change,
            policy_version=self.sealer.policy_version,
            rules=",".join(rules),
            reason=reason,
        )

    def reconcile_all(
        self, reason: str = BY_HAND, progress: Progress | None = None
    ) -> GrantChanges:
        """Reconcile every case that still has its key (shredded cases hold nothing);
        `progress(done, total)` hears of each case done."""
        self.sealer.refresh()
        total = GrantChanges(0, 0, 0, 0)
        case_ids = self._tables.case_ids()
        for done, cid in enumerate(case_ids, start=1):
            if self._tables.shred_record(cid) is None:
                total = total + self.reconcile_case(UUID(cid), reason)
            if progress is not None:
                progress(done, len(case_ids))
        return total

    def reconcile_case(self, case_id: UUID, reason: str) -> GrantChanges:
        """Reconcile one case unless it was shredded, while it may be written and the policy
        may change."""
        if self._tables.shred_record(str(case_id)) is not None:
            return GrantChanges(0, 0, 0, 0)
        # An event appended between the reads of a reconciliation brings grants of its own,
        # which the reconciliation then means to add as well: the insert fails, nothing is
        # changed, and a fresh read settles it. A version activated meanwhile makes the
        # store refuse the grants: the version in force is taken up and the case done again.
        for _ in range(RECONCILE_ATTEMPTS - 1):
            try:
                return self.reconcile(case_id, reason)
            except Exception as exc:
                if SUPERSEDED in str(exc):
                    if not self.sealer.refresh():
                        raise
                elif not isinstance(exc, IntegrityError):
                    raise
        return self.reconcile(case_id, reason)

    def shred(
        self,
        case_id: UUID,
        *,
        by: str,
        reason: str,
        also: Callable[[Case, Cursor], None] | None = None,
        erase_freed: bool = True,
    ) -> ShredRecord:
        """Destroy a closed case: its key, every wrapped data key and escrow, its events'
        content and their link to the person, and the person index's link to it, so that
        nothing of it can be opened again nor found from the person. What is left is each
        event's header and control attributes, marked destroyed, and the record of the
        shredding. `also` writes in the same transaction (the verklaring, the figures);
        `erase_freed` then makes the deleted keys unrecoverable from the database files
        (a run destroying many cases does that once, at its end)."""
        case = self.store.case(case_id)
        if case.is_open:
            raise errors.CaseStillOpen(str(case_id))
        existing = self._tables.shred_record(str(case_id))
        if existing is not None:
            return existing
        now = self.store.clock()
        record = ShredRecord(str(case_id), now, by, reason)
        why = f"shredded by {by}: {reason}"
        taken = self._tables.grants_of_case(str(case_id))
        history = [self._change(grant, REVOKED, now, why) for grant in taken]
        audit: list[dict[str, Any]] = []
        trail = self.store.audit
        if trail is not None:
            audit = [
                trail.entry(
                    GRANT_REVOKED,
                    case=g.case_id,
                    events=[g.event_id],
                    fields=tuple(json.loads(g.basis)),
                    receiver=g.org_id,
                    basis=Basis.of_grant_basis(g.basis),
                    reason=why,
                )
                for g in taken
            ]
            audit.append(
                trail.entry(CASE_SHREDDED, case=str(case_id), person=case.person_id, reason=why)
            )
        self._tables.shred(
            record,
            history,
            list(trail.within(audit)) if trail else [],
            erasure=self.store.erasure(case, now),
            also=None if also is None else (lambda cursor: also(case, cursor)),
        )
        self.sealer.forget_case_key(str(case_id))
        self.store.forget(case_id)
        if erase_freed:
            self.erase_freed()
        return record

    def erase_freed(self) -> None:
        """Make deleted keys, escrows and grants unrecoverable from the database files."""
        self._tables.backend.erase_freed(KEY_TABLES)

    def shred_record(self, case_id: UUID) -> ShredRecord | None:
        return self._tables.shred_record(str(case_id))


@lru_cache(maxsize=4096)
def _sealed_fields(basis: str) -> frozenset[str]:
    """The fields a grant's basis names: many grants share one basis text, parsed once."""
    return frozenset(json.loads(basis))


def _kept(decision: Decision, org: str, event: Case.Event) -> Decision | None:
    """What a partner that left keeps of one event: the fields and header that rules with
    `on_leave: keep` gave it, and the header of its own leaving; None when nothing."""
    fields = {name: access for name, access in decision.fields.items() if access.kept_on_leaving}
    header = any(grant.on_leave is OnLeave.keep for grant in decision.rule_grants)
    own_leaving = (
        event.event_type == "netwerkwijziging"
        and event.control.get("organisatie") == org
        and event.control.get("wijziging") == "uitgetreden"
    )
    if not (fields or header or own_leaving):
        return None
    return replace(decision, fields=MappingProxyType(fields))


def _either(one: Decision, other: Decision) -> Decision:
    """Two grounds for one event (the event's own time and a startdossier): the union."""
    fields: dict[str, FieldAccess] = dict(one.fields)
    for name, access in other.fields.items():
        mine = fields.get(name)
        if mine is None or (mine.scope is Scope.own and access.scope is Scope.all):
            fields[name] = access
    rules = tuple(dict.fromkeys((*one.receiving_rules, *other.receiving_rules)))
    grants = tuple(dict.fromkeys((*one.rule_grants, *other.rule_grants)))
    return replace(one, receiving_rules=rules, fields=MappingProxyType(fields), rule_grants=grants)
