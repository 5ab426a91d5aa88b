"""Owned fields: a list whose entries each name an owning organisation (a plan's actions),
sealed as one part per owner so a grant limited to "own entries" reaches only that part.

A part is named ``<field>/<owner>`` and holds that owner's entries, each with its place
in the whole list, as ``[[index, entry], ...]`` in canonical JSON; docs/envelope.md
specifies it, so a partner puts the list back together the same way with any libsodium.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sharing.canonical import canonical_json

__all__ = ["PART", "field_of", "parts", "reassemble"]

PART = "/"


def field_of(sealed_name: str) -> tuple[str, str]:
    """(field, owner) of a sealed name; the owner is "" for a field sealed whole."""
    field, _, owner = sealed_name.partition(PART)
    return field, owner


def parts(
    field: str, entries: Sequence[Mapping[str, Any]] | None, owner_key: str
) -> dict[str, bytes]:
    """One plaintext per owner of an owned field's entries, keyed by its sealed name."""
    by_owner: dict[str, list[Any]] = {}
    for index, entry in enumerate(entries or []):
        by_owner.setdefault(str(entry[owner_key]), []).append([index, entry])
    return {
        f"{field}{PART}{owner}": canonical_json(owned) for owner, owned in sorted(by_owner.items())
    }


def reassemble(opened: Mapping[str, bytes]) -> dict[str, Any]:
    """Field values from opened plaintexts: an owned field's parts, each one owner's
    entries with their original places, are put back into one list in order."""
    values: dict[str, Any] = {}
    found: dict[str, list[Any]] = {}
    for name, plaintext in opened.items():
        field, owner = field_of(name)
        if owner:
            found.setdefault(field, []).extend(json.loads(plaintext))
        else:
            values[field] = json.loads(plaintext)
    for field, entries in found.items():
        values[field] = [entry for _, entry in sorted(entries, key=lambda pair: int(pair[0]))]
    return values
