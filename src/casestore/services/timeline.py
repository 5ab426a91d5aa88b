"""The reconstructed case timeline: one case as one organisation sees it, at a moment.

Reading a case this way costs a handful of queries by case (the viewed organisation's
access rows, the case's events in one, the reader's grants and the viewed organisation's),
however large the store is, and opening one event costs no key exchange once its case's
sender key was met: the reader's private key is unwrapped once per process and kept with
its exchanges (`casestore.adapters.keyring.Keyring.openers`). The fold itself is the domain's
(`casestore.domain.timeline`), which sees only values the rules let through.

A view of another organisation (`view=`) shows what that organisation receives, and only
as far as the reader itself may read it: a value reaches the timeline when the viewed
organisation is granted it and the reader can open it; a field the viewed organisation is
granted but the reader cannot open shows as sealed; a field the viewed organisation is
not granted shows as withheld, with the rule it receives the event under. While a beperking
or an upheld bezwaar keeps a case's content from an organisation, its grants count for
nothing: each field shows as withheld with that reason (`beperkt`, `bezwaar_toegewezen`).
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from casestore.adapters.persistence.timeline_reads import TimelineReads
from casestore.domain import errors
from casestore.domain.case import Case, visible_control
from casestore.domain.catalogue import content_fields
from casestore.domain.events import EVENT_TYPES
from casestore.domain.processing_restrictions import Restraints, restraints_in
from casestore.domain.timeline import NO_RULE, Fact, Owned, Projection, Sealed, Withheld, result
from casestore.services.audit import TIMELINE_READ
from casestore.services.case_store import CaseStore
from casestore.services.clients import ClientRole
from casestore.services.lru import Lru
from casestore.services.sealing import Sealer, context_of
from sharing.client import open_fields_with, values_of
from sharing.envelope import Opener
from sharing.errors import PolicyError, UnknownOrganisation
from sharing.owned import field_of
from sharing.policy import CaseContext

AUTHOR = "author"
STREAMS = 64  # cases whose events a process keeps between reads
OPENED = 50_000  # events whose opened values it keeps
FOLDED_EVENTS = 200_000  # events in the timelines it keeps folded, all together


OpenedKey = tuple[tuple[str, ...], str, tuple[str, ...]]  # key ids, event id, grants


@dataclass(frozen=True, eq=True)
class _Access:
    """One organisation's grants of one event: sealed names granted and the rules."""

    names: frozenset[str]
    rules: tuple[str, ...]
    grants: tuple[str, ...]  # the grants' JSON, as stored: another grant, another text
    nearest: tuple[tuple[str, str], ...] | None = None  # (field, the rule nearest to granting it)


_FactKey = tuple[str, str, str, _Access | None, _Access | None]
_FoldKey = tuple[UUID, str, str, bool]  # case, reader, viewed organisation, known


class _Folded:
    """One timeline folded as far as the case's `version`, at a moment: the events that
    occurred (or, `known`, were recorded) by then, of those the viewed organisation
    receives. It serves a later read, adding only the events recorded since, while
    nothing it was folded from changed (`token`: the case's grant changes, its key, the
    policy and the reader's keys; and the viewed organisation's access to the events it
    holds) and the later read's moment leaves out and takes in the same of them (`hi`,
    the latest moment taken in, up to `lo`, the earliest left out)."""

    def __init__(self, token: tuple[Any, ...], projection: Projection, known: bool) -> None:
        self.token = token
        self.projection = projection
        self.known = known
        self.version = 0
        self.positions: dict[int, int] = {}
        self.reader_grants: dict[str, _Access] = {}
        self.org_grants: dict[str, _Access] = {}
        self.hi: datetime | None = None
        self.lo: datetime | None = None
        self.served: list[str] = []
        self.opened: set[str] = set()
        self.nearest: dict[tuple[str, str, str], _Access] = {}
        self.lock = threading.Lock()

    def serves(
        self, token: tuple[Any, ...], positions: Mapping[int, int], moment: datetime
    ) -> bool:
        if token != self.token:
            return False
        if (self.hi is not None and moment < self.hi) or (
            self.lo is not None and moment >= self.lo
        ):
            return False
        held = self.positions
        version = self.version
        return sum(1 for v in positions if v <= version) == len(held) and all(
            positions.get(v) == p for v, p in held.items()
        )


