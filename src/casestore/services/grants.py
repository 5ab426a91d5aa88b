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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError

from casestore.adapters.persistence.grant_history import (
    GRANTED,
    REVOKED,
    GrantChangeRow,
    GrantHistoryTable,
)
from casestore.adapters.persistence.policy_table import SUPERSEDED, NoticeRow
from casestore.adapters.persistence.rows import project
from casestore.adapters.persistence.sharing_tables import AccessRow, GrantRow, ShredRecord
from casestore.domain import errors
from casestore.domain.case import Case
from casestore.services.audit import CASE_SHREDDED, GRANT_CREATED, GRANT_REVOKED, Basis
from casestore.services.case_store import CaseStore
from casestore.services.sealing import Sealer, case_context, context_of
from sharing.envelope import Escrow
from sharing.keys import Recipient
from sharing.policy import AccessMatrix, CaseContext

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

    def fields(self, wanted: bool) -> dict[tuple[str, int], frozenset[str]]:
        """(org, version) -> fields, over every key of the organisation."""
        found: dict[tuple[str, int], frozenset[str]] = {}
        for (org, version, _), names in (self.want if wanted else self.have).items():
            found[(org, version)] = found.get((org, version), frozenset()) | names
        return found


BY_HAND = "grants reconcile"
RECONCILE_ATTEMPTS = 3  # a write to the case between the reads of a reconciliation


class Grants:
    """Re-granting, revoking and shredding, for one case or every case."""

    def __init__(self, store: CaseStore, sealer: Sealer, history: GrantHistoryTable) -> None:
        self.store = store
        self.sealer = sealer
        self._tables = store.records.tables
        self._history = history

    def history(self, case_id: UUID) -> list[GrantChange]:
        """Every grant of the case changed after the fact, oldest first."""
        return [project(GrantChange, row) for row in self._history.of_case(str(case_id))]

    def plan(self, case_id: UUID, matrix: AccessMatrix | None = None) -> Plan:
        """What one case's grants and access are, and what `matrix` (by default the policy
        in force) wants them to be now: the one computation behind both a reconciliation
        and the impact a proposal would have on stored history."""
        matrix = matrix or self.sealer.matrix
        now = self.store.clock()
        cid = str(case_id)
        tables = self._tables
        rows = {(g.org_id, g.version, g.key_id): g for g in tables.grants_of_case(cid)}
        have = {key: frozenset(g.fields) for key, g in rows.items()}
        have_access = {(a.org_id, a.version) for a in tables.access_of_case(cid)}
        want: dict[tuple[str, int, str], frozenset[str]] = {}
        events: dict[int, tuple[Case.Event, CaseContext]] = {}
        want_access: dict[tuple[str, int], Case.Event] = {}
        case: Any = None
        # Every generation an organisation holds now: during a rotation's overlap the old
        # one too, so its grants stay until the organisation confirms the new one.
        recipients_of: dict[str, dict[str, Recipient]] = {}

        def keys_of(org: str) -> list[Recipient]:
            found = recipients_of.get(org)
            if found is None:
                found = recipients_of[org] = {
                    k.key_id: k for k in self.sealer.keyring.recipients(org, now)
                }
            return list(found.values())

        for event in self.store.history(case_id):
            version = event.originator_version
            network = case_context(case, event.control)
            events[version] = (event, network)
            recipients = matrix.recipients(event.event_type, network, now, author=event.author_org)
            for org in recipients.receivers:
                want_access[(org, version)] = event
            granted: dict[tuple[str, int, str], set[str]] = {}
            for name in event.content:
                for org in self.sealer.readers(name, recipients.fields):
                    for key in keys_of(org):
                        granted.setdefault((org, version, key.key_id), set()).add(name)
            want.update({k: frozenset(names) for k, names in granted.items()})
            case = event.mutate(case)
        return Plan(cid, now, rows, have, have_access, want, events, want_access)

    def reconcile(self, case_id: UUID, reason: str = BY_HAND) -> GrantChanges:
        """Bring one case's grants and access in line with the current policy and keys:
        re-seal from escrow what is newly granted, delete what no longer is. A grant whose
        fields change is replaced by one for the fields now granted. Each change goes into
        the grant history with `reason`."""
        plan = self.plan(case_id)
        now, cid, tables = plan.now, plan.case_id, self._tables
        rows, have, have_access = plan.rows, plan.have, plan.have_access
        want, events, want_access = plan.want, plan.events, plan.want_access
        new = [k for k, names in want.items() if have.get(k) != names]
        escrows = {}
        if new:
            escrows = {
                r.event_id: Escrow.from_json(json.loads(r.escrow))
                for r in tables.escrows_of_case(cid)
            }
        case_key = self.store.case_key(case_id) if new else b""
        added = []
        generations: dict[str, dict[str, Recipient]] = {}
        for org, version, key_id in new:
            event, network = events[version]
            if org not in generations:  # the plan wanted every generation the org holds now
                generations[org] = {k.key_id: k for k in self.sealer.keyring.recipients(org, now)}
            recipient = generations[org][key_id]
            grant = self.sealer.regrant(
                context=context_of(self.sealer.region, event),
                fields=sorted(want[(org, version, key_id)]),
                escrow=escrows[event.event_id],
                case_key=case_key,
                recipient=recipient,
            )
            decision = self.sealer.matrix.decide(
                org, event.event_type, network, now, author=event.author_org
            )
            added.append(self.sealer.grant_row(cid, version, event.event_id, grant, decision))
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
                self.store.records.position_of(case_id, version),
            )
            for (org, version), event in want_access.items()
            if (org, version) not in have_access
        ]
        access_removed = [(org, cid, v) for org, v in have_access if (org, v) not in want_access]
        history = [
            self._change(rows[(org, cid_version, key_id)], REVOKED, now, reason)
            for org, _, cid_version, key_id in revoked
        ] + [self._change(row, GRANTED, now, reason) for row in added]
        tables.change_grants(
            add=added,
            remove=revoked,
            add_access=access_added,
            remove_access=access_removed,
            history=history,
            audit=self._audited(rows, added, revoked, reason),
            notices=self._notices(plan, now),
        )
        return GrantChanges(len(added), len(revoked), len(access_added), len(access_removed))

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
            position = self.store.records.position_of(event.originator_id, version)
            assert position is not None  # noqa: S101 - the event is stored
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

    def _change(self, grant: GrantRow, change: str, now: datetime, reason: str) -> GrantChangeRow:
        rules = sorted(
            {rule for basis in json.loads(grant.basis).values() for rule in basis["rules"]}
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
        """Reconcile one case while it may be written and the policy may change."""
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

    def shred(self, case_id: UUID, *, by: str, reason: str) -> ShredRecord:
        """Destroy a closed case's key and every wrapped data key: its content can never be
        opened again. The header stays, and so does the record of the shredding."""
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
        self._tables.shred(record, history, list(trail.within(audit)) if trail else [])
        self.sealer.forget_case_key(str(case_id))
        return record

    def shred_record(self, case_id: UUID) -> ShredRecord | None:
        return self._tables.shred_record(str(case_id))
