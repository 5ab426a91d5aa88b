"""Grants after the fact: a new policy version, a rotated key, a rule's validity ending,
a shredded case.

Sealing grants at write time what the policy in force allows then. When the policy, the
rules in force or an organisation's key change, `reconcile` re-seals from the escrow what
is newly granted and deletes what no longer is; shredding destroys a closed case's key and
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

from casestore.adapters.persistence.backend import Cursor
from casestore.adapters.persistence.grant_history import (
    GRANTED,
    REVOKED,
    GrantChangeRow,
    GrantHistoryTable,
)
from casestore.adapters.persistence.rows import project
from casestore.adapters.persistence.sharing_tables import AccessRow, GrantRow, ShredRecord
from casestore.domain import errors
from casestore.domain.case import Case
from casestore.services.case_store import CaseStore
from casestore.services.retention_terms import Terms
from casestore.services.sealing import Sealer, case_context, context_of
from sharing.envelope import Escrow
from sharing.owned import field_of
from sharing.policy import AccessMatrix, CaseContext
from sharing.policy.decisions import Decision

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


BY_HAND = "grants reconcile"
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

    def history(self, case_id: UUID) -> list[GrantChange]:
        """Every grant of the case changed after the fact, oldest first."""
        return [project(GrantChange, row) for row in self._history.of_case(str(case_id))]

    def reconcile(self, case_id: UUID, reason: str = BY_HAND) -> GrantChanges:
        """Bring one case's grants and access in line with the current policy and keys:
        re-seal from escrow what is newly granted, delete what no longer is. A grant whose
        fields change is replaced by one for the fields now granted. Each change goes into
        the grant history with `reason`."""
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
        past_term = self._past_term(case_id, now)
        for event in self.store.history(case_id):
            version = event.originator_version
            network = case_context(case, event.control)
            events[version] = (event, network)
            recipients = self.sealer.matrix.recipients(
                event.event_type, network, now, author=event.author_org
            )
            for org in recipients.receivers:
                want_access[(org, version)] = event
            granted: dict[tuple[str, int, str], set[str]] = {}
            for name in event.content:
                for org in self.sealer.readers(name, recipients.fields):
                    if past_term(org, name, event, network):
                        continue
                    key = self.sealer.keyring.recipient(org, now)
                    if key is not None:
                        granted.setdefault((org, version, key.key_id), set()).add(name)
            want.update({k: frozenset(names) for k, names in granted.items()})
            case = event.mutate(case)

        new = [k for k, names in want.items() if have.get(k) != names]
        escrows = {}
        if new:
            escrows = {
                r.event_id: Escrow.from_json(json.loads(r.escrow))
                for r in tables.escrows_of_case(cid)
            }
        case_key = self.store.case_key(case_id) if new else b""
        added = []
        for org, version, key_id in new:
            event, network = events[version]
            recipient = self.sealer.keyring.recipient(org, now)
            assert recipient is not None and recipient.key_id == key_id  # noqa: S101 - as above
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
        )
        return GrantChanges(len(added), len(revoked), len(access_added), len(access_removed))

    def _past_term(
        self, case_id: UUID, now: datetime
    ) -> Callable[[str, str, Case.Event, CaseContext], bool]:
        """Whether an organisation's field of an event is past every retention term that
        grants it (never while the case is held, nor without retention terms)."""
        paused = None if self.terms is None else self.terms.paused(str(case_id))
        if self.terms is None or paused is None:
            return lambda org, name, event, network: False
        terms, held = self.terms, paused
        case_end = self.store.case(case_id).closed_at
        decisions: dict[tuple[str, int], Decision] = {}

        def past(org: str, name: str, event: Case.Event, network: CaseContext) -> bool:
            key = (org, event.originator_version)
            if key not in decisions:
                decisions[key] = self.sealer.matrix.decide(
                    org, event.event_type, network, now, author=event.author_org
                )
            access = decisions[key].fields.get(field_of(name)[0])
            if access is None:
                return False
            return terms.field_expired(access, event.occurred_at, case_end, held, now)

        return past

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

    def apply_policy(self, matrix: AccessMatrix, version: str) -> GrantChanges:
        """Put a new policy version in force and re-grant or revoke for every case."""
        self.sealer.use_policy(matrix, version)
        changes = self.reconcile_all(f"policy {version} applied")
        log.info("policy applied", policy_version=version, **vars(changes))
        return changes

    def reconcile_all(
        self, reason: str = BY_HAND, progress: Progress | None = None
    ) -> GrantChanges:
        """Reconcile every case that still has its key (shredded cases hold nothing);
        `progress(done, total)` hears of each case done."""
        total = GrantChanges(0, 0, 0, 0)
        case_ids = self._tables.case_ids()
        for done, cid in enumerate(case_ids, start=1):
            if self._tables.shred_record(cid) is None:
                total = total + self._reconcile_while_written(UUID(cid), reason)
            if progress is not None:
                progress(done, len(case_ids))
        return total

    def _reconcile_while_written(self, case_id: UUID, reason: str) -> GrantChanges:
        # An event appended between the reads of a reconciliation brings grants of its own,
        # which the reconciliation then means to add as well: the insert fails, nothing is
        # changed, and a fresh read settles it.
        for _ in range(RECONCILE_ATTEMPTS - 1):
            try:
                return self.reconcile(case_id, reason)
            except IntegrityError:
                continue
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
        history = [
            self._change(grant, REVOKED, now, why)
            for grant in self._tables.grants_of_case(str(case_id))
        ]
        self._tables.shred(
            record,
            history,
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
