"""Sharing policies: who receives which events and fields, on which legal grounds.

A region's policy is a YAML document (see `policies/`), read with `load_policy` against the
event catalogue and compiled with `compile_policy` into an `AccessMatrix` that answers,
for a moment `now`:

- `decide(org, event_type, network, now, author)`: does this organisation receive the
  event, and which content fields may it read (rules, grounds, purpose, retention, scope)?
- `recipients(event_type, network, now, author)`: the inverse, used when sealing;
- `explain(org, event_type, field, now)`: the same in words, with the nearest rule on denial.

Default deny: only members of a case's network receive its events, and only what rules in
force grant; the author of an event always reads it in full.
"""

from sharing.policy.cases import CaseFailure, CaseReport, PolicyCase, run_case_file
from sharing.policy.catalogue import Catalogue, EventTypeSpec, catalogue_from_description
from sharing.policy.decisions import Basis, Decision, FieldAccess, Recipients, RuleGrant
from sharing.policy.digest import policy_digest
from sharing.policy.engine import AccessMatrix, compile_policy
from sharing.policy.explain import Explanation, Nearest, NearestKind
from sharing.policy.loader import load_policy, parse_policy, validate_policy
from sharing.policy.model import (
    Authorship,
    Ground,
    Organisation,
    Policy,
    Region,
    Retention,
    Role,
    Rule,
    RuleRecipients,
    Scope,
)

__all__ = [
    "AccessMatrix",
    "Authorship",
    "Basis",
    "CaseFailure",
    "CaseReport",
    "Catalogue",
    "Decision",
    "EventTypeSpec",
    "Explanation",
    "FieldAccess",
    "Ground",
    "Nearest",
    "NearestKind",
    "Organisation",
    "Policy",
    "PolicyCase",
    "Recipients",
    "Region",
    "Retention",
    "Role",
    "Rule",
    "RuleGrant",
    "RuleRecipients",
    "Scope",
    "catalogue_from_description",
    "compile_policy",
    "load_policy",
    "parse_policy",
    "policy_digest",
    "run_case_file",
    "validate_policy",
]
