"""The audit trail (NEN 7513): who processed which case data, when, and on which ground.

Every processing of case data leaves an entry: an event recorded, a grant given or taken,
a case or feed page served, a live or webhook delivery, a search, a policy explanation, a
shredding. An entry names the client, organisation and role, the professional on whose
behalf the partner system acted where it says so (`X-On-Behalf-Of`), the case and the
person's pseudonymous id, the events and field names, the action, and the rules, policy
version and grounds it rested on — never a content value and never a token. Its shape
follows the Logboek Dataverwerkingen: a trace id (taken from a partner's W3C
`traceparent`, and passed on in webhook deliveries), an operation id and its parent, a
status, start and end, and the processing activity as `rule@policy-version`.

Writes chain their entries in the transaction of the action itself; reads chain theirs
before the response leaves, committed together with those of the reads running at the
same moment (casestore.adapters.persistence.audit_group). The custodian signs a checkpoint
of the chain's head at least every minute of activity (housekeeping), and `verify`
recomputes the chain from the rows alone: a changed, removed, inserted or reordered entry,
or a tail cut off after a checkpoint, is named.

Who is acting is carried in a context variable set where the request is authenticated
(entrypoints/api/deps.py), so the services record without threading it through every
call; outside a request the actor is the service itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from casestore.adapters.persistence.audit_group import DONE, GroupCommit, Pending
from casestore.adapters.persistence.audit_table import (
    GENESIS,
    AuditFilter,
    AuditRow,
    AuditTable,
    CheckpointRow,
)
from casestore.adapters.persistence.backend import Cursor
from casestore.adapters.persistence.rows import stamp, unstamp
from sharing.errors import SignatureInvalid
from sharing.keys import OrgPublicKeys, SigningKey
from sharing.signing import Signature, sign, verify

log = structlog.get_logger("casestore.services.audit")

SCHEMA = "casestore-audit/1"
CHECKPOINT = "audit-checkpoint"  # the signature's purpose
ON_BEHALF_OF = "X-On-Behalf-Of"
ON_BEHALF_OF_MAX = 200

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


# ---- actions: one name per kind of processing ------------------------------------------------

EVENT_RECORDED = "event.recorded"
GRANT_CREATED = "grant.created"
GRANT_REVOKED = "grant.revoked"
CASE_READ = "case.read"
CASE_DECRYPTED = "case.decrypted"
TIMELINE_READ = "case.timeline"
FEED_READ = "feed.read"
STREAM_DELIVERED = "stream.delivered"
WEBHOOK_DELIVERED = "webhook.delivered"
SEARCH_CASE = "search.case"
SEARCH_BSN = "search.bsn"
SEARCH_NAME = "search.name"  # by name and birth date, through their pseudonym
POLICY_EXPLAINED = "policy.explained"
POLICY_VIEWED_AS = "policy.viewed-as"
POLICY_CHANGED = "policy.changed"
CASE_SHREDDED = "case.shredded"
RESTRICTION_RECORDED = "restriction.recorded"  # UAVG art. 41, on the person's report
RESTRICTION_LIFTED = "restriction.lifted"
AUDIT_READ = "audit.read"
AUDIT_EXPORTED = "audit.exported"
WORKLIST_READ = "worklist.read"
MEETING_PACK_EXPORTED = "meeting.pack-exported"
AUDIT_PROTOCOL = "audit.protocol"  # a partner's verstrekkingsprotocol drawn up
AUDIT_BLAST_RADIUS = "audit.blast-radius"  # what a breach exposed, worked out
AUDIT_ACCESS_REVIEW = "audit.access-review"  # clients and their use reviewed
TRAIL_PREFIX = "audit."  # the actions about the trail itself


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_operation_id() -> str:
    return secrets.token_hex(8)


def parse_traceparent(header: str | None) -> tuple[str, str] | None:
    """(trace id, parent id) of a valid W3C `traceparent` (version 00), else None; all-zero
    ids are invalid there and ignored here."""
    if header is None:
        return None
    match = _TRACEPARENT.match(header.strip().lower())
    if match is None or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
        return None
    return match[1], match[2]


def traceparent(trace_id: str, operation_id: str) -> str:
    return f"00-{trace_id}-{operation_id}-01"


@dataclass(frozen=True)
class Actor:
    """Who is processing: a client of an organisation in a role (or the service itself),
    in which trace."""

    client: str | None
    organisation: str | None
    role: str
    on_behalf_of: str | None = None
    trace_id: str = field(default_factory=new_trace_id)
    parent_operation_id: str | None = None
    operation_id: str = field(default_factory=new_operation_id)  # the request's


def system_actor(role: str = "system") -> Actor:
    return Actor(client=None, organisation=None, role=role)


_actor: ContextVar[Actor | None] = ContextVar("casestore.audit.actor", default=None)


def current_actor() -> Actor:
    return _actor.get() or system_actor()


def set_actor(actor: Actor) -> None:
    """Make `actor` the one acting for the rest of this context (one request)."""
    _actor.set(actor)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


@dataclass(frozen=True)
class Basis:
    """What a processing rests on: rules, grounds and conditions, under a policy version."""

    rules: tuple[str, ...] = ()
    grounds: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()

    @classmethod
    def of_grant_basis(cls, basis_json: str | None) -> Basis:
        """From a grant row's basis (sealed field -> {"rules": …, "grounds": …})."""
        if not basis_json:
            return cls()
        parsed = json.loads(basis_json)
        return cls(
            rules=tuple(sorted({r for b in parsed.values() for r in b.get("rules", ())})),
            grounds=tuple(sorted({g for b in parsed.values() for g in b.get("grounds", ())})),
            conditions=tuple(
                sorted({_condition(c) for b in parsed.values() for c in b.get("conditions", ())})
            ),
        )

    def __or__(self, other: Basis) -> Basis:
        return Basis(
            tuple(sorted({*self.rules, *other.rules})),
            tuple(sorted({*self.grounds, *other.grounds})),
            tuple(sorted({*self.conditions, *other.conditions})),
        )


