"""Group commit for the audit entries of reads.

A read may answer only once its entry is durable, and a durable commit (an fsync) costs
about as much as serving a feed page. One writer thread chains the entries of every read
waiting at that moment in a single transaction, so concurrent reads share one commit,
and a read hands its entries over as soon as it knows them and finishes building its
answer while they are written: it waits for the commit only at the end. Each read still
learns whether its own entries were chained — a failed commit fails every read in it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

Entries = Sequence[dict[str, Any]]


class Pending:
    """Entries on their way into the trail."""

    def __init__(self, future: Future[None] | None = None) -> None:
        self._future = future

    def wait(self) -> None:
        """Return once the entries are committed; raise what stopped them."""
        if self._future is not None:
            self._future.result()


DONE = Pending()


class GroupCommit:
    def __init__(self, append: Callable[[Entries], None], name: str = "audit-group-commit"):
        self._append = append  # chains entries in one transaction of its own
        self._name = name
        self._queue: list[tuple[Entries, Future[None]]] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    def submit(self, entries: Entries) -> Pending:
        future: Future[None] = Future()
        with self._ready:
            if self._closing:
                raise RuntimeError("the audit trail is closed")
            self._queue.append((entries, future))
            # Started on first use, and again in a process forked after it ran.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._ready.notify()
        return Pending(future)

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        with self._ready:
            self._closing = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
            try:
                self._append([entry for entries, _ in batch for entry in entries])
            except BaseException as exc:  # every waiting read gets it
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for _, future in batch:
                    future.set_result(None)
