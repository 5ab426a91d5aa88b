"""Restrictions of the right of access (UAVG art. 41) honoured by the data-subject report:
what a restriction names is withheld everywhere in the report, the report says that one
applies only where it may, and lifting it brings everything back. Both backends."""

from __future__ import annotations

from uuid import UUID

import pytest

from casestore.bootstrap import Services
from casestore.domain import errors
from casestore.services.audit import RESTRICTION_LIFTED, RESTRICTION_RECORDED
from tests.factories import (
    POLITIE,
    ZVH,
    aanmelding,
    fresh_bsn,
    include,
    netwerk,
    signalering,
    submit,
)

GROUND = "UAVG art. 41 lid 1 sub d: lopend opsporingsonderzoek"


def _person_with_police(services: Services) -> tuple[str, UUID, UUID]:
    """A person with two cases; the police joined the first and read it."""
    store, bsn = services.store, fresh_bsn()
    first = store.open_case(submit("aanmelding", aanmelding(bsn))).case_id
    include(store, first)
    store.append(first, submit("netwerkwijziging", netwerk(POLITIE), ZVH))
    store.append(first, submit("signalering", signalering(), ZVH))
    services.disclosure.read_case(POLITIE, first)
    store.append(first, submit("uitstroom", {"reden": "doelen_bereikt", "nazorg": "Geen."}, ZVH))
    second = store.open_case(submit("aanmelding", aanmelding(bsn))).case_id
    return bsn, first, second


def _mentions(document: object, organisation: str) -> bool:
    return organisation in str(document)


def test_a_restriction_withholds_what_it_names_and_says_so_only_where_allowed(
    services: Services,
) -> None:
    reports = services.subject_reports
    bsn, first, _ = _person_with_police(services)
    before = reports.for_bsn(bsn).document
    assert _mentions(before["verwerkingsacties"], POLITIE)
    assert _mentions(before["ontvangers"], POLITIE)

    silent = reports.restrict(
        bsn, case=first, organisation=POLITIE, ground=GROUND, requested_by=POLITIE,
        may_mention=False, by="fg",
    )  # fmt: skip
    hidden = reports.for_bsn(bsn).document
    assert not _mentions(hidden, POLITIE)  # nowhere: not as receiver, source or summary
    assert hidden["beperkingen"] == []  # and nothing says a restriction applies
    kept = [a for a in before["verwerkingsacties"] if POLITIE not in str(a)]
    assert [a["tijdstip"] + a["actie"] for a in hidden["verwerkingsacties"]] == [
        a["tijdstip"] + a["actie"] for a in kept
    ]
    assert hidden["zaken"] == before["zaken"]

    reports.lift(silent.restriction_id, by="fg")
    reports.restrict(
        bsn, case=None, organisation=POLITIE, ground=GROUND, requested_by=POLITIE,
        may_mention=True, by="fg",
    )  # fmt: skip
    told = reports.for_bsn(bsn).document
    assert not _mentions(told["verwerkingsacties"], POLITIE)
    assert [b["grond"] for b in told["beperkingen"]] == [GROUND]

    actions = [item["entry"] for item in services.audit.export()]
    recorded = [e for e in actions if e["action"] == RESTRICTION_RECORDED]
    assert len(recorded) == 2 and recorded[0]["case"] == str(first)
    assert [e["action"] for e in actions].count(RESTRICTION_LIFTED) == 1
    assert bsn not in str(actions) and GROUND not in str(actions)


def test_a_restriction_of_a_whole_case_hides_the_case_and_lifting_restores_it(
    services: Services,
) -> None:
    reports = services.subject_reports
    bsn, first, second = _person_with_police(services)
    before = reports.for_bsn(bsn).document
    row = reports.restrict(
        bsn, case=first, organisation=None, ground=GROUND, requested_by="om",
        may_mention=False, by="fg",
    )  # fmt: skip
    hidden = reports.for_bsn(bsn).document
    assert hidden["zaken"] == [str(second)]
    assert {a["zaak"] for a in hidden["verwerkingsacties"]} == {str(second)}
    reports.lift(row.restriction_id, by="fg")
    again = reports.for_bsn(bsn).document
    assert again["zaken"] == before["zaken"]
    assert len(again["verwerkingsacties"]) == len(before["verwerkingsacties"])


def test_a_restriction_must_name_the_persons_own_case(services: Services) -> None:
    bsn, _, _ = _person_with_police(services)
    _, other, _ = _person_with_police(services)
    with pytest.raises(errors.CaseNotFound):
        services.subject_reports.restrict(
            bsn, case=other, organisation=None, ground=GROUND, requested_by=POLITIE,
            may_mention=True, by="fg",
        )  # fmt: skip
    with pytest.raises(errors.CaseNotFound):
        services.subject_reports.restrict(
            fresh_bsn(), case=None, organisation=None, ground=GROUND, requested_by=POLITIE,
            may_mention=True, by="fg",
        )  # fmt: skip
