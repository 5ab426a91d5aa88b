"""Group commit of read entries: concurrent reads share a commit, each read waits for its
own entries, and a failed commit fails every read that was in it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from casestore.adapters.persistence.audit_group import GroupCommit


class SlowAppend:
    """An append that holds its first commit until released, as a slow fsync would."""

    def __init__(self) -> None:
        self.commits: list[list[dict[str, Any]]] = []
        self.release = threading.Event()
        self.first_started = threading.Event()
        self.fail = False

    def __call__(self, entries: Sequence[dict[str, Any]]) -> None:
        self.first_started.set()
        self.release.wait(5)
        if self.fail:
            raise OSError("disk full")
        self.commits.append(list(entries))


def test_reads_waiting_together_share_one_commit_and_each_waits_for_it() -> None:
    append = SlowAppend()
    group = GroupCommit(append)
    first = group.submit([{"n": 0}])
    assert append.first_started.wait(5)
    # While the first commit is under way, eight more reads queue up.
    pending = [group.submit([{"n": i}]) for i in range(1, 9)]
    done = threading.Event()

    def waiter() -> None:
        pending[-1].wait()
        done.set()

    threading.Thread(target=waiter).start()
    assert not done.wait(0.2)  # nothing returns before its entries are committed
    append.release.set()
    first.wait()
    for p in pending:
        p.wait()
    assert done.wait(5)
    assert [len(c) for c in append.commits] == [1, 8]
    assert [e["n"] for c in append.commits for e in c] == list(range(9))
    group.close()


def test_a_failed_commit_fails_every_read_in_it_and_the_next_ones_still_commit() -> None:
    append = SlowAppend()
    append.fail = True
    group = GroupCommit(append)
    first = group.submit([{"n": 0}])
    assert append.first_started.wait(5)
    second = group.submit([{"n": 1}])
    append.release.set()
    for p in (first, second):
        with pytest.raises(OSError, match="disk full"):
            p.wait()
    append.fail = False
    group.submit([{"n": 2}]).wait()
    assert append.commits == [[{"n": 2}]]
    group.close()


def test_closing_commits_what_is_queued_and_refuses_more() -> None:
    append = SlowAppend()
    append.release.set()
    group = GroupCommit(append)
    queued = group.submit([{"n": 0}])
    group.close()
    queued.wait()
    assert append.commits == [[{"n": 0}]]
    with pytest.raises(RuntimeError):
        group.submit([{"n": 1}])
