"""When what a rule granted must go: the policy's retention terms applied to one case.

A rule's term counts from the end of the case (whatever ended it: uitstroom, triage to
another approach, no inclusion) or from the moment the event occurred. A recipient keeps a
field as long as any rule that grants it keeps it; the author of an event reads it by
authorship, which no term ends short of the case's own destruction. The case itself is
destroyed when the longest term of the rules covering its events has ended.

A legal hold stops the clock: while one is in place nothing of the case expires, and once
released every term is that much longer, by the whole time the case was held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from casestore.adapters.persistence.retention_tables import HoldRow, RetentionTables
from casestore.domain.case import Case
from sharing.policy.decisions import FieldAccess
from sharing.policy.law import Anchor
from sharing.policy.model import Policy


@dataclass(frozen=True)
class CaseTerm:
    """When a closed case is due for destruction, and the rules that make it so."""

    due_at: datetime
    rules: tuple[str, ...]  # the rules whose term ends last (at `due_at`)


def paused_by(holds: Sequence[HoldRow]) -> timedelta | None:
    """How long the holds stopped the clock; None while one is in place."""
    total = timedelta()
    for hold in holds:
        if hold.released_at is None:
            return None
        total += hold.released_at - hold.placed_at
    return total


class Terms:
    def __init__(self, policy: Callable[[], Policy], tables: RetentionTables) -> None:
        self._policy = policy
        self.tables = tables

    def paused(self, case_id: str) -> timedelta | None:
        """How much later the case's terms end because of legal holds; None: held now."""
        return paused_by(self.tables.holds_of(case_id))

    @staticmethod
    def field_expired(
        access: FieldAccess,
        occurred_at: datetime,
        case_end: datetime | None,
        paused: timedelta,
        now: datetime,
    ) -> bool:
        """Whether every rule that grants the field has let its term end."""
        if access.as_author or not access.grants:
            return False
        for grant in access.grants:
            end = grant.retention.expires_at(occurred_at, case_end)
            if end is None or now < end + paused:
                return False
        return True

    def grant_ends(
        self,
        rules: Sequence[str],
        occurred_at: datetime,
        case_end: datetime | None,
        paused: timedelta,
    ) -> datetime | None:
        """When a stored grant resting on `rules` ends (the last of their terms); None
        while one has not started or is not in the policy, or the grant rests on
        authorship alone."""
        policy = self._policy()
        ends = []
        for rule_id in rules:
            rule = policy.rule(rule_id)
            end = None if rule is None else rule.retention.expires_at(occurred_at, case_end)
            if end is None:
                return None
            ends.append(end + paused)
        return max(ends, default=None)

    def case_term(
        self, case: Case, events: Sequence[Case.Event], paused: timedelta
    ) -> CaseTerm | None:
        """When the closed case is to be destroyed: the end of the longest term of the
        rules that cover its events, counted per event; for a case none covers, the
        longest term the policy counts from the end of a case. None for an open case."""
        return self.term_of(case.closed_at, [(e.event_type, e.occurred_at) for e in events], paused)

    def term_of(
        self,
        closed_at: datetime | None,
        occurrences: Iterable[tuple[str, datetime]],
        paused: timedelta,
    ) -> CaseTerm | None:
        """`case_term` from what it reads of a case: when it ended, and when events of
        which types occurred (the latest of each type is enough, as a later event never
        ends a term sooner)."""
        if closed_at is None:
            return None
        policy = self._policy()
        occurred = list(occurrences)
        ends: dict[str, datetime] = {}
        for rule in policy.rules:
            for event_type, occurred_at in occurred:
                if event_type in rule.event_types:
                    end = rule.retention.expires_at(occurred_at, closed_at)
                    if end is not None and (rule.id not in ends or ends[rule.id] < end):
                        ends[rule.id] = end
        if not ends:
            for rule in policy.rules:
                if rule.retention.counted_from is Anchor.case_end:
                    end = rule.retention.expires_at(closed_at, closed_at)
                    assert end is not None  # noqa: S101 - counted from the end given
                    ends[rule.id] = end
        if not ends:
            return None
        due = max(ends.values())
        return CaseTerm(due + paused, tuple(sorted(r for r, end in ends.items() if end == due)))
