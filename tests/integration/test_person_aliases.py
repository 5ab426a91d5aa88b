"""The person index joins a person's two pseudonyms (issue: name and BSN not cross-linked),
on SQLite and PostgreSQL.

A referral with the BSN and the name, and a later one with the name alone (or the
reverse, the BSN given later), are found as one person: the second referral by a member
of the open case's network is refused naming that case, as any duplicate referral is.
Two pseudonyms that lead to two different persons are never joined: the BSN decides and
the referral is flagged for the ZVH's bekendheid check.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casestore.bootstrap import Services
from casestore.domain import errors
from tests.factories import GGZ, POLITIE, aanmelding, fresh_bsn, submit

BORN = date(1984, 5, 17)


def referral(bsn: str | None, naam: str, geboren: str = "1984-05-17") -> dict[str, Any]:
    payload = {**aanmelding(bsn or fresh_bsn(), naam), "geboortedatum": geboren}
    if bsn is None:
        del payload["bsn"]
    return payload


def refer(services: Services, payload: dict[str, Any], referrer: str = GGZ) -> str:
    return str(services.store.open_case(submit("aanmelding", payload, referrer)).case_id)


def a_name() -> str:
    return f"P. {uuid.uuid4().hex[:10]}"


def test_a_referral_by_name_finds_the_person_referred_with_a_bsn(services: Services) -> None:
    naam, bsn = a_name(), fresh_bsn()
    first = refer(services, referral(bsn, naam))
    with pytest.raises(errors.PersonHasOpenCase) as raised:
        refer(services, referral(None, naam.lower()))
    assert raised.value.case_id == first
    by_name = services.store.person_by_name(naam, BORN)
    assert by_name is not None and by_name.cases == [first]
    assert services.store.person_by_bsn(bsn) is not None
    same = services.store.person_by_bsn(bsn)
    assert same is not None and same.id == by_name.id


def test_a_bsn_given_later_joins_the_person_referred_by_name(services: Services) -> None:
    naam, bsn = a_name(), fresh_bsn()
    first = refer(services, referral(None, naam))
    with pytest.raises(errors.PersonHasOpenCase) as raised:
        refer(services, referral(bsn, naam))  # by a member of the open case: refused
    assert raised.value.case_id == first
    # By a partner outside it: a case beside the open one, and the BSN is the person's now.
    beside = refer(services, referral(bsn, naam), POLITIE)
    person = services.store.person_by_bsn(bsn)
    assert person is not None and person.cases == [first, beside] and person.with_bsn
    assert person.beside_of(beside) == first
    with pytest.raises(errors.PersonHasOpenCase):
        refer(services, referral(bsn, a_name()), POLITIE)  # the BSN alone finds it too


def test_two_persons_are_never_joined_the_bsn_decides_and_the_zvh_is_told(
    services: Services,
) -> None:
    """Two persons with one name and birth date: the second's BSN opens its own person;
    the name still leads to the first, and the second's index flags the referral."""
    naam = a_name()
    first = refer(services, referral(fresh_bsn(), naam))
    other_bsn = fresh_bsn()
    second = refer(services, referral(other_bsn, naam))  # not refused: another person

    one = services.store.person_by_name(naam, BORN)
    two = services.store.person_by_bsn(other_bsn)
    assert one is not None and two is not None and one.id != two.id
    assert one.cases == [first] and two.cases == [second]
    assert two.name_elsewhere == {second: str(one.id)}
    found = services.bekendheid.check(services.store.custodian, uuid.UUID(second))
    assert [k.case_id for k in found.zelfde_naam_andere_persoon] == [uuid.UUID(first)]


def test_a_name_referred_alone_first_and_a_bsn_person_elsewhere_are_flagged(
    services: Services,
) -> None:
    naam, bsn = a_name(), fresh_bsn()
    by_name = refer(services, referral(None, naam))
    by_bsn = refer(services, referral(bsn, a_name()))  # the BSN known under another name
    person = services.store.person_by_bsn(bsn)
    assert person is not None and person.cases == [by_bsn]
    with pytest.raises(errors.PersonHasOpenCase) as raised:
        refer(services, referral(bsn, naam))  # the BSN's person is in GGZ's network
    assert raised.value.case_id == by_bsn
    named = services.store.person_by_name(naam, BORN)
    assert named is not None and named.cases == [by_name]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kinds=st.lists(st.sampled_from(["both", "name", "bsn"]), min_size=2, max_size=4))
def test_any_order_of_pseudonyms_of_one_person_finds_one_person(
    services: Services, kinds: list[str]
) -> None:
    """However one person's referrals give the BSN and the name, each after the first
    finds the first one's case."""
    naam, bsn = a_name(), fresh_bsn()
    first = None
    known = {"name": False, "bsn": False}  # which of the person's pseudonyms lead to it
    for kind in kinds:
        payload = referral(None if kind == "name" else bsn, naam)
        if kind == "bsn":
            payload["naam"] = a_name()  # the BSN alone decides: another spelling
        gives = {"name", "bsn"} if kind == "both" else {kind}
        if first is None:
            first = refer(services, payload)
            known.update(dict.fromkeys(gives, True))
            continue
        if not any(known[g] for g in gives):
            refer(services, payload)  # nothing it gives was ever linked: another person
            return
        with pytest.raises(errors.PersonHasOpenCase) as raised:
            refer(services, payload)
        assert raised.value.case_id == first
