"""Sharing policies: who receives which events and fields, on which legal grounds.

A region's policy is a YAML document (see `policies/` and `docs/policy.md`), read with
`load_policy` against the event catalogue, checked for coherence (`checks.py`) and
lawfulness (`lint.py`), and compiled with `compile_policy` into an `AccessMatrix` that
answers, for a case (`CaseContext`: members, case roles, conditions in force) at a moment:

- `decide(org, event_type, case, now, author)`: does this organisation receive the event,
  and which content fields may it read (rules, providing and receiving grounds, agreements,
  purpose, retention, scope, the condition it rested on)?
- `recipients(event_type, case, now, author)`: the inverse, used when sealing;
- `may_author(org, event_type, case)`: may it write the event type here;
- `startdossier(org, past_events, case, now)`: what a partner joining now receives of the
  events before it;
- `explain(org, event_type, field, now, network=case, author=author)`: the same in words,
  with the nearest rule and what it lacks on denial.

Default deny: only members of a case's network receive its events, and only what rules in
force grant; the author of an event always reads it in full.
"""

from sharing.policy.cases import CaseFailure, CaseReport, PolicyCase, run_case_file
from sharing.policy.catalogue import Catalogue, EventTypeSpec, catalogue_from_description
from sharing.policy.context import (
    CaseContext,
    Condition,
    ConflictVanPlichten,
    KaderInForce,
    Toestemming,
)
from sharing.policy.decisions import (
    Basis,
    ConditionUse,
    Decision,
    FieldAccess,
    Recipients,
    RuleGrant,
)
from sharing.policy.digest import policy_digest
from sharing.policy.engine import AccessMatrix, PastEvent, compile_policy
from sharing.policy.explain import Explanation, Nearest, NearestKind
from sharing.policy.findings import Finding
from sharing.policy.law import (
    Agreement,
    AgreementKind,
    Anchor,
    Category,
    Door,
    Ground,
    GroundKind,
    Regime,
    Retention,
)
from sharing.policy.loader import load_policy, parse_policy, validate_policy
from sharing.policy.model import (
    Authorship,
    CaseRole,
    ConditionKind,
    Kader,
    KaderCondition,
    OnJoin,
    OnLeave,
    Organisation,
    Parties,
    Policy,
    Region,
    Role,
    Rule,
    RuleRecipients,
    Scope,
    SpecialData,
)

__all__ = [
    "AccessMatrix",
    "Agreement",
    "AgreementKind",
    "Anchor",
    "Authorship",
    "Basis",
    "CaseContext",
    "CaseFailure",
    "CaseReport",
    "CaseRole",
    "Catalogue",
    "Category",
    "Condition",
    "ConditionKind",
    "ConditionUse",
    "ConflictVanPlichten",
    "Decision",
    "Door",
    "EventTypeSpec",
    "Explanation",
    "FieldAccess",
    "Finding",
    "Ground",
    "GroundKind",
    "Kader",
    "KaderCondition",
    "KaderInForce",
    "Nearest",
    "NearestKind",
    "OnJoin",
    "OnLeave",
    "Organisation",
    "Parties",
    "PastEvent",
    "Policy",
    "PolicyCase",
    "Recipients",
    "Regime",
    "Region",
    "Retention",
    "Role",
    "Rule",
    "RuleGrant",
    "RuleRecipients",
    "Scope",
    "SpecialData",
    "Toestemming",
    "catalogue_from_description",
    "compile_policy",
    "load_policy",
    "parse_policy",
    "policy_digest",
    "run_case_file",
    "validate_policy",
]
