"""Owned fields: a list whose entries each name an owning organisation (a plan's actions),
sealed as one part per owner so a grant limited to "own entries" reaches only that part.

A part is named ``<field>/<owner>`` and its value is that owner's entries, each with its
place in the whole list, as ``[[index, entry], ...]``; docs/provenance.md specifies it, so a
partner puts the list back together the same way with any libsodium.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["PART", "field_of", "parts", "reassemble"]

PART = "/"


def field_of(sealed_name: str) -> tuple[str, str]:
    """(field, owner) of a sealed name; the owner is "" for a field sealed whole."""
    field, _, owner = sealed_name.partition(PART)
    return field, owner


def parts(
    field: str, entries: Sequence[Mapping[str, Any]] | None, owner_key: str
) -> dict[str, list[list[Any]]]:
    """One value per owner of an owned field's entries, keyed by its sealed name."""
    by_owner: dict[str, list[list[Any]]] = {}
    for index, entry in enumerate(entries or []):
        by_owner.setdefault(str(entry[owner_key]), []).append([index, entry])
    return {f"{field}{PART}{owner}": owned for owner, owned in sorted(by_owner.items())}


def reassemble(values: Mapping[str, Any]) -> dict[str, Any]:
    """Field values from the values of sealed names: an owned field's parts, each one
    owner's entries with their original places, are put back into one list in order."""
    result: dict[str, Any] = {}
    found: dict[str, list[Any]] = {}
    for name, value in values.items():
        field, owner = field_of(name)
        if owner:
            found.setdefault(field, []).extend(value)
        else:
            result[field] = value
    for field, entries in found.items():
        result[field] = [entry for _, entry in sorted(entries, key=lambda pair: int(pair[0]))]
    return result