class _Folds:
    """The folded timelines a process keeps, the least recently read dropped first once
    they hold more than `capacity` events together: memory stays bounded however many
    cases, readers and views are asked for."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[_FoldKey, tuple[_Folded, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: _FoldKey) -> _Folded | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: _FoldKey, folded: _Folded) -> None:
        """Keep `folded` (again: it may have grown) as the most recently read."""
        size = max(len(folded.positions), 1)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (folded, size)
            self._size += size
            while self._size > self._capacity and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped


class Timelines:
    """Reads timelines and records each read in the audit trail."""

    def __init__(self, store: CaseStore, sealer: Sealer) -> None:
        self.store = store
        self.sealer = sealer
        self._tables = store.records.tables
        self._reads = TimelineReads(self._tables.backend)
        # A case's events as read last: a later read fetches only the events after them.
        self._streams: Lru[UUID, tuple[Case.Event, ...]] = Lru(STREAMS)
        # Values opened, per reader, event and the reader's grants that opened them: a
        # value is taken from here only while the very grant that opened it is still
        # stored (a revoked or re-issued grant misses), so nothing outlives its grant.
        self._opened: Lru[tuple[tuple[str, ...], str, tuple[str, ...]], dict[str, Any]] = Lru(
            OPENED
        )
        # Each event as shown (and the field names opened for it), per reader, viewed
        # organisation and both their grants (the same grants, the same fact): a fold from
        # scratch takes these without opening anything.
        self._facts: Lru[_FactKey, tuple[Fact, frozenset[str]]] = Lru(OPENED)
        # Each timeline as folded last, per case, reader, viewed organisation and kind of
        # moment: a read of an unchanged case only renders it, one after an append folds
        # only the events since (see `_Folded`).
        self._folds = _Folds(FOLDED_EVENTS)

    def _stream(self, case_id: UUID) -> tuple[tuple[Case.Event, ...], bool]:
        """The case's events in order: those read before, and the ones recorded since in
        one query; and whether the case key is still there. A destroyed case's events are
        rewritten, so a case whose key is gone is read afresh."""
        cached = self._streams.get(case_id)
        wrapped, _ = self._tables.wrapped_case_key(str(case_id))
        alive = wrapped is not None
        if cached is not None and not alive:
            cached = None
        if cached is None:
            events = tuple(self.store.history(case_id))
        else:
            newer = self.store.events.get(case_id, gt=cached[-1].originator_version)
            events = cached + tuple(e for e in newer if isinstance(e, Case.Event))
        self._streams.put(case_id, events)
        return events, alive

    def check_view(self, reader: str, role: ClientRole, view: str) -> None:
        """Who may see a case as another organisation sees it: the custodian's
        coordinators and privacy officers, and a privacy officer as its own organisation;
        never a partner system (it sees what it receives, and nothing else)."""
        custodian = self.sealer.custodian
        if role is ClientRole.partner_system:
            raise errors.ViewNotAllowed("a partner system sees only what its organisation receives")
        if view not in self.sealer.matrix.organisations:
            raise errors.ViewNotAllowed(f"no organisation {view!r} in the policy")
        if role is ClientRole.coordinator and reader == custodian:
            return
        if role is ClientRole.privacy_officer and reader in (custodian, view):
            return
        raise errors.ViewNotAllowed(
            "only the custodian's coordinators and privacy officers, and a privacy officer "
            "for its own organisation, see a case as another organisation sees it"
        )

    def timeline(
        self,
        reader: str,
        case_id: UUID,
        *,
        as_of: datetime | None = None,
        known: bool = False,
        view: str | None = None,
        event_types: Iterable[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """The case as `view` (default: the reader) sees it at `as_of` (default: now),
        opened for the reader where it may read; entries filtered by type and period
        (the state is the whole case's). Audited as a read before it returns.

        The answer shares its entries with later answers of the same timeline: read it,
        do not change it."""
        org = view or reader
        moment = as_of or self.store.clock()
        cid = str(case_id)
        # Read first: a grant changed while this read goes on counts after it.
        changes = self._reads.grant_changes(cid)
        positions = self._tables.access_positions(org, cid)
        if not positions:
            raise errors.CaseNotFound(cid)
        events, alive = self._stream(case_id)
        # A case under a beperking or an upheld objection is folded afresh on every read:
        # what they keep back turns on the day, not only on the events (a beperking ends
        # on its date), and such cases are few.
        restraints = restraints_in(events)
        openers: list[Opener] = []
        if reader in self.sealer.keyring.hosted:
            openers = self.sealer.keyring.openers(reader)
        token = (
            changes,
            alive,
            id(self.sealer.matrix),
            self.sealer.policy_version,
            tuple(o.key.key_id for o in openers),
        )
        key = (case_id, reader, org, known)
        kept = None if restraints else self._folds.get(key)
        shown = None
        if kept is not None:
            with kept.lock:
                if kept.serves(token, positions, moment):
                    shown = self._folded(kept, reader, org, events, positions, moment, openers)
        folded = kept
        if folded is None or shown is None:
            folded = _Folded(token, Projection(moment), known)
            folded.reader_grants = self._by_event(self._tables.grant_texts(reader, cid))
            folded.org_grants = (
                folded.reader_grants
                if org == reader
                else self._by_event(self._tables.grant_texts(org, cid))
            )
            if restraints:
                folded.reader_grants, folded.org_grants = self._restrained(
                    restraints, events, reader, org, folded.reader_grants, folded.org_grants
                )
            with folded.lock:
                shown = self._folded(folded, reader, org, events, positions, moment, openers)
        if not restraints:
            self._folds.put(key, folded)
        rendered, served, opened_names = shown
        rendered["entries"] = _filtered(rendered["entries"], set(event_types), since, until)
        self._audited(reader, org, case_id, served, opened_names)
        return {"case_id": cid, "reader": reader, "view": org, **rendered}

    def _folded(
        self,
        folded: _Folded,
        reader: str,
        org: str,
        events: Sequence[Case.Event],
        positions: Mapping[int, int],
        moment: datetime,
        openers: list[Opener],
    ) -> tuple[dict[str, Any], list[str], set[str]]:
        """The timeline at `moment` from `folded` (its lock held), with what it served."""
        if events[-1].originator_version > folded.version:
            self._fold(folded, reader, org, events, positions, moment, openers)
        shown = result(folded.projection, known=folded.known, as_of=moment)
        return shown, list(folded.served), set(folded.opened)

    def _fold(
        self,
        folded: _Folded,
        reader: str,
        org: str,
        events: Sequence[Case.Event],
        positions: Mapping[int, int],
        moment: datetime,
        openers: list[Opener],
    ) -> None:
        """Fold into `folded` the events after those it holds that `org` receives, as
        they stood at `moment`; the grants of the events new to it read first."""
        after = folded.version
        if after:
            cid = str(events[0].originator_id)
            newer = self._by_event(self._reads.grant_texts_after(reader, cid, after))
            folded.reader_grants.update(newer)
            if org != reader:
                newer = self._by_event(self._reads.grant_texts_after(org, cid, after))
            folded.org_grants.update(newer)
        projection = folded.projection
        for event in events:
            version = event.originator_version
            if version <= after:
                continue
            folded.version = version
            if version not in positions:
                continue
            folded.positions[version] = positions[version]
            happened = event.timestamp if folded.known else event.occurred_at
            if happened > moment:
                folded.lo = happened if folded.lo is None else min(folded.lo, happened)
                continue
            folded.hi = happened if folded.hi is None else max(folded.hi, happened)
            access = folded.org_grants.get(event.event_id)
            unruled = access is None or not access.rules
            if event.content and event.author_org != org and unruled:
                access = self._nearest(org, event, projection, folded.nearest)
            own = folded.reader_grants.get(event.event_id)
            fact_key = (reader, org, event.event_id, own, access)
            found = self._facts.get(fact_key)
            if found is None:
                found = self._fact(event, org, access, own, openers)
                self._facts.put(fact_key, found)
            fact, opened = found
            projection.apply(fact)
            folded.served.append(event.event_id)
            folded.opened |= opened

    def _restrained(
        self,
        restraints: Restraints,
        events: Sequence[Case.Event],
        reader: str,
        org: str,
        reader_grants: dict[str, _Access],
        org_grants: dict[str, _Access],
    ) -> tuple[dict[str, _Access], dict[str, _Access]]:
        """The grants as far as the case's beperkingen and upheld objections let them
        count: the reader opens nothing they keep from it, and what they keep from the
        viewed organisation shows as withheld for their reason."""
        custodian, today = self.sealer.custodian, self.store.clock().date()
        mine, theirs = dict(reader_grants), dict(org_grants)
        for event in events:
            if restraints.withheld(reader, event.author_org, custodian, today):
                mine.pop(event.event_id, None)
            held = restraints.withheld(org, event.author_org, custodian, today)
            if held:
                theirs[event.event_id] = _Access(frozenset(), tuple(r.reason for r in held), ())
        return mine, theirs

    def _fact(
        self,
        event: Case.Event,
        org: str,
        access: _Access | None,
        own: _Access | None,
        openers: list[Opener],
    ) -> tuple[Fact, frozenset[str]]:
        """The event as shown, and the names of the fields opened for it that `org` is
        granted (what the audit entry says was read)."""
        fields: dict[str, Any] = {}
        opened_names: frozenset[str] = frozenset()
        if event.content:
            opened: Mapping[str, Any] = {}
            granted = access.names if access is not None else frozenset()
            if openers and own is not None and granted:
                key = (tuple(o.key.key_id for o in openers), event.event_id, own.grants)
                found = self._opened.get(key)
                if found is None:
                    context = context_of(self.sealer.region, event)
                    grants = [json.loads(g) for g in own.grants]
                    plain = open_fields_with(context, event.content, grants, openers)
                    found = values_of(plain, disclosed=event.is_disclosed)
                    self._opened.put(key, found)
                opened = found
            fields = self._fields(event, org, access, opened)
            opened_names = frozenset(n for n in opened if n in granted)
        fact = Fact(
            version=event.originator_version,
            event_id=event.event_id,
            event_type=event.event_type,
            author_org=event.author_org,
            author_user=event.author_user,
            occurred_at=event.occurred_at,
            recorded_at=event.timestamp,
            control=event.control,
            fields=fields,
            visible_control=visible_control(event.control),
        )
        return fact, opened_names

    def _nearest(
        self,
        org: str,
        event: Case.Event,
        projection: Projection,
        cache: dict[tuple[str, str, str], _Access],
    ) -> _Access:
        """For an event `org` receives without any field: the rule nearest to granting
        them, in the case as it stood (the policy's explanation), as the rule withholding."""
        key = (event.event_type, event.author_org, ",".join(projection.state.network))
        found = cache.get(key)
        if found is None:
            state = projection.state
            context = CaseContext.of([*state.network, org], state.regie)
            rules = {}
            for name in content_fields(event.event_type):
                try:
                    explained = self.sealer.matrix.explain(
                        org,
                        event.event_type,
                        name,
                        event.timestamp,
                        network=context,
                        author=event.author_org,
                    )
                except (PolicyError, UnknownOrganisation):
                    explained = None
                nearest = explained.nearest if explained is not None else None
                rules[name] = nearest.rule if nearest is not None else NO_RULE
            found = cache[key] = _Access(frozenset(), (), (), tuple(sorted(rules.items())))
        return found

    @staticmethod
    def _fields(
        event: Case.Event, org: str, access: _Access | None, opened: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Per content field of the event: the value, `Sealed`, `Withheld` or `Owned`. A
        value is taken only under a sealed name the viewed organisation is granted."""
        granted = access.names if access is not None else frozenset()
        if event.author_org == org:
            rule = AUTHOR
        elif access is not None and access.rules:
            rule = ", ".join(access.rules)
        else:
            rule = NO_RULE
        withheld = Withheld(rule)
        by_field: dict[str, list[str]] = {}
        for name in event.content:
            by_field.setdefault(field_of(name)[0], []).append(name)
        owned = EVENT_TYPES.schema_of(event.event_type).owned_fields()
        fields: dict[str, Any] = {}
        for name in content_fields(event.event_type):
            sealed_names = by_field.get(name)
            if not sealed_names:
                continue
            if name in owned:
                entries: list[tuple[int, Any]] = []
                hidden = False
                for part in sealed_names:
                    if part not in granted:
                        hidden = True
                    elif part in opened:
                        entries.extend((int(i), entry) for i, entry in opened[part])
                    else:
                        hidden = True
                fields[name] = Owned(
                    tuple(sorted(entries, key=lambda e: e[0])), withheld if hidden else None
                )
            elif name not in granted:
                if access is not None and access.nearest is not None:
                    fields[name] = Withheld(dict(access.nearest).get(name, NO_RULE))
                else:
                    fields[name] = withheld
            elif name in opened:
                fields[name] = opened[name]
            else:
                fields[name] = Sealed()
        return fields

    @staticmethod
    def _by_event(rows: Sequence[tuple[str, str, str]]) -> dict[str, _Access]:
        found: dict[str, _Access] = {}
        for event_id, grant, basis in rows:
            granted, ruled = _basis(basis)
            seen = found.get(event_id)
            if seen is None:  # one grant per event but during a key rotation's overlap
                found[event_id] = _Access(granted, _sorted(ruled), (grant,))
            else:
                found[event_id] = _Access(
                    seen.names | granted,
                    _sorted(frozenset(seen.rules) | ruled),
                    (*seen.grants, grant),
                )
        return found

    def _audited(
        self, reader: str, org: str, case_id: UUID, events: list[str], opened: set[str]
    ) -> None:
        trail = self.store.audit
        if trail is None or not trail.enabled or not events:
            return
        trail.record(
            [
                trail.entry(
                    TIMELINE_READ,
                    case=str(case_id),
                    events=events,
                    fields=sorted({field_of(name)[0] for name in opened}),
                    receiver=org,
                    reason=None if org == reader else f"view as {org}",
                )
            ]
        )


@functools.lru_cache(maxsize=4096)
def _basis(basis: str) -> tuple[frozenset[str], frozenset[str]]:
    """The sealed names a grant's basis covers and the rules granting them: few distinct
    bases (one per decision and fields granted), so each is parsed once."""
    parsed = json.loads(basis)
    rules = {
        rule
        for field_basis in parsed.values()
        for rule in field_basis.get("rules", ())
        if rule != AUTHOR
    }
    return frozenset(parsed), frozenset(rules)


@functools.lru_cache(maxsize=4096)
def _sorted(rules: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(rules))


def _filtered(
    entries: list[dict[str, Any]],
    event_types: set[str],
    since: datetime | None,
    until: datetime | None,
) -> list[dict[str, Any]]:
    def keep(entry: dict[str, Any]) -> bool:
        if event_types and entry["event_type"] not in event_types:
            return False
        moment = datetime.fromisoformat(entry["occurred_at"])
        return (since is None or moment >= since) and (until is None or moment <= until)

    return [entry for entry in entries if keep(entry)]
