"""Sealing case events for exactly the organisations the policy grants, and reading back.

At write time every content field's disclosure (its value with a salt, which the author's
signed document digests: `casestore.services.provenance`) becomes ciphertext under a fresh
data key (via `sharing.envelope`), granted to the organisations `AccessMatrix.recipients`
names for the case's network (one grant per organisation key and event, holding every
field granted to it; while a rotated key awaits its organisation's confirmation, both of
its generations are granted) and escrowed under the case key (one escrow per event). A field whose
entries are owned by organisations (the plan's actions) is sealed per owner, so a grant
limited to "own entries" reaches only that owner's part. The event keeps the ciphertexts;
the grants and per-organisation access rows go to the sharing tables, the escrow to the
event's id row, all in the event's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from casestore.adapters.epochs import Epochs, join_wrapped, split_wrapped
from casestore.adapters.keyring import Keyring
from casestore.adapters.persistence.sharing_tables import (
    AccessRow,
    CaseKeyRow,
    GrantRow,
    SideRows,
)
from casestore.domain.case import Case
from casestore.domain.events.conditions import (
    CONFLICT_VAN_PLICHTEN,
    TOESTEMMING,
    conditions_of,
)
from casestore.domain.events.intake import REGIE_ROLES
from casestore.services.lru import Lru
from sharing.canonical import b64decode, b64encode
from sharing.client import open_fields_with, values_of
from sharing.envelope import (
    Escrow,
    EventContext,
    Grant,
    SenderKey,
    new_case_key,
    regrant,
    seal_event,
    unwrap_case_key,
    wrap_case_key,
)
from sharing.errors import CaseKeyDestroyed, KeyNotFound
from sharing.keys import MasterKey, Recipient, format_time
from sharing.owned import field_of, reassemble
from sharing.policy import AccessMatrix, CaseContext, Decision, KaderInForce, Scope
from sharing.policy.context import Condition, ConflictVanPlichten, Toestemming

CASE_KEY_CACHE = 1024
BASIS_CACHE = 4096  # distinct (decision, fields granted): bounded by the policy, not the cases


class PolicySuperseded(Exception):
    """The store refused rows sealed under a policy version no longer in force."""


Scheduled = tuple[datetime, AccessMatrix, str]
"""A policy version approved to take effect at a later moment: from when, what, its label."""
PolicySource = Callable[[str], tuple[tuple[AccessMatrix, str] | None, Scheduled | None] | None]
"""Given the label a process holds: the policy in force if it is another (else None), and
the version scheduled after it; None for a store without a policy."""


@dataclass(frozen=True)
class Sealed:
    content: dict[str, Any]  # what the event stores: sealed field name -> SealedField JSON
    rows: SideRows
    escrow: str | None = None  # JSON, kept with the event's id row; None without content


class Sealer:
    """The policy, the keys and the envelope format, composed for the case record."""

    def __init__(
        self,
        *,
        region: str,
        custodian: str,
        matrix: AccessMatrix,
        policy_version: str,
        keyring: Keyring,
        master: MasterKey,
        epochs: Epochs | None = None,
    ) -> None:
        self.region = region
        self.custodian = custodian
        self.matrix = matrix
        self.policy_version = policy_version
        self.keyring = keyring
        self.epochs = epochs if epochs is not None else Epochs(master, None)
        self._case_keys: Lru[str, bytes] = Lru(CASE_KEY_CACHE)
        # One ephemeral sender key per recently written case: its X25519 exchange with each
        # recipient key is made once, not once per event (see SenderKey).
        self._senders: Lru[str, SenderKey] = Lru(CASE_KEY_CACHE)
        # A grant's basis, as JSON, per decision and fields granted: the matrix answers
        # with the same Decision objects for as long as it is in use, so the few distinct
        # bases are written out once each rather than once per grant.
        self._bases: Lru[tuple[int, tuple[str, ...]], tuple[Decision, str]] = Lru(BASIS_CACHE)

        self.source: PolicySource | None = None
        self.scheduled: Scheduled | None = None

    def use_policy(self, matrix: AccessMatrix, version: str) -> None:
        self.matrix = matrix
        self.policy_version = version

    def refresh(self) -> bool:
        """Take up the policy version in force in the store if it is not the one held, and
        the one scheduled after it; whether the version held changed."""
        found = None if self.source is None else self.source(self.policy_version)
        if found is None:
            return False
        in_force, self.scheduled = found
        if in_force is None:
            return False
        self.use_policy(*in_force)
        return True

    def at(self, now: datetime) -> None:
        """Take up a scheduled version once its moment has come, before sealing at `now`:
        the switch happens at that moment in this process without asking the store (one
        that did not know of it is told by the store's refusal, see CaseStore)."""
        scheduled = self.scheduled
        if scheduled is not None and scheduled[0] <= now:
            self.scheduled = None
            self.use_policy(scheduled[1], scheduled[2])

    # ---- case keys ------------------------------------------------------------------------

    def new_case_key(self, case_id: str, now: datetime) -> tuple[bytes, CaseKeyRow]:
        key = new_case_key()
        epoch, wrapping = self.epochs.current()
        wrapped = wrap_case_key(wrapping, self.region, case_id, key)
        self._remember(case_id, key)
        return key, CaseKeyRow(case_id, join_wrapped(epoch, b64encode(wrapped)), now)

    def cached_case_key(self, case_id: str) -> bytes | None:
        """A recently used case key, sparing a read and an unwrap per event."""
        return self._case_keys.get(case_id)

    def case_key(self, case_id: str, wrapped: str | None, known: bool) -> bytes:
        """The unwrapped case key; CaseKeyDestroyed once the case was shredded."""
        key = self._unwrap(case_id, wrapped, known)
        self._remember(case_id, key)
        return key

    def _unwrap(self, case_id: str, wrapped: str | None, known: bool) -> bytes:
        if not known or wrapped is None:
            raise CaseKeyDestroyed(f"case {case_id} has no case key")
        epoch, encoded = split_wrapped(wrapped)
        try:
            wrapping = self.epochs.key(epoch)
        except KeyNotFound:
            raise CaseKeyDestroyed(f"the key epoch of case {case_id} was destroyed") from None
        return unwrap_case_key(wrapping, self.region, case_id, b64decode(encoded))

    def rewrapped(self, case_id: str, wrapped: str) -> str | None:
        """The case key wrapped under the current epoch; None if it is already."""
        epoch, wrapping = self.epochs.current()
        if split_wrapped(wrapped)[0] == epoch:
            return None
        key = self._unwrap(case_id, wrapped, True)
        return join_wrapped(epoch, b64encode(wrap_case_key(wrapping, self.region, case_id, key)))

    def forget_case_key(self, case_id: str) -> None:
        self._case_keys.pop(case_id)
        self._senders.pop(case_id)

    def sender(self, case_id: str) -> SenderKey:
        sender = self._senders.get(case_id)
        if sender is None:
            sender = SenderKey.generate()
            self._senders.put(case_id, sender)
        return sender

    def _remember(self, case_id: str, key: bytes) -> None:
        self._case_keys.put(case_id, key)

    # ---- sealing ---------------------------------------------------------------------------

    def seal(
        self,
        *,
        case_id: str,
        version: int,
        event_id: str,
        event_type: str,
        author: str,
        network: Iterable[str] | CaseContext,
        plaintexts: Mapping[str, bytes],
        case_key: bytes,
        now: datetime,
    ) -> Sealed:
        """Seal `plaintexts` (sealed name -> disclosure) for whom the policy grants them."""
        self.at(now)
        members = network if isinstance(network, CaseContext) else frozenset(network)
        recipients = self.matrix.recipients(event_type, members, now, author=author)
        # During a rotation's overlap an organisation has two keys: both are granted.
        keys = {org: self.keyring.recipients(org, now) for org in recipients.receivers}
        recipients_by_field = {
            name: [
                key
                for org in sorted(self.readers(name, recipients.fields))
                for key in keys.get(org, ())
            ]
            for name in plaintexts
        }
        context = EventContext(self.region, case_id, event_id, event_type)
        sealed = seal_event(
            context, plaintexts, recipients_by_field, case_key, sender=self.sender(case_id)
        )
        rows = SideRows(
            grants=[
                self.grant_row(
                    case_id,
                    version,
                    event_id,
                    grant,
                    self.matrix.decide(grant.org_id, event_type, members, now, author=author),
                    now,
                )
                for grant in sealed.grants
            ],
            access=[
                AccessRow(org, case_id, version, event_id, self.policy_version, sealed_at=now)
                for org in sorted(recipients.receivers)
            ],
        )
        stored = {name: field.to_json() for name, field in sealed.fields.items()}
        escrow = None if sealed.escrow is None else json.dumps(sealed.escrow.to_json())
        return Sealed(stored, rows, escrow)

    def readers(self, sealed_name: str, fields: Mapping[str, Mapping[str, Scope]]) -> set[str]:
        """Who may open one sealed field (or one owner's part of an owned field)."""
        name, owner = field_of(sealed_name)
        granted = fields.get(name, {})
        if not owner:
            return set(granted)
        return {org for org, scope in granted.items() if scope is Scope.all or org == owner}

    def grant_row(
        self,
        case_id: str,
        version: int,
        event_id: str,
        grant: Grant,
        decision: Decision,
        now: datetime,
    ) -> GrantRow:
        """The stored grant with, per field, the rules and grounds that granted it (or
        authorship), sealed under the version held at `now`."""
        return GrantRow(
            case_id,
            version,
            event_id,
            grant.org_id,
            grant.key_id,
            json.dumps(grant.to_json()),
            self.policy_version,
            self._basis(decision, tuple(grant.fields)),
            now,
        )

    def _basis(self, decision: Decision, fields: tuple[str, ...]) -> str:
        key = (id(decision), fields)
        cached = self._bases.get(key)
        # Keyed by identity, checked by identity: an id is only unique while its object
        # lives, and the cache holds the decision it was made for.
        if cached is not None and cached[0] is decision:
            return cached[1]
        basis = {}
        for name in fields:
            access = decision.fields.get(field_of(name)[0])
            grants = access.grants if access else ()
            rules = [g.rule for g in grants]
            if access is not None and access.as_author:
                rules.append("author")
            basis[name] = {
                "rules": rules,
                "grounds": list(access.grounds) if access else [],
                "providing": sorted({g for grant in grants for g in grant.providing}),
                "receiving": sorted({g for grant in grants for g in grant.receiving}),
                "conditions": [
                    {
                        "kind": str(c.kind),
                        "record": c.record,
                        "until": None if c.until is None else format_time(c.until),
                    }
                    for c in (access.conditions if access else ())
                ],
            }
        written = json.dumps(basis)
        self._bases.put(key, (decision, written))
        return written

    def regrant(
        self,
        *,
        context: EventContext,
        fields: Sequence[str],
        escrow: Escrow,
        case_key: bytes,
        recipient: Recipient,
    ) -> Grant:
        return regrant(
            escrow, context, case_key, recipient, fields, sender=self.sender(context.case_id)
        )

    # ---- opening (hosted organisations only) --------------------------------------------------

    def open(
        self,
        org_id: str,
        context: EventContext,
        sealed: Mapping[str, Mapping[str, Any]],
        grants: Sequence[Mapping[str, Any]],
        *,
        disclosed: bool = True,
    ) -> dict[str, Any]:
        """Decrypt what a hosted organisation was granted, owned fields reassembled
        (`disclosed=False` for an event recorded before signed disclosures)."""
        opened = open_fields_with(context, sealed, grants, self.keyring.openers(org_id))
        return reassemble(values_of(opened, disclosed=disclosed))


def case_context(
    case: Case | None,
    control: Mapping[str, Any],
    *,
    event_id: str | None = None,
    conditions: Mapping[str, Mapping[str, Any]] | None = None,
) -> CaseContext:
    """The case as the policy sees an event on it: the network before the event plus whoever
    the event admits, the regie in force or named by the event (the policy's case roles of
    the same names), the kaders recorded in the case, and the case's condition records. The
    opening event (no case yet) carries its network.

    Membership and roles are those of the event's own time. The conditions are the case's
    records as they stand (`conditions`, by default those of `case`), each with the moments
    it began and ended: a consent covers sharing while it is in force, whenever the event
    was written, so the engine weighs them at the moment it grants. A record limited to
    named events covers only those (`event_id`)."""
    if case is None:
        return CaseContext.of(
            control["netwerk"], conditions=condition_records(conditions or {}, event_id)
        )
    named = {role: str(control[role]) for role in REGIE_ROLES if control.get(role)}
    if control.get("rol") in REGIE_ROLES and control.get("naar"):  # a regiewijziging
        named[str(control["rol"])] = str(control["naar"])
    records = conditions_of(case) if conditions is None else conditions
    roles: dict[str, set[str]] = {}
    for holder, role in partner_roles(case, control).items():
        roles.setdefault(role, set()).add(holder)
    for role, holder in {**case.regie, **named}.items():
        roles[role] = {holder}
    return CaseContext.of(
        case.audience(dict(control)),
        roles,
        (*condition_records(records, event_id), *kader_conditions(case)),
    )


def partner_roles(case: Case, control: Mapping[str, Any]) -> dict[str, str]:
    """Each partner's rol_in_casus as the policy's case role (`toezichthouder_reclassering`
    is `toezichthouder-reclassering`), the partner an event admits included. A regie role
    comes from the inclusion or a regiewijziging only, never from a netwerkwijziging; a
    role the policy does not know grants nothing, as the engine resolves only its own."""
    held = dict(case.case_roles)
    if control.get("wijziging") == "toegetreden" and control.get("rol_in_casus"):
        held[str(control["organisatie"])] = str(control["rol_in_casus"])
    return {org: role.replace("_", "-") for org, role in held.items() if role not in REGIE_ROLES}


def condition_records(
    records: Mapping[str, Mapping[str, Any]], event_id: str | None = None
) -> tuple[Condition, ...]:
    """The case's toestemming and conflict van plichten records as the engine weighs them.
    Each ends at the first of its expiry and its withdrawal."""
    found: list[Condition] = []
    for record_id, record in sorted(records.items()):
        events = record.get("events")
        if events and event_id not in events:
            continue
        ends = [
            datetime.fromisoformat(record[k])
            for k in ("expires_at", "withdrawn_at")
            if record.get(k)
        ]
        until = min(ends, default=None)
        scope: dict[str, Any] = {
            "id": record_id,
            "valid_from": datetime.fromisoformat(record["recorded_at"]),
            "valid_until": until,
            "recipients": frozenset(record["recipients"]),
            # A record covers itself: who may receive under it may know that it exists.
            "event_types": _maybe(_with(record.get("event_types"), record["kind"])),
            "rules": _maybe(record.get("rules")),
        }
        if record["kind"] == TOESTEMMING:
            found.append(Toestemming(authors=frozenset({record["author"]}), **scope))
        elif record["kind"] == CONFLICT_VAN_PLICHTEN:
            found.append(ConflictVanPlichten(author=record["author"], **scope))
    return tuple(found)


def _with(values: Iterable[str] | None, kind: str) -> list[str] | None:
    return None if values is None else [*values, kind]


def _maybe(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def kader_conditions(case: Case) -> list[KaderInForce]:
    """Each kader's period as the policy's condition: in force from the start of its first
    day up to the end of its last (UTC days), under the id of the event that set it. A
    kader's id in the policy is its name with hyphens."""
    return [
        KaderInForce(
            id=str(period["id"]),
            kader=kader.replace("_", "-"),
            valid_from=_day_start(str(period["van"])),
            valid_until=None if period["tot"] is None else _day_start(str(period["tot"]), 1),
        )
        for kader, period in sorted(case.kaders.items())
    ]


def _day_start(day: str, later: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day) + timedelta(days=later), time(), UTC)


def context_of(region: str, event: Case.Event) -> EventContext:
    """What a stored event's ciphertexts are bound to."""
    return EventContext(region, str(event.originator_id), event.event_id, event.event_type)
