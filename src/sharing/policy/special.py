"""Which data is special (AVG art. 9 and 10): as the policy states it, and by inference.

Three sources, because the categories are read broadly (CJEU C-184/20, *OT*: data that
reveals health indirectly is health data):

- content fields the policy names, with their categories;
- the header of an event type the policy names: receiving a referral to the
  levensloopaanpak, a level of beveiligd/BIZ or a signalering tells something about the
  person's health or offences even with no content field granted;
- free text, which counts as health and criminal data both unless the policy lists the
  field as not special with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sharing.policy.catalogue import Catalogue
from sharing.policy.law import Category
from sharing.policy.model import Policy, Rule

EVERY_CATEGORY = frozenset(Category)


@dataclass(frozen=True, slots=True)
class Special:
    """What is special in one event type: per source, the categories."""

    header: frozenset[Category]
    fields: Mapping[str, frozenset[Category]]


def special_data(policy: Policy, catalogue: Catalogue) -> dict[str, Special]:
    """Per event type of the catalogue, its special header and fields."""
    result = {}
    for event_type, spec in catalogue.items():
        stated = policy.special_data.get(event_type)
        header = frozenset(stated.header.covers) if stated and stated.header else frozenset()
        named = dict(stated.fields) if stated else {}
        not_special = set(stated.not_special) if stated else set()
        fields = {
            field: frozenset(named[field])
            if field in named
            else EVERY_CATEGORY
            if field in spec.free_text_fields and field not in not_special
            else frozenset()
            for field in spec.content_fields
        }
        result[event_type] = Special(header, fields)
    return result


def categories_of(
    special: Mapping[str, Special], event_types: Iterable[str], fields: Iterable[str]
) -> dict[str, frozenset[Category]]:
    """What a grant of `fields` (and the header) of `event_types` reveals, by what: the key
    is `<type> (header)` or `<type>.<field>`."""
    found: dict[str, frozenset[Category]] = {}
    names = tuple(fields)
    for event_type in event_types:
        known = special.get(event_type)
        if known is None:
            continue
        if known.header:
            found[f"{event_type} (header)"] = known.header
        for name in names:
            if categories := known.fields.get(name, frozenset()):
                found[f"{event_type}.{name}"] = categories
    return found


def rule_categories(special: Mapping[str, Special], rule: Rule) -> dict[str, frozenset[Category]]:
    return categories_of(special, rule.event_types, rule.fields)
