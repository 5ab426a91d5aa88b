"""What a proposed policy would change in stored history, per organisation, computed
from the grants and access rows as stored (not re-derived from the YAML).

The store is read a page of cases at a time in case id order, each page's grants and
access rows in one query each (`Grants.plans`), so the time is a few queries per page
rather than per case, and the memory is one page's, however large the store is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casestore.services.grants import Grants, Plan
from sharing.owned import field_of
from sharing.policy import AccessMatrix, Catalogue
from sharing.policy.diff import ORDINARY
from sharing.policy.special import Special, special_data

PAGE = 50
"""Cases read and planned together."""


@dataclass(frozen=True)
class OrgImpact:
    persons: Counter[str] = field(default_factory=Counter)  # gained / lost
    cases: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    by_category: dict[str, Counter[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def pair(c: Counter[str]) -> dict[str, int]:
            return {"gained": c["gained"], "lost": c["lost"]}

        return {
            "persons": pair(self.persons),
            "cases": pair(self.cases),
            "events": pair(self.events),
            "fields": pair(self.fields),
            "fields_by_category": {k: pair(v) for k, v in sorted(self.by_category.items())},
        }


@dataclass(frozen=True)
class Impact:
    organisations: dict[str, OrgImpact]
    affected_cases: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "organisations": {o: i.to_json() for o, i in sorted(self.organisations.items())},
            "affected_cases": self.affected_cases,
        }


def impact(grants: Grants, matrix: AccessMatrix, catalogue: Catalogue) -> Impact:
    """What applying `matrix` to stored history would change, per organisation; shredded
    cases hold nothing and change nothing."""
    categories = _categories(special_data(matrix.policy, catalogue))
    result: dict[str, OrgImpact] = {}
    persons: dict[str, dict[str, set[str]]] = {}  # org -> change -> person ids
    affected = []
    for page in grants.store.records.tables.case_pages(PAGE):
        live = [cid for cid, shredded in page if not shredded]
        for plan in grants.plans(live, matrix):
            touched = _tally(plan, categories, result)
            if touched:
                affected.append(plan.case_id)
                for org, changes in touched.items():
                    for change in changes:
                        result[org].cases[change] += 1
                        persons.setdefault(org, {}).setdefault(change, set()).add(plan.person_id)
    for org, changed in persons.items():
        result[org].persons.update({change: len(ids) for change, ids in changed.items()})
    return Impact(result, affected)


def _tally(
    plan: Plan,
    categories: Callable[[str, str], tuple[str, ...]],
    result: dict[str, OrgImpact],
) -> dict[str, set[str]]:
    """Count one case's fields and events gained and lost into `result`; the changes
    (gained, lost) each organisation saw in it."""
    before, after = plan.fields(False), plan.fields(True)
    touched: dict[str, set[str]] = {}
    for key in before.keys() | after.keys():
        org, version = key
        event_type = plan.events[version][0].event_type
        had, has = before.get(key, frozenset()), after.get(key, frozenset())
        if had == has:
            continue
        for change, names in (("gained", has - had), ("lost", had - has)):
            if not names:
                continue
            org_impact = result.setdefault(org, OrgImpact())
            org_impact.fields[change] += len(names)
            touched.setdefault(org, set()).add(change)
            by_category = org_impact.by_category
            for name in names:
                for cat in categories(event_type, name):
                    counter = by_category.get(cat)
                    if counter is None:
                        counter = by_category[cat] = Counter()
                    counter[change] += 1
    for change, keys in (
        ("gained", plan.want_access.keys() - plan.have_access),
        ("lost", plan.have_access - plan.want_access.keys()),
    ):
        for org, _ in keys:
            result.setdefault(org, OrgImpact()).events[change] += 1
            touched.setdefault(org, set()).add(change)
    return touched


def _categories(special: dict[str, Special]) -> Callable[[str, str], tuple[str, ...]]:
    """The special categories of a sealed field of an event type (ordinary data: its own
    category), remembered per field: a store holds few distinct ones."""
    known: dict[tuple[str, str], tuple[str, ...]] = {}

    def categories(event_type: str, name: str) -> tuple[str, ...]:
        found = known.get((event_type, name))
        if found is None:
            fields = special[event_type].fields if event_type in special else {}
            cats = fields.get(field_of(name)[0], frozenset())
            found = known[(event_type, name)] = tuple(sorted(str(c) for c in cats)) or (ORDINARY,)
        return found

    return categories
