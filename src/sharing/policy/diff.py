"""Two policy versions compared as a privacy officer reads a change.

Three views of one change: the rules added, removed and changed; the access cells
(organisation × event type × field, the header counted as a field of its own) gained and
lost, each said in a Dutch sentence; and the flows of the DPIA annex (organisation × data
category × receiving ground × retention) added and removed. A cell is what some rule can
grant to an organisation in some case; whether it is granted in a given case depends on the
network, the case roles and the conditions, which the impact on stored history answers
from the real grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sharing.canonical import canonical_json
from sharing.policy.catalogue import Catalogue
from sharing.policy.model import Organisation, Parties, Policy, Rule
from sharing.policy.special import Special, special_data

HEADER = "(kop)"
"""The field name of an event's header in a cell: receiving the event at all."""

ORDINARY = "gewone persoonsgegevens"


@dataclass(frozen=True, order=True)
class Cell:
    organisation: str
    event_type: str
    field: str  # a content field, or HEADER


@dataclass(frozen=True)
class CellChange:
    cell: Cell
    change: str  # gained | lost | changed (granted, by other rules)
    rules: tuple[str, ...]  # the rules that grant it (gained, changed) or granted it (lost)
    grounds: tuple[str, ...]
    sentence: str


@dataclass(frozen=True, order=True)
class Flow:
    """One line of the DPIA annex."""

    organisation: str
    category: str
    ground: str
    retention: str


@dataclass(frozen=True)
class RuleChange:
    rule: str
    change: str  # added | removed | changed


@dataclass(frozen=True)
class PolicyDiff:
    rules: tuple[RuleChange, ...]
    cells: tuple[CellChange, ...]
    flows_added: tuple[Flow, ...]
    flows_removed: tuple[Flow, ...]


def reached(policy: Policy, parties: Parties) -> tuple[Organisation, ...]:
    """Every organisation that can be one of `parties` in some case."""
    holdable: set[str] = set()
    for role_id in parties.case_roles:
        case_role = policy.case_role(role_id)
        if case_role is not None:
            holdable |= set(case_role.held_by)
    return tuple(
        o
        for o in policy.organisations
        if o.id in parties.organisations
        or not set(o.roles).isdisjoint(parties.roles)
        or not set(o.roles).isdisjoint(holdable)
    )


def cells(policy: Policy) -> dict[Cell, tuple[Rule, ...]]:
    """Every cell some rule can grant, with the rules that grant it."""
    found: dict[Cell, list[Rule]] = {}
    for rule in policy.rules:
        for org in reached(policy, rule.recipients):
            for event_type in rule.event_types:
                for name in (HEADER, *rule.fields):
                    found.setdefault(Cell(org.id, event_type, name), []).append(rule)
    return {cell: tuple(rules) for cell, rules in sorted(found.items())}


def flows(policy: Policy, catalogue: Catalogue) -> set[Flow]:
    """The DPIA annex: who receives which category of data, on which ground, how long."""
    special = special_data(policy, catalogue)
    found: set[Flow] = set()
    for rule in policy.rules:
        categories = _categories(special, rule)
        retention = retention_text(rule)
        for org in reached(policy, rule.recipients):
            for category in categories:
                for ground in rule.receiving or ("(geen)",):
                    found.add(Flow(org.id, category, ground, retention))
    return found


def diff(old: Policy, new: Policy, catalogue: Catalogue) -> PolicyDiff:
    before, after = {r.id: r for r in old.rules}, {r.id: r for r in new.rules}
    rules = [RuleChange(i, "added") for i in sorted(after.keys() - before.keys())]
    rules += [RuleChange(i, "removed") for i in sorted(before.keys() - after.keys())]
    rules += [
        RuleChange(i, "changed")
        for i in sorted(before.keys() & after.keys())
        if _canonical(before[i]) != _canonical(after[i])
    ]
    old_cells, new_cells = cells(old), cells(new)
    changes = [
        _cell_change(new, cell, new_cells[cell], "gained")
        for cell in sorted(new_cells.keys() - old_cells.keys())
    ] + [
        _cell_change(old, cell, old_cells[cell], "lost")
        for cell in sorted(old_cells.keys() - new_cells.keys())
    ]
    changes += [
        _cell_change(new, cell, new_cells[cell], "changed", was=old_cells[cell])
        for cell in sorted(old_cells.keys() & new_cells.keys())
        if {r.id for r in old_cells[cell]} != {r.id for r in new_cells[cell]}
    ]
    old_flows, new_flows = flows(old, catalogue), flows(new, catalogue)
    return PolicyDiff(
        tuple(rules),
        tuple(changes),
        tuple(sorted(new_flows - old_flows)),
        tuple(sorted(old_flows - new_flows)),
    )


def _cell_change(
    policy: Policy, cell: Cell, rules: Iterable[Rule], change: str, was: Iterable[Rule] = ()
) -> CellChange:
    rules = tuple(rules)
    ids = tuple(r.id for r in rules)
    grounds = tuple(dict.fromkeys(g for r in rules for g in r.receiving))
    org = policy.organisation(cell.organisation)
    name = org.name if org is not None else cell.organisation
    what = (
        f"de kop van {cell.event_type}"
        if cell.field == HEADER
        else f"`{cell.event_type}.{cell.field}`"
    )
    conditions = sorted({str(r.condition) for r in rules if r.condition is not None})
    under = f", alleen onder voorwaarde {', '.join(conditions)}" if conditions else ""
    if change == "gained":
        sentence = (
            f"{name} krijgt er {what} bij op grond van {_regel(ids)} "
            f"(ontvangende grondslag {', '.join(grounds) or 'geen'}){under}."
        )
    elif change == "lost":
        sentence = f"{name} verliest {what} (gaf: {_regel(ids)})."
    else:
        before = tuple(r.id for r in was)
        sentence = (
            f"{name} houdt {what} alleen nog op grond van {_regel(ids)}{under} "
            f"(was: {_regel(before)})."
        )
    return CellChange(cell, change, ids, grounds, sentence)


def _regel(ids: tuple[str, ...]) -> str:
    return ("regel " if len(ids) == 1 else "regels ") + ", ".join(ids)


def _categories(special: Mapping[str, Special], rule: Rule) -> set[str]:
    found: set[str] = set()
    for event_type in rule.event_types:
        known = special.get(event_type)
        if known is None:
            continue
        found |= {str(c) for c in known.header}
        for name in rule.fields:
            found |= {str(c) for c in known.fields.get(name, frozenset())}
    return found or {ORDINARY}


def retention_text(rule: Rule) -> str:
    """A rule's retention term in Dutch, as the DPIA and the data-subject report say it."""
    r = rule.retention
    parts = [f"{r.years} jaar"] if r.years else []
    parts += [f"{r.months} maanden"] if r.months else []
    return f"{' '.join(parts)} vanaf {r.counted_from}"


def _canonical(rule: Rule) -> bytes:
    return canonical_json(rule.model_dump(mode="json"))
