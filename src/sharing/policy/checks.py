"""Whether a well-shaped policy holds together, against itself and the event catalogue.

Each finding carries the path of the offending value inside the document, so the loader
can turn it into a file line; policies built in code get the same checks without lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sharing.policy.catalogue import Catalogue
from sharing.policy.model import Authorship, Policy, Role, Rule

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    message: str
    rule: str | None = None


def check_policy(policy: Policy, catalogue: Catalogue) -> list[Finding]:
    """Every reason the policy cannot be compiled against `catalogue`; empty when sound."""
    findings = [
        *_duplicates("organisations", (o.id for o in policy.organisations), "organisation"),
        *_duplicates("grounds", (g.id for g in policy.grounds), "ground"),
        *_duplicates("rules", (r.id for r in policy.rules), "rule"),
        *_custodian(policy),
        *_special_fields(policy, catalogue),
    ]
    for index, rule in enumerate(policy.rules):
        findings += [
            Finding(("rules", index, *path), message, rule.id)
            for path, message in _rule_problems(policy, catalogue, rule)
        ]
    for index, entry in enumerate(policy.authorship):
        findings += [
            Finding(("authorship", index, *path), message)
            for path, message in _authorship_problems(policy, catalogue, entry)
        ]
    return findings


def _authorship_problems(
    policy: Policy, catalogue: Catalogue, entry: Authorship
) -> Iterator[tuple[Path, str]]:
    yield from _repeats("event_types", entry.event_types, "event type")
    for index, event_type in enumerate(entry.event_types):
        if event_type not in catalogue:
            yield ("event_types", index), _no_event_type(event_type)
    known = {o.id for o in policy.organisations}
    for index, org_id in enumerate(entry.authors.organisations):
        if org_id not in known:
            yield ("authors", "organisations", index), f"unknown organisation {org_id!r}"


def _duplicates(section: str, ids: Iterable[str], kind: str) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            rule = item_id if kind == "rule" else None
            yield Finding((section, index, "id"), f"duplicate {kind} id {item_id!r}", rule)
        seen.add(item_id)


def _custodian(policy: Policy) -> Iterator[Finding]:
    custodian = policy.organisation(policy.custodian)
    if custodian is None:
        yield Finding(
            ("custodian",), f"custodian {policy.custodian!r} is not a listed organisation"
        )
    elif Role.zvh not in custodian.roles:
        yield Finding(("custodian",), f"custodian {policy.custodian!r} does not have the role zvh")


def _special_fields(policy: Policy, catalogue: Catalogue) -> Iterator[Finding]:
    for event_type, fields in policy.special_category_fields.items():
        spec = catalogue.get(event_type)
        if spec is None:
            yield Finding(("special_category_fields", event_type), _no_event_type(event_type))
            continue
        for index, field in enumerate(fields):
            if field not in spec.content_fields:
                path = ("special_category_fields", event_type, index)
                yield Finding(path, f"{event_type} has no content field {field!r}")


def _rule_problems(policy: Policy, catalogue: Catalogue, rule: Rule) -> Iterator[tuple[Path, str]]:
    yield from _event_type_problems(catalogue, rule)
    yield from _recipient_problems(policy, rule)
    yield from _ground_problems(policy, rule)
    if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
        yield (
            ("valid_until",),
            f"valid_until {rule.valid_until} is before valid_from {rule.valid_from}",
        )
    if rule.retention.after not in catalogue:
        yield ("retention", "after"), _no_event_type(rule.retention.after)


def _event_type_problems(catalogue: Catalogue, rule: Rule) -> Iterator[tuple[Path, str]]:
    yield from _repeats("event_types", rule.event_types, "event type")
    yield from _repeats("fields", rule.fields, "field")
    if rule.own_only and not rule.fields:
        yield ("own_only",), "own_only needs at least one owned field"
    for index, event_type in enumerate(rule.event_types):
        spec = catalogue.get(event_type)
        if spec is None:
            yield ("event_types", index), _no_event_type(event_type)
            continue
        for f_index, field in enumerate(rule.fields):
            where = ("fields", f_index)
            if field in spec.control_fields:
                yield (
                    where,
                    (
                        f"{field!r} is a control attribute of {event_type}; it is always in the "
                        "header, list only content fields"
                    ),
                )
            elif field not in spec.content_fields:
                known = ", ".join(sorted(spec.content_fields)) or "none"
                yield where, f"{event_type} has no field {field!r} (content fields: {known})"
            elif rule.own_only and field not in spec.owned_fields:
                yield where, f"own_only on {event_type}.{field}, which is not an owned field"


def _recipient_problems(policy: Policy, rule: Rule) -> Iterator[tuple[Path, str]]:
    yield from _repeats(("recipients", "roles"), rule.recipients.roles, "role")
    yield from _repeats(
        ("recipients", "organisations"), rule.recipients.organisations, "organisation"
    )
    known = {o.id for o in policy.organisations}
    for index, org_id in enumerate(rule.recipients.organisations):
        if org_id not in known:
            yield ("recipients", "organisations", index), f"unknown organisation {org_id!r}"
    held = {role for o in policy.organisations for role in o.roles}
    if not held & set(rule.recipients.roles) and not known & set(rule.recipients.organisations):
        yield (
            ("recipients",),
            "the rule grants no organisation: no listed organisation has its roles",
        )


def _ground_problems(policy: Policy, rule: Rule) -> Iterator[tuple[Path, str]]:
    yield from _repeats("grounds", rule.grounds, "ground")
    grounds = [policy.ground(g) for g in rule.grounds]
    for index, (ground_id, ground) in enumerate(zip(rule.grounds, grounds, strict=True)):
        if ground is None:
            yield ("grounds", index), f"unknown ground {ground_id!r}"
    special = sorted(
        f"{event_type}.{field}"
        for event_type in rule.event_types
        for field in rule.fields
        if policy.is_special(event_type, field)
    )
    if special and not any(g is not None and g.special_category for g in grounds):
        yield (
            ("grounds",),
            (
                f"grants special-category data ({', '.join(special)}) without a ground marked "
                "special_category"
            ),
        )


def _repeats(key: str | Path, values: Iterable[str], kind: str) -> Iterator[tuple[Path, str]]:
    prefix = (key,) if isinstance(key, str) else key
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield (*prefix, index), f"{kind} {value!r} listed twice"
        seen.add(value)


def _no_event_type(event_type: str) -> str:
    return f"unknown event type {event_type!r}"
