"""The bekendheid check: what the ZVH knows of the person a case is about, for the ZVH only.

Every aanmelding is checked for bekendheid at the ZVH before triage: does the person have,
or has the person had, a case? The person index (`casestore.domain.person.Person`) knows,
and so the answer is the custodian's alone — to anyone else a case the question is asked
about is not found, as any case they receive nothing of. A referral made by a partner
outside the network of the person's open case was accepted as a case of its own so that
the referrer learned nothing; the check shows it as an *aanmelding bij lopende casus*,
with the open case it belongs to, where the ZVH handles it (closing the referral at
triage, and adding the referrer to the open case's network if it belongs there).

A referral whose BSN and whose name and birth date lead to two different persons in the
index was not joined to either silently (`casestore.services.person_index`): the check
names the cases of the other person as `zelfde_naam_andere_persoon`, for the ZVH to
judge (two persons, or one person twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from casestore.domain import errors
from casestore.services.audit import SEARCH_CASE
from casestore.services.case_store import CaseStore


@dataclass(frozen=True)
class KnownCase:
    case_id: UUID
    status: str
    lopend: bool  # still open


@dataclass(frozen=True)
class Bekendheid:
    case_id: UUID
    lopende_casus: UUID | None  # set for an aanmelding bij lopende casus: the open case
    casussen: list[KnownCase]  # every case of the person, in the order they were opened
    zelfde_naam_andere_persoon: list[KnownCase] = field(default_factory=list)


class BekendheidCheck:
    def __init__(self, store: CaseStore) -> None:
        self.store = store

    def check(self, org_id: str, case_id: UUID) -> Bekendheid:
        """The bekendheid of the person of `case_id`, asked by `org_id` (the custodian);
        in the audit trail, with every case it names, before the answer leaves."""
        if org_id != self.store.custodian:
            raise errors.CaseNotFound(str(case_id))
        person = self.store.person_of(self.store.case(case_id))
        known = self._known(person.cases)
        elsewhere = person.name_elsewhere.get(str(case_id))
        other = None if elsewhere is None else self.store.persons.read(UUID(elsewhere))
        namesakes = [] if other is None else self._known(other.cases)
        beside = person.beside_of(str(case_id))
        trail = self.store.audit
        if trail is not None:
            trail.record(
                [
                    trail.entry(
                        SEARCH_CASE,
                        case=str(case_id),
                        person=str(person.id),
                        receiver=org_id,
                        reason="bekendheid: "
                        + ",".join(str(k.case_id) for k in [*known, *namesakes]),
                    )
                ]
            )
        return Bekendheid(case_id, None if beside is None else UUID(beside), known, namesakes)

    def _known(self, cases: list[str]) -> list[KnownCase]:
        found = []
        for other in cases:
            case = self.store.case(UUID(other))
            found.append(KnownCase(case.id, str(case.status), case.is_open))
        return found