def _condition(stored: str | dict[str, Any]) -> str:
    """A condition a grant rested on as the trail names it: `kind:record` (the grant
    history's form), its expiry left to the record itself."""
    if isinstance(stored, str):
        return stored
    return f"{stored['kind']}:{stored['record']}"


# ---- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    entries: int
    checkpoints: int
    problem: str | None = None  # the first one found, naming the entry
    seq: int | None = None  # the entry it concerns

    @property
    def ok(self) -> bool:
        return self.problem is None


def checkpoint_document(region: str, seq: int, digest: str, at: str) -> dict[str, Any]:
    return {
        "type": "casestore-audit-checkpoint",
        "region": region,
        "seq": seq,
        "hash": digest,
        "at": at,
    }


class AuditTrail:
    def __init__(
        self,
        table: AuditTable,
        clock: Callable[[], datetime],
        *,
        region: str,
        custodian: str,
        policy_version: Callable[[], str],
        signing_key: Callable[[], SigningKey],
        public_keys: Callable[[], Iterable[OrgPublicKeys]],
        enabled: bool = True,
    ) -> None:
        self.table = table
        self.clock = clock
        self.region = region
        self.custodian = custodian
        self._policy_version = policy_version
        self._signing_key = signing_key
        self._public_keys = public_keys
        self.enabled = enabled
        self._group = GroupCommit(table.record)

    def close(self) -> None:
        self._group.close()

    # ---- entries ----------------------------------------------------------------------------

    def entry(
        self,
        action: str,
        *,
        case: str | None = None,
        person: str | None = None,
        events: Sequence[str] = (),
        fields: Iterable[str] = (),
        receiver: str | None = None,
        basis: Basis = Basis(),
        reason: str | None = None,
        status: str = "ok",
        start: datetime | None = None,
        actor: Actor | None = None,
        operation_id: str | None = None,
        parent_operation_id: str | None = None,
        trace_id: str | None = None,
    ) -> dict[str, Any]:
        """One entry: ids, names and grounds only. Nothing here may carry a value a person
        wrote, nor a credential."""
        who = actor or current_actor()
        end = self.clock()
        version = self._policy_version()
        return {
            "schema": SCHEMA,
            "trace_id": trace_id or who.trace_id,
            "operation_id": operation_id or new_operation_id(),
            "parent_operation_id": parent_operation_id or who.parent_operation_id,
            "status": status,
            "start": stamp(start or end),
            "end": stamp(end),
            "activities": [f"{rule}@{version}" for rule in basis.rules],
            "action": action,
            "client": who.client,
            "organisation": who.organisation,
            "role": who.role,
            "on_behalf_of": who.on_behalf_of,
            "receiver": receiver,
            "person": person,
            "case": case,
            "events": list(events),
            "fields": sorted(set(fields)),
            "rules": list(basis.rules),
            "grounds": list(basis.grounds),
            "conditions": list(basis.conditions),
            "policy_version": version,
            "reason": reason,
        }

    def record(self, entries: Sequence[dict[str, Any]]) -> None:
        """Chain entries of a read (or of anything that writes nothing else) now: durable
        when this returns."""
        self.begin(entries).wait()

    def begin(self, entries: Sequence[dict[str, Any]]) -> Pending:
        """Start chaining a read's entries; the read finishes its answer meanwhile and
        waits for them before it lets the answer go. Never inside a write transaction:
        the entries are committed by another connection."""
        if not self.enabled or not entries:
            return DONE
        if not self.table.backend.commits_off_thread:
            self.table.record(entries)
            return DONE
        return self._group.submit(entries)

    def append(self, cursor: Cursor, entries: Sequence[dict[str, Any]]) -> None:
        """Chain entries inside the transaction of the action they record."""
        if self.enabled and entries:
            self.table.append(cursor, entries)

    def within(self, entries: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
        """What to hand to a write that chains in its own transaction ([] when off)."""
        return entries if self.enabled else []

    # ---- reading ----------------------------------------------------------------------------

    def page(
        self,
        *,
        case: str | None = None,
        organisation: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[AuditRow]:
        where = AuditFilter(
            case_id=case,
            org_id=organisation,
            since=None if since is None else stamp(since),
            until=None if until is None else stamp(until),
        )
        return self.table.page(where, after, limit)

    def export(self) -> Iterator[dict[str, Any]]:
        """Every entry in order, with its place in the chain: JSON lines material."""
        for seq, entry, previous, digest in self.table.chain():
            yield {"seq": seq, "entry": json.loads(entry), "previous": previous, "hash": digest}

    def traceparent_of_event(self, event_id: str) -> tuple[str, str] | None:
        """(trace id, operation id) of the recording of an event, for the deliveries that
        follow from it."""
        row = self.table.of_event(event_id, EVENT_RECORDED)
        if row is None:
            return None
        entry = json.loads(row.entry)
        return str(entry["trace_id"]), str(entry["operation_id"])

    # ---- checkpoints and verification -------------------------------------------------------

    def checkpoint(self) -> CheckpointRow | None:
        """Sign the chain's head as the custodian, unless nothing was chained since the last
        checkpoint (None then)."""
        last = self.table.last()
        if last is None:
            return None
        previous = self.table.last_checkpoint()
        if previous is not None and previous.seq >= last[0]:
            return None
        seq, digest = last
        at = stamp(self.clock())
        document = checkpoint_document(self.region, seq, digest, at)
        signature = sign(document, self._signing_key(), purpose=CHECKPOINT)
        row = CheckpointRow(seq, digest, at, json.dumps(signature.to_json()))
        self.table.add_checkpoint(row)
        # A witness outside the database: shipped logs keep the head even if the
        # checkpoints table is emptied along with the tail.
        log.info("audit checkpoint", seq=seq, hash=digest, at=at)
        return row

    def verify(self) -> Verification:
        """Recompute the chain from the rows and hold it against every checkpoint."""
        checkpoints = self.table.checkpoints()
        at_seq = {c.seq: c for c in checkpoints}
        keys = list(self._public_keys())
        for c in checkpoints:
            try:
                verify(
                    checkpoint_document(self.region, c.seq, c.hash, c.at),
                    Signature.from_json(json.loads(c.signature)),
                    keys,
                    purpose=CHECKPOINT,
                    at=unstamp(c.at),
                )
            except (SignatureInvalid, ValueError):
                return Verification(
                    0,
                    len(checkpoints),
                    f"checkpoint at entry {c.seq} is not signed by the custodian",
                    c.seq,
                )
        expected, previous, count = 1, GENESIS, 0
        sha256 = hashlib.sha256
        for seq, entry, stored_previous, digest in self.table.chain():
            # chain_hash, spelled out: this loop is what `audit verify` spends its time on.
            document = b'{"entry":' + entry.encode() + b',"previous":"'
            recomputed = sha256(document + stored_previous.encode() + b'"}').hexdigest()
            if seq != expected:
                return Verification(
                    count,
                    len(checkpoints),
                    f"entry {expected} is missing (removed): the next entry is {seq}",
                    expected,
                )
            if recomputed != digest:
                return Verification(count, len(checkpoints), f"entry {seq} was changed", seq)
            if stored_previous != previous:
                return Verification(
                    count,
                    len(checkpoints),
                    f"entry {seq} does not follow entry {seq - 1} (inserted, reordered or "
                    "replaced)",
                    seq,
                )
            if seq in at_seq and at_seq[seq].hash != digest:
                return Verification(
                    count,
                    len(checkpoints),
                    f"entry {seq} differs from the signed checkpoint at it (the trail was "
                    "rewritten)",
                    seq,
                )
            previous, expected, count = digest, expected + 1, count + 1
        if checkpoints and checkpoints[-1].seq > count:
            return Verification(
                count,
                len(checkpoints),
                f"entries {count + 1} to {checkpoints[-1].seq} are missing: the trail ends "
                f"before its last signed checkpoint (truncated)",
                count + 1,
            )
        return Verification(count, len(checkpoints))
