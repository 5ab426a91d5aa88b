"""Persons: the elfproef, the keyed pseudonym, and one open case per person."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st

from casestore.domain.errors import InvalidBsn, PersonHasOpenCase
from casestore.domain.person import (
    Person,
    check_bsn,
    normalised_name,
    person_id,
    pseudonym,
    pseudonym_by_name,
)

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


# ---- without a BSN: the name and the birth date ----------------------------------------

BORN = date(1984, 5, 17)


@pytest.mark.parametrize("spelling", ["J. de Vries", "j de  vries", "J.de-Vriës", " JDEVRIES "])
def test_the_referrers_spellings_of_a_name_are_one_pseudonym(spelling: str) -> None:
    assert normalised_name(spelling) == "jdevries"
    assert pseudonym_by_name(spelling, BORN, SECRET) == pseudonym_by_name(
        "J de Vries", BORN, SECRET
    )


def test_another_name_or_birth_date_or_secret_is_another_pseudonym() -> None:
    base = pseudonym_by_name("J. de Vries", BORN, SECRET)
    assert base != pseudonym_by_name("J. de Vriesch", BORN, SECRET)
    assert base != pseudonym_by_name("J. de Vries", date(1984, 5, 18), SECRET)
    assert base != pseudonym_by_name("J. de Vries", BORN, OTHER_SECRET)


@given(valid_bsns, st.text(min_size=1, max_size=40), st.dates())
def test_a_name_pseudonym_is_never_a_bsn_pseudonym(bsn: str, naam: str, born: date) -> None:
    if not normalised_name(naam):
        with pytest.raises(ValueError, match="no one"):
            pseudonym_by_name(naam, born, SECRET)
        return
    assert pseudonym_by_name(naam, born, SECRET) != pseudonym(bsn, SECRET)


def test_the_same_characters_under_the_other_personalisation_differ() -> None:
    # "111222333" is letters-free, so no name is ever hashed as exactly a BSN is; the
    # personalisation keeps them apart even for input that looks alike.
    assert pseudonym_by_name("a", BORN, SECRET) != pseudonym_by_name("b", BORN, SECRET)


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


# ---- one open case per person, told only to its network --------------------------------

GGZ, ZVH, POLITIE, GEMEENTE = "arkin", "zvh-amsterdam-amstelland", "politie-amsterdam", "gemeente"


def registered() -> Person:
    return Person.register(uuid4(), NOW)


def with_open_case(case_id: UUID, network: tuple[str, ...] = (GGZ, ZVH)) -> Person:
    person = registered()
    person.refer(case_id, network[0], list(network), NOW)
    person.collect_events()
    return person


def test_a_registered_person_has_no_cases() -> None:
    person = registered()

    assert person.open_case is None
    assert person.cases == []
    assert person.version == 1


def test_a_first_referral_opens_the_person_s_case() -> None:
    person = registered()
    case_id = uuid4()

    assert person.refer(case_id, GGZ, [ZVH, GGZ], NOW) is None

    assert person.open_case == str(case_id)
    assert person.cases == [str(case_id)]
    assert person.networks == {str(case_id): [GGZ, ZVH]}
    assert person.version == 2


@pytest.mark.parametrize("referrer", [GGZ, ZVH])
def test_a_member_of_the_open_case_network_is_told_of_the_case(referrer: str) -> None:
    first = uuid4()
    person = with_open_case(first)

    with pytest.raises(PersonHasOpenCase) as caught:
        person.refer(uuid4(), referrer, sorted({referrer, ZVH}), NOW + timedelta(days=1))

    assert caught.value.case_id == str(first)
    assert str(first) in str(caught.value)
    assert person.cases == [str(first)]
    assert person.collect_events() == []


def test_an_outsider_s_referral_opens_a_case_beside_the_open_one() -> None:
    first, referral = uuid4(), uuid4()
    person = with_open_case(first)

    beside = person.refer(referral, POLITIE, [POLITIE, ZVH], NOW + timedelta(days=1))

    assert beside == str(first)
    assert person.open_case == str(first)  # still the person's case
    assert person.cases == [str(first), str(referral)]
    assert person.beside_of(str(referral)) == str(first)
    assert person.beside_of(str(first)) is None
    assert [type(e).__name__ for e in person.collect_events()] == ["ReferredBesideOpenCase"]


def test_an_outsider_that_referred_before_is_told_of_its_own_referral_only() -> None:
    first, referral = uuid4(), uuid4()
    person = with_open_case(first)
    person.refer(referral, POLITIE, [POLITIE, ZVH], NOW)

    with pytest.raises(PersonHasOpenCase) as caught:
        person.refer(uuid4(), POLITIE, [POLITIE, ZVH], NOW)

    assert caught.value.case_id == str(referral)  # as for a person without another case


def test_a_partner_that_joined_the_network_is_a_member_from_then_on() -> None:
    first = uuid4()
    person = with_open_case(first)
    person.network_changed(first, [GGZ, POLITIE, ZVH], NOW)

    with pytest.raises(PersonHasOpenCase) as caught:
        person.refer(uuid4(), POLITIE, [POLITIE, ZVH], NOW)
    assert caught.value.case_id == str(first)

    person.network_changed(first, [GGZ, ZVH], NOW)  # and left again
    assert person.refer(uuid4(), POLITIE, [POLITIE, ZVH], NOW) == str(first)


def test_an_unchanged_network_records_nothing() -> None:
    first = uuid4()
    person = with_open_case(first)

    person.network_changed(first, [ZVH, GGZ], NOW)
    person.network_changed(uuid4(), [POLITIE], NOW)  # not a case of this person's

    assert person.collect_events() == []


def test_a_case_opened_before_networks_were_kept_tells_no_referrer_of_it() -> None:
    person = registered()
    first = uuid4()
    person.trigger_event(Person.CaseOpened, case_id=str(first), timestamp=NOW)  # no network

    assert person.refer(uuid4(), GGZ, [GGZ, ZVH], NOW) == str(first)


def test_a_new_case_may_start_after_the_open_one_ends() -> None:
    person = registered()
    first, second = uuid4(), uuid4()
    person.refer(first, GGZ, [GGZ, ZVH], NOW)

    person.end(first, NOW + timedelta(days=30))
    assert person.open_case is None
    assert person.networks == {}

    assert person.refer(second, GGZ, [GGZ, ZVH], NOW + timedelta(days=60)) is None

    assert person.open_case == str(second)
    assert person.cases == [str(first), str(second)]
    assert person.version == 4


def test_a_referral_beside_the_open_case_ends_without_ending_it() -> None:
    first, referral = uuid4(), uuid4()
    person = with_open_case(first)
    person.refer(referral, POLITIE, [POLITIE, ZVH], NOW)

    person.end(referral, NOW)

    assert person.open_case == str(first)
    assert list(person.networks) == [str(first)]
    assert person.refer(uuid4(), POLITIE, [POLITIE, ZVH], NOW) == str(first)  # beside again


def test_ending_a_case_that_is_not_open_changes_nothing() -> None:
    open_case = uuid4()
    person = with_open_case(open_case)

    person.end(uuid4(), NOW)

    assert person.open_case == str(open_case)
    assert person.version == 2
    assert person.collect_events() == []


def test_a_person_rebuilt_from_its_events_equals_the_live_one() -> None:
    person = registered()
    first, referral, second = uuid4(), uuid4(), uuid4()
    person.refer(first, GGZ, [GGZ, ZVH], NOW)
    person.refer(referral, POLITIE, [POLITIE, ZVH], NOW)
    person.network_changed(first, [GEMEENTE, GGZ, ZVH], NOW)
    person.end(first, NOW + timedelta(days=1))
    person.refer(second, GGZ, [GGZ, ZVH], NOW + timedelta(days=2))

    events = person.collect_events()

    assert [type(e).__name__ for e in events] == [
        "Created",
        "CaseOpened",
        "ReferredBesideOpenCase",
        "NetworkChanged",
        "CaseEnded",
        "CaseOpened",
    ]
    assert state(rebuilt(events)) == state(person)
