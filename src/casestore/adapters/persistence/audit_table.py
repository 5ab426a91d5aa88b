"""The audit trail as stored: an append-only, hash-chained table and its signed checkpoints.

Each row holds one entry as its RFC 8785 canonical JSON text and the SHA-256 chain hash
over that entry and the hash of the row before it (`chain_hash`). The rows are numbered
1, 2, 3, … without gaps, so a removed, inserted or reordered row breaks either the
numbering or the chain, and a changed row breaks its own hash. The head row
(`casestore_audit_head`) is where appenders queue: every append takes it first, inside the
transaction of the action it records, so the chain has one order however many processes
write. Verification never trusts the head; it recomputes the chain from the rows alone and
checks it against the checkpoints, which the custodian signs (casestore.services.audit).

Columns beside the entry (time, action, case, organisation, event, trace) are copies of
what the entry says, for the privacy officer's queries; the entry is what is hashed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from casestore.adapters.persistence.backend import Backend, Cursor
from casestore.adapters.persistence.rows import columns, from_row, values

GENESIS = "0" * 64
TRAIL_ACTIONS = "audit."  # entries about the trail itself (its reads and exports)
"""The `previous` hash of the first entry."""


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def entry_json(entry: dict[str, Any]) -> bytes:
    """The RFC 8785 canonical JSON of an entry. Entries hold only ASCII keys, strings,
    small integers, None and lists of these, for which sorted compact JSON without ASCII
    escaping *is* the canonical form (tests/unit/test_audit_chain.py holds it equal to
    sharing.canonical.canonical_json), at a fraction of the general function's cost."""
    return _ENCODER.encode(entry).encode("utf-8")


def chain_hash(entry: bytes, previous: str) -> str:
    """SHA-256 over the canonical JSON of {"entry": …, "previous": …}: `entry` is already
    canonical, and "entry" sorts before "previous", so the document is spliced, not
    re-encoded (which keeps `casestore audit verify` fast)."""
    document = b'{"entry":' + entry + b',"previous":"' + previous.encode("ascii") + b'"}'
    return hashlib.sha256(document).hexdigest()


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str  # the entry's start, as stamped text (lexical order is time order)
    action: str
    case_id: str | None
    org_id: str | None
    event_id: str | None  # set when the entry is about exactly one event
    trace_id: str
    entry: str  # canonical JSON
    previous: str
    hash: str


@dataclass(frozen=True)
class CheckpointRow:
    seq: int
    hash: str
    at: str
    signature: str  # JSON: the signed checkpoint document's signature


@dataclass(frozen=True)
class AuditFilter:
    case_id: str | None = None
    org_id: str | None = None
    since: str | None = None  # stamped, inclusive
    until: str | None = None  # stamped, exclusive


