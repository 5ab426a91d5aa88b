"""Retention terms as properties: a field is kept exactly as long as the longest term of
the rules that grant it, a legal hold stops the clock for as long as it is in place, and
what its author wrote is never taken from it by a term."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from casestore.adapters.persistence.retention_tables import HoldRow
from casestore.services.retention_terms import Terms, paused_by
from sharing.policy.decisions import FieldAccess, RuleGrant
from sharing.policy.law import Anchor, Retention
from sharing.policy.model import Scope

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
terms = st.builds(
    lambda years, months, anchor: Retention.model_validate(
        {"years": years, "months": months, "from": anchor}
    ),
    st.integers(0, 10),
    st.integers(1, 24),
    st.sampled_from(list(Anchor)),
)


def access(retentions: list[Retention], *, as_author: bool = False) -> FieldAccess:
    grants = tuple(
        RuleGrant(f"rule-{i}", (), (), (), "purpose", retention, Scope.all)
        for i, retention in enumerate(retentions)
    )
    return FieldAccess("veld", Scope.all, grants, as_author=as_author)


@given(
    st.lists(terms, min_size=1, max_size=4),
    moments,
    st.none() | moments,
    st.integers(0, 4000),
    moments,
)
def test_a_field_expires_exactly_when_the_longest_term_that_grants_it_has_ended(
    retentions: list[Retention],
    occurred: datetime,
    case_end: datetime | None,
    held_days: int,
    now: datetime,
) -> None:
    paused = timedelta(days=held_days)
    ends = [r.expires_at(occurred, case_end) for r in retentions]
    expired = Terms.field_expired(access(retentions), occurred, case_end, paused, now)
    if any(end is None for end in ends):  # a term from the end of an open case
        assert not expired
    else:
        assert expired == (now >= max(e for e in ends if e is not None) + paused)
    assert not Terms.field_expired(
        access(retentions, as_author=True), occurred, case_end, paused, now
    )


@given(st.lists(st.tuples(moments, st.integers(0, 1000), st.booleans()), max_size=5))
def test_a_hold_in_place_stops_the_clock_and_a_released_one_adds_its_length(
    spans: list[tuple[datetime, int, bool]],
) -> None:
    holds = [
        HoldRow(
            str(i),
            "case",
            "reason",
            "fg",
            placed,
            "fg" if released else None,
            placed + timedelta(days=days) if released else None,
        )
        for i, (placed, days, released) in enumerate(spans)
    ]
    paused = paused_by(holds)
    if any(not released for _, _, released in spans):
        assert paused is None
    else:
        assert paused == sum((timedelta(days=d) for _, d, _ in spans), timedelta())
