"""Rows as dataclasses, mapped to and from columns by their own field list.

A table's columns are its row class's fields, in order (a field may name a column of
another name in its metadata), so a column list is never kept by hand beside the class.
Times are stored as fixed-width UTC text, the one time form in storage: lexical order is
time order on both backends, so SQL can compare them as strings.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import Field, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

Row = TypeVar("Row")
COLUMN = "column"  # field metadata key: the column's name where it differs from the field's


def stamp(moment: datetime) -> str:
    """A time as fixed-width UTC text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unstamp(text: str) -> datetime:
    """The time of a stamp (also of the shorter ISO 8601 forms older rows may hold)."""
    return datetime.fromisoformat(text)


def column_of(field: Field[Any]) -> str:
    return str(field.metadata.get(COLUMN, field.name))


_COLUMNS: dict[type, tuple[str, ...]] = {}
_TIMES: dict[type, frozenset[str]] = {}


def columns(cls: type) -> tuple[str, ...]:
    """The row class's columns, in field order."""
    found = _COLUMNS.get(cls)
    if found is None:
        found = _COLUMNS[cls] = tuple(column_of(f) for f in fields(cls))
    return found


def _time_fields(cls: type) -> frozenset[str]:
    found = _TIMES.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = frozenset(f.name for f in fields(cls) if _is_time(hints[f.name]))
        _TIMES[cls] = found
    return found


def _is_time(hint: Any) -> bool:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_is_time(arg) for arg in typing.get_args(hint))
    return hint is datetime


def values(row: Any) -> tuple[Any, ...]:
    """The row's column values, in `columns` order, times stamped."""
    times = _time_fields(type(row))
    return tuple(
        _stamped(getattr(row, f.name)) if f.name in times else getattr(row, f.name)
        for f in fields(row)
    )


def _stamped(value: datetime | None) -> str | None:
    return None if value is None else stamp(value)


_READS: dict[type, tuple[tuple[str, str, bool], ...]] = {}


def from_row(cls: type[Row], row: Mapping[str, Any]) -> Row:
    """An instance of `cls` from a row read by column name (times unstamped)."""
    reads = _READS.get(cls)
    if reads is None:
        times = _time_fields(cls)
        reads = _READS[cls] = tuple(
            (f.name, column_of(f), f.name in times)
            for f in fields(cls)  # type: ignore[arg-type]
        )
    kwargs = {}
    for name, column, is_time in reads:
        value = row[column]
        kwargs[name] = unstamp(value) if is_time and value is not None else value
    return cls(**kwargs)


def project(cls: type[Row], row: Any) -> Row:
    """An instance of `cls` (a narrower, public view) from the same-named fields of `row`."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]
