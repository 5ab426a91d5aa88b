"""The legal lint: a policy that shares unlawfully is refused, naming rule, field and law.

Each check below reads the typed grounds of a rule against the organisations it can reach
on each side. It reasons per *regime*: a rule's grounds are the same for every recipient,
so it suffices to ask, for each regime among the organisations a rule can reach, whether the
rule names a ground of that regime. Which organisations a rule can reach is read statically:
the named organisations, every organisation with a named role, and every organisation whose
roles let it hold a named case role. The checks, with the law behind each:

- an agreement named as a ground, or a rule that rests on agreements only: a convenant is
  not a ground (AVG art. 6 lid 1 lists the grounds; an agreement to share is not among them);
- a side without a ground of the party's regime, in particular AVG grounds for police or OM
  receipt: the police and the OM process under the Wpg and the Wjsg (Richtlijn 2016/680),
  not the AVG;
- special data (named fields, revealing headers, free text) without an art. 9 or 10 ground
  for a party under the AVG (AVG art. 9 lid 1 and art. 10 jo. UAVG art. 22 and 31), or
  without a ground of its own regime that covers it for the police and OM (Wpg art. 5);
- a Wpg or Wjsg providing ground on events the police or OM did not author (Wpg art. 20
  governs provision *by* the police);
- health data authored by a beroepsgeheim holder leaving the treatment relationship without
  a door (art. 7:457 BW), and a toestemming or conflict-van-plichten door without the
  condition that makes the grant rest on it in the case;
- a rule valid before its ground's law is in force, or after it lapses;
- a retention term above the legal maximum of a ground it rests on;
- the BSN granted to an organisation no law lets process it (UAVG art. 46);
- a treatment role that an organisation without a beroepsgeheim could hold (art. 7:457 lid
  2 BW lets only those bound by it share within the treatment).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass

from sharing.policy.catalogue import Catalogue
from sharing.policy.findings import Finding, Path
from sharing.policy.law import Category, Door, Ground, GroundKind, Regime
from sharing.policy.model import ConditionKind, Organisation, Parties, Policy, Rule
from sharing.policy.special import Special, rule_categories, special_data

ART_6 = "AVG art. 6 lid 1"
ART_9 = "AVG art. 9 lid 1 jo. UAVG art. 22"
ART_10 = "AVG art. 10 jo. UAVG art. 31"
RL_680 = "Richtlijn (EU) 2016/680"
WPG_20 = "Wpg art. 20"
WGBO = "art. 7:457 BW"
UAVG_46 = "UAVG art. 46"

_REGIME_LAW = {Regime.avg: "AVG", Regime.wpg: "Wpg", Regime.wjsg: "Wjsg"}
_CATEGORY_LAW = {Category.health: ART_9, Category.criminal: ART_10}
_ART = {Category.health: "an art. 9 (avg-9)", Category.criminal: "an art. 10 (avg-10)"}
_DOOR_CONDITIONS = {
    Door.toestemming: ConditionKind.toestemming,
    Door.conflict_van_plichten: ConditionKind.conflict_van_plichten,
}


def lint_policy(policy: Policy, catalogue: Catalogue) -> list[Finding]:
    """Every legal objection to a policy whose references hold."""
    linter = _Linter(policy, catalogue)
    findings = [*linter.organisations(), *linter.case_roles()]
    for index, rule in enumerate(policy.rules):
        findings += [
            Finding(("rules", index, *path), message, rule.id, law)
            for path, message, law in linter.rule(rule)
        ]
    return findings


Objection = tuple[Path, str, str | None]


@dataclass(frozen=True, slots=True)
class _Side:
    """One side of a flow: its key in the rule, the organisations it can reach, and the
    grounds the rule names for it."""

    key: str
    organisations: tuple[Organisation, ...]
    grounds: tuple[Ground, ...]


class _Linter:
    def __init__(self, policy: Policy, catalogue: Catalogue) -> None:
        self.policy = policy
        self.special: Mapping[str, Special] = special_data(policy, catalogue)
        self.catalogue = catalogue
        self.orgs = policy.organisations

    # ---- what a rule can reach ------------------------------------------------------------

    def reached(self, parties: Parties) -> tuple[Organisation, ...]:
        holdable = set()
        for role_id in parties.case_roles:
            case_role = self.policy.case_role(role_id)
            if case_role is not None:
                holdable |= set(case_role.held_by)
        return tuple(
            o
            for o in self.orgs
            if o.id in parties.organisations
            or not set(o.roles).isdisjoint(parties.roles)
            or not set(o.roles).isdisjoint(holdable)
        )

    def may_write(self, event_types: Iterable[str]) -> tuple[Organisation, ...] | None:
        """Who the authorship section lets write any of the types; None if it is silent."""
        entries = [e for e in self.policy.authorship if set(e.event_types) & set(event_types)]
        if not entries:
            return None
        ids = {o.id for entry in entries for o in self.reached(entry.authors)}
        return tuple(o for o in self.orgs if o.id in ids)

    def authors(self, rule: Rule) -> tuple[Organisation, ...]:
        named = self.reached(rule.authors) if rule.authors is not None else self.orgs
        allowed = self.may_write(rule.event_types)
        if allowed is None:
            return named
        return tuple(o for o in named if o in allowed)

    def grounds(self, ids: Iterable[str]) -> tuple[Ground, ...]:
        return tuple(g for g in (self.policy.ground(i) for i in ids) if g is not None)

    # ---- organisations and case roles --------------------------------------------------

    def organisations(self) -> Iterator[Finding]:
        for index, org in enumerate(self.orgs):
            ground = self.policy.ground(org.bsn) if org.bsn else None
            if ground is not None and ground.kind is not GroundKind.sectoral:
                yield Finding(
                    ("organisations", index, "bsn"),
                    f"{org.id} may process the BSN only where a law allows it ({UAVG_46}), "
                    f"and {ground.id!r} is a ground of kind {ground.kind}, not a law",
                    law=UAVG_46,
                )

    def case_roles(self) -> Iterator[Finding]:
        for index, case_role in enumerate(self.policy.case_roles):
            if not case_role.treatment:
                continue
            outside = [
                o.id
                for o in self.orgs
                if o.beroepsgeheim is None and not set(o.roles).isdisjoint(case_role.held_by)
            ]
            if outside:
                yield Finding(
                    ("case_roles", index, "held_by"),
                    f"treatment role {case_role.id!r} could be held by {', '.join(outside)}, "
                    "which hold no beroepsgeheim: only professionals bound by it share within "
                    f"the treatment relationship ({WGBO} lid 2)",
                    law=f"{WGBO} lid 2",
                )

    # ---- rules -----------------------------------------------------------------------

    def rule(self, rule: Rule) -> Iterator[Objection]:
        authors = self.authors(rule)
        if rule.authors is not None and not authors:
            yield (
                ("authors",),
                "no organisation the rule names as author may write "
                f"{', '.join(rule.event_types)} (see authorship)",
                None,
            )
        sides = (
            _Side("providing", authors, self.grounds(rule.providing)),
            _Side("receiving", self.reached(rule.recipients), self.grounds(rule.receiving)),
        )
        special = rule_categories(self.special, rule)
        yield from self.agreements(rule)
        for side in sides:
            yield from self.basis(rule, side)
            yield from self.special_data(rule, side, special)
        yield from self.regime_law_authors(rule, sides[0])
        yield from self.beroepsgeheim(rule, authors, special)
        yield from self.doors(rule)
        yield from self.in_force(rule)
        yield from self.retention(rule)
        yield from self.bsn(rule, sides[1].organisations)

    def agreements(self, rule: Rule) -> Iterator[Objection]:
        for key in ("providing", "receiving"):
            ids: tuple[str, ...] = getattr(rule, key)
            for index, ground_id in enumerate(ids):
                agreement = self.policy.agreement(ground_id)
                if agreement is not None:
                    yield (
                        (key, index),
                        f"{ground_id!r} is an agreement ({agreement.kind}), not a legal ground: "
                        f"an agreement to share does not make sharing lawful ({ART_6}); list it "
                        "under agreements",
                        ART_6,
                    )
        if rule.agreements and not self.grounds((*rule.providing, *rule.receiving)):
            yield (
                ("agreements",),
                f"the rule rests on {', '.join(rule.agreements)} only: an agreement is never a "
                f"legal ground ({ART_6})",
                ART_6,
            )

    def basis(self, rule: Rule, side: _Side) -> Iterator[Objection]:
        for regime, orgs in _by_regime(side.organisations).items():
            own = [g for g in side.grounds if g.is_basis and g.regime is regime]
            if own:
                continue
            law = _REGIME_LAW[regime]
            if regime is Regime.avg:
                yield (
                    (side.key,),
                    f"no {side.key} ground is a basis for {_names(orgs)} ({ART_6}: an avg-6 "
                    "basis or a law); a door or an art. 9/10 exception alone is not one",
                    ART_6,
                )
                continue
            wrong = [g.id for g in side.grounds if g.regime is Regime.avg]
            why = (
                f"AVG grounds ({', '.join(wrong)}) do not serve them"
                if wrong
                else f"no {side.key} ground of the {law} is named"
            )
            yield (
                (side.key,),
                f"{_names(orgs)} {_verb(orgs, 'process')} under the {law}, not the AVG "
                f"({RL_680}): {why}; name a {side.key} ground of the {law}",
                law,
            )

    def special_data(
        self, rule: Rule, side: _Side, special: Mapping[str, frozenset[Category]]
    ) -> Iterator[Objection]:
        needed = frozenset().union(*special.values()) if special else frozenset()
        for regime, orgs in _by_regime(side.organisations).items():
            for category in sorted(needed):
                what = sorted(w for w, cats in special.items() if category in cats)
                if regime is Regime.avg:
                    kind = GroundKind.avg_9 if category is Category.health else GroundKind.avg_10
                    if any(g.kind is kind for g in side.grounds):
                        continue
                    yield (
                        _path_of(rule, what),
                        f"{_listed(what)} {_verb(what, 'reveal')} {category} data: "
                        f"{_names(orgs)} {_verb(orgs, 'need')} {_ART[category]} {side.key} "
                        f"ground ({_CATEGORY_LAW[category]})",
                        _CATEGORY_LAW[category],
                    )
                    continue
                law = _REGIME_LAW[regime]
                if any(g.regime is regime and category in g.categories for g in side.grounds):
                    continue
                yield (
                    _path_of(rule, what),
                    f"{_listed(what)} {_verb(what, 'reveal')} {category} data: "
                    f"{_names(orgs)} {_verb(orgs, 'need')} a {side.key} ground of the {law} "
                    f"that covers it ({'Wpg art. 5' if regime is Regime.wpg else 'Wjsg'})",
                    law,
                )

    def regime_law_authors(self, rule: Rule, providing: _Side) -> Iterator[Objection]:
        for index, ground in enumerate(self.grounds(rule.providing)):
            if ground.regime not in (Regime.wpg, Regime.wjsg):
                continue
            others = [o.id for o in providing.organisations if o.regime is not ground.regime]
            if others or rule.authors is None:
                who = ", ".join(others) if others else "any author"
                yield (
                    ("providing", _index_of(rule.providing, ground.id, index)),
                    f"{ground.id!r} ({ground.reference}) is provision by the "
                    f"{'police' if ground.regime is Regime.wpg else 'OM'} of its own data, but "
                    f"the rule's authors include {who}; restrict authors to organisations "
                    f"of the {ground.law_name} ({WPG_20} is provision *by* the police)",
                    WPG_20 if ground.regime is Regime.wpg else "Wjsg",
                )

    def beroepsgeheim(
        self,
        rule: Rule,
        authors: Iterable[Organisation],
        special: Mapping[str, frozenset[Category]],
    ) -> Iterator[Objection]:
        health = sorted(what for what, cats in special.items() if Category.health in cats)
        if not health or self.within_treatment(rule.recipients):
            return
        if any(g.kind is GroundKind.door for g in self.grounds(rule.providing)):
            return
        bound: dict[str, list[str]] = {}
        for org in authors:
            if org.beroepsgeheim is not None:
                bound.setdefault(org.beroepsgeheim, []).append(org.id)
        for source, orgs in bound.items():
            yield (
                ("providing",),
                f"{_listed(health)} authored by {', '.join(orgs)} {_verb(health, 'leave')} the "
                f"treatment relationship (to {rule.recipients}) without a door through the "
                f"beroepsgeheim ({source}): name a door (toestemming, wettelijke_plicht, "
                "conflict_van_plichten) among the providing grounds",
                WGBO,
            )

    def within_treatment(self, recipients: Parties) -> bool:
        if recipients.roles or recipients.organisations:
            return False
        roles = [self.policy.case_role(r) for r in recipients.case_roles]
        return all(r is not None and r.treatment for r in roles)

    def doors(self, rule: Rule) -> Iterator[Objection]:
        for index, ground_id in enumerate(rule.providing):
            ground = self.policy.ground(ground_id)
            if ground is None or ground.door is None:
                continue
            needed = _DOOR_CONDITIONS.get(ground.door)
            if needed is not None and rule.condition_kind is not needed:
                yield (
                    ("providing", index),
                    f"the door {ground.door} ({ground.id!r}) opens only with `condition: "
                    f"{needed}`: the grant must rest on a {needed} recorded in the case "
                    f"({WGBO})",
                    WGBO,
                )

    def in_force(self, rule: Rule) -> Iterator[Objection]:
        for key in ("providing", "receiving"):
            ids: tuple[str, ...] = getattr(rule, key)
            for index, ground in enumerate(self.grounds(ids)):
                where = (key, _index_of(ids, ground.id, index))
                start, end = ground.in_force_from, ground.in_force_until
                if start is not None and (rule.valid_from is None or rule.valid_from < start):
                    since = f"from {rule.valid_from}" if rule.valid_from else "without a start"
                    yield (
                        where,
                        f"the rule is valid {since}, but {ground.id!r} ({ground.law_name}) is "
                        f"in force only from {start}: set valid_from to {start} or later",
                        ground.law_name,
                    )
                if end is not None and (rule.valid_until is None or rule.valid_until > end):
                    until = f"until {rule.valid_until}" if rule.valid_until else "without an end"
                    yield (
                        where,
                        f"the rule is valid {until}, but {ground.id!r} ({ground.law_name}) "
                        f"lapses after {end}: set valid_until to {end} or earlier",
                        ground.law_name,
                    )

    def retention(self, rule: Rule) -> Iterator[Objection]:
        for ground in self.grounds(rule.grounds):
            limit = ground.max_retention
            if limit is not None and rule.retention.exceeds(limit):
                yield (
                    ("retention",),
                    f"retention {rule.retention} can exceed the legal maximum under "
                    f"{ground.id!r} ({ground.reference}): {limit}",
                    ground.law_name,
                )

    def bsn(self, rule: Rule, recipients: Iterable[Organisation]) -> Iterator[Objection]:
        barred = [o.id for o in recipients if o.bsn is None]
        if not barred:
            return
        for index, field in enumerate(rule.fields):
            for event_type in rule.event_types:
                spec = self.catalogue.get(event_type)
                if spec is not None and field in spec.bsn_fields:
                    yield (
                        ("fields", index),
                        f"grants {event_type}.{field} (a BSN) to {', '.join(barred)}, which no "
                        f"law lets process the BSN ({UAVG_46}); grant it only to organisations "
                        "with a `bsn` ground",
                        UAVG_46,
                    )
                    break


def _by_regime(orgs: Iterable[Organisation]) -> dict[Regime, list[Organisation]]:
    grouped: dict[Regime, list[Organisation]] = {}
    for org in orgs:
        grouped.setdefault(org.regime, []).append(org)
    return grouped


def _names(orgs: Iterable[Organisation]) -> str:
    return ", ".join(o.id for o in orgs)


def _listed(items: list[str]) -> str:
    return ", ".join(items)


def _verb(subjects: Sized, verb: str) -> str:
    """The verb agreeing with one subject or several."""
    if len(subjects) != 1:
        return verb
    return f"{verb}es" if verb.endswith("s") else f"{verb}s"


def _index_of(ids: tuple[str, ...], ground_id: str, default: int) -> int:
    return ids.index(ground_id) if ground_id in ids else default


def _path_of(rule: Rule, what: list[str]) -> Path:
    """The first granted field among `what`, else the event types (a revealing header)."""
    for index, field in enumerate(rule.fields):
        if any(w.endswith(f".{field}") for w in what):
            return ("fields", index)
    return ("event_types",)
