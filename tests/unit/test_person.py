"""Persons: the elfproef, the keyed pseudonym, and one open case per person."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st

from casestore.domain.errors import InvalidBsn, PersonHasOpenCase
from casestore.domain.person import Person, check_bsn, person_id, pseudonym

SECRET = b"regio-zuid-pseudonym-secret-0001"
OTHER_SECRET = b"regio-noord-pseudonym-secret-002"
INVALID_BSN_MESSAGE = "bsn: must be 9 digits that pass the elfproef"
WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def passes_elfproef(digits: str) -> bool:
    return sum(w * int(d) for w, d in zip(WEIGHTS, digits, strict=True)) % 11 == 0


def _complete(first_eight: str) -> str | None:
    """The ninth digit that makes the elfproef hold, if there is one."""
    check = sum(w * int(d) for w, d in zip(WEIGHTS, first_eight, strict=False)) % 11
    return first_eight + str(check) if check < 10 else None


valid_bsns = (
    st.text(alphabet="0123456789", min_size=8, max_size=8)
    .map(_complete)
    .filter(lambda bsn: bsn is not None and bsn != "000000000")
)


def rebuilt(events: Iterable[CanMutateAggregate[UUID]]) -> Person:
    person: Person | None = None
    for event in events:
        person = event.mutate(person)
    assert person is not None
    return person


def state(person: Person) -> dict[str, Any]:
    return {k: v for k, v in person.__dict__.items() if k != "_pending_events"}


# ---- the elfproef -------------------------------------------------------------------


@pytest.mark.parametrize("bsn", ["111222333", "123456782"])
def test_known_valid_bsns_pass_the_elfproef(bsn: str) -> None:
    check_bsn(bsn)


@given(nine_digits)
def test_nine_digits_pass_exactly_when_the_weighted_sum_is_a_multiple_of_eleven(
    digits: str,
) -> None:
    expected = passes_elfproef(digits) and digits != "000000000"
    try:
        check_bsn(digits)
    except InvalidBsn:
        accepted = False
    else:
        accepted = True

    assert accepted is expected


def test_nine_zeros_are_refused_although_their_sum_is_zero() -> None:
    assert passes_elfproef("000000000")

    with pytest.raises(InvalidBsn):
        check_bsn("000000000")


@pytest.mark.parametrize(
    "bsn",
    [
        "123456789",  # fails the elfproef
        "111222334",
        "12345678",  # eight digits
        "1234567820",  # ten digits
        "",
        "12345678a",
        " 11122233",
        "111222333 ",
        "111-22-333",
        "+11122233",
        "١٢٣٤٥٦٧٨٢",  # Arabic-Indic digits of a valid BSN
        "１１１２２２３３３",  # full-width digits of a valid BSN
        "¹¹¹²²²³³³",  # superscripts: isdigit() but not a BSN
    ],
)
def test_anything_but_nine_ascii_digits_passing_the_elfproef_is_refused(bsn: str) -> None:
    with pytest.raises(InvalidBsn) as caught:
        check_bsn(bsn)

    assert str(caught.value) == INVALID_BSN_MESSAGE
    if bsn.strip():
        assert bsn.strip() not in str(caught.value)


@given(st.text(max_size=12))
def test_a_refused_bsn_is_never_echoed(text: str) -> None:
    try:
        check_bsn(text)
    except InvalidBsn as refused:
        assert str(refused) == INVALID_BSN_MESSAGE
        assert refused.args == (INVALID_BSN_MESSAGE,)
    else:
        assert len(text) == 9
        assert text.isascii()
        assert text.isdigit()
        assert passes_elfproef(text)


# ---- the pseudonym ------------------------------------------------------------------


def test_the_pseudonym_is_32_bytes_of_hex() -> None:
    value = pseudonym("111222333", SECRET)

    assert len(value) == 64
    assert bytes.fromhex(value).hex() == value


@given(valid_bsns)
def test_the_pseudonym_is_the_same_for_the_same_bsn_and_secret(bsn: str) -> None:
    assert pseudonym(bsn, SECRET) == pseudonym(bsn, bytes(SECRET))


@given(valid_bsns)
def test_the_pseudonym_differs_between_secrets(bsn: str) -> None:
    assert pseudonym(bsn, SECRET) != pseudonym(bsn, OTHER_SECRET)


@given(valid_bsns, valid_bsns)
def test_different_bsns_have_different_pseudonyms(first: str, second: str) -> None:
    if first != second:
        assert pseudonym(first, SECRET) != pseudonym(second, SECRET)


@given(valid_bsns)
def test_the_pseudonym_never_contains_the_bsn(bsn: str) -> None:
    assert bsn not in pseudonym(bsn, SECRET)


def test_the_pseudonym_is_not_a_plain_hash_of_the_bsn() -> None:
    import hashlib

    value = pseudonym("111222333", SECRET)

    assert value != hashlib.blake2b(b"111222333", digest_size=32).hexdigest()
    assert value != hashlib.sha256(b"111222333").hexdigest()


def test_a_pseudonym_is_only_made_of_a_valid_bsn() -> None:
    with pytest.raises(InvalidBsn):
        pseudonym("123456789", SECRET)


@pytest.mark.parametrize("secret", [b"", b"short", b"x" * 15])
def test_a_pseudonym_secret_shorter_than_sixteen_bytes_is_refused(secret: bytes) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonym("111222333", secret)


def test_the_person_id_derives_from_the_pseudonym_alone() -> None:
    first = person_id(pseudonym("111222333", SECRET))

    assert first == person_id(pseudonym("111222333", SECRET))
    assert first != person_id(pseudonym("123456782", SECRET))
    assert first != person_id(pseudonym("111222333", OTHER_SECRET))
    assert isinstance(first, UUID)
    assert first.version == 5


# ---- one open case per person -------------------------------------------------------


def registered() -> Person:
    return Person.register(uuid4(), NOW)


def test_a_registered_person_has_no_cases() -> None:
    person = registered()

    assert person.open_case is None
    assert person.cases == []
    assert person.version == 1


def test_starting_a_case_makes_it_the_open_case() -> None:
    person = registered()
    case_id = uuid4()

    person.start(case_id, NOW)

    assert person.open_case == str(case_id)
    assert person.cases == [str(case_id)]
    assert person.version == 2


def test_a_second_open_case_is_refused_naming_the_open_case() -> None:
    person = registered()
    first = uuid4()
    person.start(first, NOW)
    person.collect_events()

    with pytest.raises(PersonHasOpenCase) as caught:
        person.start(uuid4(), NOW + timedelta(days=1))

    assert caught.value.case_id == str(first)
    assert str(first) in str(caught.value)
    assert person.open_case == str(first)
    assert person.cases == [str(first)]
    assert person.version == 2
    assert person.collect_events() == []


def test_a_new_case_may_start_after_the_open_one_ends() -> None:
    person = registered()
    first, second = uuid4(), uuid4()
    person.start(first, NOW)

    person.end(first, NOW + timedelta(days=30))
    assert person.open_case is None

    person.start(second, NOW + timedelta(days=60))

    assert person.open_case == str(second)
    assert person.cases == [str(first), str(second)]
    assert person.version == 4


def test_ending_a_case_that_is_not_the_open_one_changes_nothing() -> None:
    person = registered()
    open_case = uuid4()
    person.start(open_case, NOW)
    person.collect_events()

    person.end(uuid4(), NOW)

    assert person.open_case == str(open_case)
    assert person.version == 2
    assert person.collect_events() == []


def test_a_person_rebuilt_from_its_events_equals_the_live_one() -> None:
    person = registered()
    first, second = uuid4(), uuid4()
    person.start(first, NOW)
    person.end(first, NOW + timedelta(days=1))
    person.start(second, NOW + timedelta(days=2))

    events = person.collect_events()

    assert [type(e).__name__ for e in events] == [
        "Created",
        "CaseOpened",
        "CaseEnded",
        "CaseOpened",
    ]
    assert state(rebuilt(events)) == state(person)
