"""Whether a well-shaped policy holds together, against itself and the event catalogue.

Each finding carries the path of the offending value inside the document, so the loader
can turn it into a file line; policies built in code get the same checks without lines.
Whether the policy is *lawful* is the legal lint's question (`lint.py`), asked once the
references hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sharing.policy.catalogue import Catalogue
from sharing.policy.findings import Finding, Path
from sharing.policy.lint import lint_policy
from sharing.policy.model import Authorship, Parties, Policy, Role, Rule

__all__ = ["Finding", "check_policy"]


def check_policy(policy: Policy, catalogue: Catalogue) -> list[Finding]:
    """Every reason the policy cannot be compiled against `catalogue`; empty when sound.
    The legal lint runs once the references hold, as it reasons over them."""
    findings = structural_problems(policy, catalogue)
    return findings or lint_policy(policy, catalogue)


def structural_problems(policy: Policy, catalogue: Catalogue) -> list[Finding]:
    findings = [
        *_duplicates("organisations", (o.id for o in policy.organisations), "organisation"),
        *_duplicates("grounds", (g.id for g in policy.grounds), "ground"),
        *_duplicates("agreements", (a.id for a in policy.agreements), "agreement"),
        *_duplicates("case_roles", (r.id for r in policy.case_roles), "case role"),
        *_duplicates("kaders", (k.id for k in policy.kaders), "kader"),
        *_duplicates("rules", (r.id for r in policy.rules), "rule"),
        *_grounds_and_agreements_apart(policy),
        *_custodian(policy),
        *_organisations(policy),
        *_case_roles(policy),
        *_special_data(policy, catalogue),
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
    yield from _parties_problems(policy, "authors", entry.authors)


def _duplicates(section: str, ids: Iterable[str], kind: str) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            rule = item_id if kind == "rule" else None
            yield Finding((section, index, "id"), f"duplicate {kind} id {item_id!r}", rule)
        seen.add(item_id)


def _grounds_and_agreements_apart(policy: Policy) -> Iterator[Finding]:
    grounds = {g.id for g in policy.grounds}
    for index, agreement in enumerate(policy.agreements):
        if agreement.id in grounds:
            yield Finding(
                ("agreements", index, "id"),
                f"{agreement.id!r} is both a ground and an agreement; give them distinct ids",
            )


def _custodian(policy: Policy) -> Iterator[Finding]:
    custodian = policy.organisation(policy.custodian)
    if custodian is None:
        yield Finding(
            ("custodian",), f"custodian {policy.custodian!r} is not a listed organisation"
        )
    elif Role.zvh not in custodian.roles:
        yield Finding(("custodian",), f"custodian {policy.custodian!r} does not have the role zvh")


def _organisations(policy: Policy) -> Iterator[Finding]:
    for index, org in enumerate(policy.organisations):
        if org.bsn is not None and policy.ground(org.bsn) is None:
            yield Finding(("organisations", index, "bsn"), f"unknown ground {org.bsn!r}")


def _case_roles(policy: Policy) -> Iterator[Finding]:
    held = {role for org in policy.organisations for role in org.roles}
    for index, case_role in enumerate(policy.case_roles):
        yield from (
            Finding(("case_roles", index, *path), message)
            for path, message in _repeats("held_by", case_role.held_by, "role")
        )
        if not held & set(case_role.held_by):
            yield Finding(
                ("case_roles", index, "held_by"),
                f"no listed organisation can hold case role {case_role.id!r}: none has one of "
                f"the roles {', '.join(case_role.held_by)}",
            )


def _special_data(policy: Policy, catalogue: Catalogue) -> Iterator[Finding]:
    for event_type, stated in policy.special_data.items():
        spec = catalogue.get(event_type)
        if spec is None:
            yield Finding(("special_data", event_type), _no_event_type(event_type))
            continue
        for field in stated.fields:
            if field not in spec.content_fields:
                path = ("special_data", event_type, "fields", field)
                yield Finding(path, f"{event_type} has no content field {field!r}")
        for field in stated.not_special:
            path = ("special_data", event_type, "not_special", field)
            if field not in spec.free_text_fields:
                yield Finding(
                    path,
                    f"{event_type}.{field} is not a free-text field; only free text is special "
                    "by default, so only free text needs to be listed as not special",
                )
            elif field in stated.fields:
                yield Finding(path, f"{event_type}.{field} is listed both special and not")


def _rule_problems(policy: Policy, catalogue: Catalogue, rule: Rule) -> Iterator[tuple[Path, str]]:
    yield from _event_type_problems(catalogue, rule)
    yield from _parties_problems(policy, "recipients", rule.recipients)
    if rule.authors is not None:
        yield from _parties_problems(policy, "authors", rule.authors)
    yield from _reference_problems(policy, rule)
    if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
        yield (
            ("valid_until",),
            f"valid_until {rule.valid_until} is before valid_from {rule.valid_from}",
        )


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


def _parties_problems(policy: Policy, key: str, parties: Parties) -> Iterator[tuple[Path, str]]:
    yield from _repeats((key, "case_roles"), parties.case_roles, "case role")
    yield from _repeats((key, "roles"), parties.roles, "role")
    yield from _repeats((key, "organisations"), parties.organisations, "organisation")
    known = {o.id for o in policy.organisations}
    for index, org_id in enumerate(parties.organisations):
        if org_id not in known:
            yield (key, "organisations", index), f"unknown organisation {org_id!r}"
    for index, role_id in enumerate(parties.case_roles):
        if policy.case_role(role_id) is None:
            yield (key, "case_roles", index), f"unknown case role {role_id!r}"
    held = {role for o in policy.organisations for role in o.roles}
    can_hold = {role.id for role in policy.case_roles if held & set(role.held_by)} & set(
        parties.case_roles
    )
    if not held & set(parties.roles) and not known & set(parties.organisations) and not can_hold:
        who = "grants no organisation" if key == "recipients" else "names no author"
        yield (key,), f"the rule {who}: no listed organisation has its roles or case roles"


def _reference_problems(policy: Policy, rule: Rule) -> Iterator[tuple[Path, str]]:
    agreements = {a.id for a in policy.agreements}
    for side in ("providing", "receiving"):
        ids: tuple[str, ...] = getattr(rule, side)
        yield from _repeats(side, ids, "ground")
        for index, ground_id in enumerate(ids):
            if policy.ground(ground_id) is None and ground_id not in agreements:
                yield (side, index), f"unknown ground {ground_id!r}"
    yield from _repeats("agreements", rule.agreements, "agreement")
    for index, agreement_id in enumerate(rule.agreements):
        if agreement_id not in agreements:
            kind = "a ground, not an agreement" if policy.ground(agreement_id) else "unknown"
            yield ("agreements", index), f"agreement {agreement_id!r} is {kind}"
    kaders = {k.id for k in policy.kaders}
    condition = rule.condition
    if condition is not None and not isinstance(condition, str):
        for index, kader in enumerate(condition.kader):
            if kader not in kaders:
                yield ("condition", "kader", index), f"unknown kader {kader!r}"


def _repeats(key: str | Path, values: Iterable[str], kind: str) -> Iterator[tuple[Path, str]]:
    prefix = (key,) if isinstance(key, str) else key
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield (*prefix, index), f"{kind} {value!r} listed twice"
        seen.add(value)


def _no_event_type(event_type: str) -> str:
    return f"unknown event type {event_type!r}"
