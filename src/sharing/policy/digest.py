"""A policy version's identity: a digest of its canonical content.

Sealed keys record the digest of the policy that granted them, so that a later reader can
tell which version allowed a share. Layout and comments of the YAML, and the order of
lists that are sets (organisations, rules, roles, fields …), do not change the digest;
any change of meaning does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sharing.canonical import canonical_json
from sharing.policy.model import Policy

_SET_KEYS = frozenset(
    {
        "roles",
        "organisations",
        "grounds",
        "agreements",
        "case_roles",
        "held_by",
        "kaders",
        "kader",
        "covers",
        "providing",
        "receiving",
        "rules",
        "event_types",
        "fields",
    }
)


def policy_digest(policy: Policy) -> str:
    """`sha256:<hex>` over the policy's canonical JSON, the same form signatures use, so no
    second notion of "the same content" can drift from the first."""
    canonical = _canonical(policy.model_dump(mode="json"))
    return "sha256:" + hashlib.sha256(canonical_json(canonical)).hexdigest()


def _canonical(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key == "fields":  # special data: field -> categories, a set each
            return {field: sorted(categories) for field, categories in value.items()}
        return {k: _canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        if key in _SET_KEYS:
            return sorted(items, key=canonical_json)
        return items
    return value
