"""The eventsourcing hooks casestore overrides, pinned to the library code they were read
against: if an upgrade changes one of them, this fails and the override must be re-read.

Overrides: `CaseStore._notify` and `CaseStore._take_snapshots` (called by `save`),
`CaseSQLiteRecorder._insert_events` and `CasePostgresRecorder.insert_events`; the SQLite
pool's `_create_connection`, wrapped so every connection deletes securely; and the
PostgreSQL recorder's reads, which call the library's without its retry decorator.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnectionPool

CHECKED_AGAINST = "9.5.6"
PINNED: dict[str, tuple[Callable[..., Any], str]] = {
    "Application.save": (Application.save, "4e9747d14b8fd046"),
    "Application._take_snapshots": (Application._take_snapshots, "ae98c5b97ed9a8e3"),
    "Application._notify": (Application._notify, "6b32f9fc4b4cf455"),
    "SQLiteApplicationRecorder._insert_events": (
        SQLiteApplicationRecorder._insert_events,
        "413cdf219c7bae63",
    ),
    "SQLiteConnectionPool._create_connection": (
        SQLiteConnectionPool._create_connection,
        "4635cb356e9ae4ec",
    ),
    "PostgresApplicationRecorder.insert_events": (
        PostgresApplicationRecorder.insert_events,
        "f1a98da0239e3ea7",
    ),
}


def fingerprint(function: Callable[..., Any]) -> str:
    source = inspect.getsource(inspect.unwrap(function))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_an_overridden_library_hook_is_the_code_it_was_checked_against(name: str) -> None:
    function, expected = PINNED[name]
    assert fingerprint(function) == expected, (
        f"{name} changed in eventsourcing {version('eventsourcing')} (checked against "
        f"{CHECKED_AGAINST}): re-read it and the casestore override, then update this pin"
    )


@pytest.mark.parametrize("name", ["select_events", "select_notifications", "max_notification_id"])
def test_the_library_reads_casestore_calls_without_their_retries_carry_a_retry_to_remove(
    name: str,
) -> None:
    # CasePostgresRecorder calls these unwrapped, and tries once more itself: if the library
    # stopped wrapping them, the unwrapped read would be the retrying one again.
    method = getattr(PostgresApplicationRecorder, name)
    assert inspect.unwrap(method) is not method
    assert "retry" in method.__code__.co_name