def prepare(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the columns of its row, before it has a place in the chain: its
    canonical text, and copies for queries. Entries about the trail itself (its reads)
    are filed under no case or organisation, or a filtered page would never end."""
    about_trail = str(entry["action"]).startswith(TRAIL_ACTIONS)
    events = entry.get("events") or []
    return {
        "at": str(entry["start"]),
        "action": str(entry["action"]),
        "case_id": None if about_trail else entry.get("case"),
        "org_id": None if about_trail else entry.get("receiver") or entry.get("organisation"),
        "event_id": str(events[0]) if len(events) == 1 else None,
        "trace_id": str(entry["trace_id"]),
        "entry": entry_json(entry).decode("utf-8"),
    }


class AuditTable:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._name = backend.table("audit")
        self._head = backend.table("audit_head")
        self._checkpoints = backend.table("audit_checkpoints")

    def append(self, cursor: Cursor | None, entries: Sequence[dict[str, Any]]) -> None:
        """Chain `entries` onto the trail inside `cursor`'s transaction (the action's own;
        None: in one of their own). Where the database can, it chains them itself in one
        round trip (`Backend.chain_audit`); else the head is taken here first, so
        appenders queue there until this one commits."""
        if not entries:
            return
        prepared = [prepare(entry) for entry in entries]
        if self.backend.chain_audit(cursor, prepared):
            return
        if cursor is None:
            with self.backend.transaction(commit=True) as own:
                self._chain(own, prepared)
        else:
            self._chain(cursor, prepared)

    def _chain(self, cursor: Cursor, prepared: list[dict[str, Any]]) -> None:
        sql = self.backend.sql
        # A write first: on SQLite it takes the write lock before anything is read (a read
        # lock upgraded later could fail), on PostgreSQL it locks the head row.
        cursor.execute(sql(f"UPDATE {self._head} SET seq = seq WHERE id = 1"))
        cursor.execute(sql(f"SELECT seq, hash FROM {self._head} WHERE id = 1"))
        head = cursor.fetchone()
        seq, previous = int(head["seq"]), str(head["hash"])
        rows = []
        for p in prepared:
            seq += 1
            digest = chain_hash(p["entry"].encode("utf-8"), previous)
            rows.append(AuditRow(seq=seq, previous=previous, hash=digest, **p))
            previous = digest
        self.backend.insert(cursor, "audit", columns(AuditRow), [values(r) for r in rows])
        cursor.execute(
            sql(f"UPDATE {self._head} SET seq = %s, hash = %s WHERE id = 1"), (seq, previous)
        )

    def record(self, entries: Sequence[dict[str, Any]]) -> None:
        """Chain `entries` in a transaction of their own (what a read leaves)."""
        self.append(None, entries)

    # ---- reading --------------------------------------------------------------------------

    def page(self, where: AuditFilter, after: int, limit: int) -> list[AuditRow]:
        clauses: list[str] = ["seq > %s"]
        params: list[object] = [after]
        for column, value in (("case_id", where.case_id), ("org_id", where.org_id)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        if where.since is not None:
            clauses.append("at >= %s")
            params.append(where.since)
        if where.until is not None:
            clauses.append("at < %s")
            params.append(where.until)
        rows = self.backend.all(
            f"SELECT * FROM {self._name} WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT %s",
            (*params, limit),
        )
        return [from_row(AuditRow, r) for r in rows]

    def chain(self, page: int = 10_000) -> Iterator[tuple[int, str, str, str]]:
        """(seq, entry, previous, hash) of every row in order, read a page at a time."""
        after = -1
        statement = (
            f"SELECT seq, entry, previous, hash FROM {self._name} WHERE seq > %s "
            "ORDER BY seq LIMIT %s"
        )
        while True:
            rows = self.backend.all(statement, (after, page))
            for r in rows:
                yield int(r["seq"]), r["entry"], r["previous"], r["hash"]
            if len(rows) < page:
                return
            after = int(rows[-1]["seq"])

    def of_event(self, event_id: str, action: str) -> AuditRow | None:
        row = self.backend.one(
            f"SELECT * FROM {self._name} WHERE event_id = %s AND action = %s ORDER BY seq LIMIT 1",
            (event_id, action),
        )
        return None if row is None else from_row(AuditRow, row)

    def last(self) -> tuple[int, str] | None:
        """The last row's number and hash (from the rows, not the head)."""
        row = self.backend.one(f"SELECT seq, hash FROM {self._name} ORDER BY seq DESC LIMIT 1")
        return None if row is None else (int(row["seq"]), str(row["hash"]))

    # ---- checkpoints ----------------------------------------------------------------------

    def add_checkpoint(self, checkpoint: CheckpointRow) -> None:
        with self.backend.transaction(commit=True) as cursor:
            self.backend.insert(
                cursor, "audit_checkpoints", columns(CheckpointRow), [values(checkpoint)]
            )

    def checkpoints(self) -> list[CheckpointRow]:
        rows = self.backend.all(f"SELECT * FROM {self._checkpoints} ORDER BY seq")
        return [from_row(CheckpointRow, r) for r in rows]

    def last_checkpoint(self) -> CheckpointRow | None:
        row = self.backend.one(f"SELECT * FROM {self._checkpoints} ORDER BY seq DESC LIMIT 1")
        return None if row is None else from_row(CheckpointRow, row)
