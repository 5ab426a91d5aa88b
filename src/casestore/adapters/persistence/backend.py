"""What differs between SQLite and PostgreSQL, behind one object.

Tables talk to a `Backend`, never to a datastore class: how a statement is written
(parameter style, qualified table names), how it runs (a transaction, or a cursor for
one read), and what the database can tell other processes. PostgreSQL pushes: saves
NOTIFY the live feeds and revocations are broadcast to every API process's client cache.
SQLite has no push: other processes poll, and no process may cache clients. Each case
recorder hands out the backend of its own datastore, so nothing else asks which kind of
database it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol
from uuid import UUID

from casestore.adapters.token_cache import TokenCache
from casestore.adapters.wakeup import OnRevoked, OnSaved, Wakeup

INSERT_CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit


class Cursor(Protocol):
    def execute(self, query: Any, params: Any = ...) -> Any: ...
    def executemany(self, query: Any, params_seq: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...


class Backend(ABC):
    broadcasts_revocations = False
    """Whether other processes learn of a revoked client (and so may cache clients)."""
    commits_off_thread = True
    """Whether a read's audit entries are worth committing by a writer thread while the read
    goes on: where a commit waits on the server's disk (PostgreSQL), the wait overlaps the
    read and concurrent reads share it; where the commit is the process's own work under
    the interpreter lock (SQLite in-process), handing it over costs more than it saves."""

    # ---- how a statement is written ------------------------------------------------------

    @abstractmethod
    def table(self, name: str) -> str:
        """The qualified name of the table `casestore_<name>`."""

    def sql(self, statement: str) -> str:
        """A statement written with %s placeholders, in this database's parameter style."""
        return statement

    # ---- how it runs -----------------------------------------------------------------------

    @abstractmethod
    def transaction(self, *, commit: bool) -> AbstractContextManager[Cursor]:
        """A cursor inside a transaction, committed on leaving when `commit`."""

    def reading(self) -> AbstractContextManager[Cursor]:
        """A cursor for one read."""
        return self.transaction(commit=False)

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self.reading() as cursor:
            cursor.execute(self.sql(statement), tuple(params))
            return cursor.fetchone()

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.reading() as cursor:
            cursor.execute(self.sql(statement), tuple(params))
            return list(cursor.fetchall())

    def write(self, statement: str, params: Sequence[Any] = ()) -> None:
        """One statement in a transaction of its own."""
        with self.transaction(commit=True) as cursor:
            cursor.execute(self.sql(statement), tuple(params))

    def insert(
        self,
        cursor: Cursor,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Multi-row INSERTs of `rows` into `casestore_<table>`, inside `cursor`'s
        transaction."""
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            cursor.execute(
                self.sql(
                    f"INSERT INTO {self.table(table)} ({', '.join(columns)}) VALUES "
                    + ", ".join([placeholders] * len(chunk))
                ),
                [value for row in chunk for value in row],
            )

    def chain_audit(self, cursor: Cursor | None, prepared: Sequence[Any]) -> bool:
        """Chain prepared audit rows (casestore.adapters.persistence.audit_table.prepare)
        in the database itself, inside `cursor`'s transaction or as one statement of its
        own; False where it cannot, and the table chains them."""
        return False

    @abstractmethod
    def library_table(self, name: str) -> str:
        """The qualified name of one of the event library's own tables (`stored_events`)."""

    def originator(self, originator_id: UUID) -> Any:
        """An aggregate id as the library's tables hold it, for a statement's parameter."""
        return originator_id

    # ---- destroying for real --------------------------------------------------------------

    @abstractmethod
    def erase_freed(self, tables: Sequence[str]) -> None:
        """Make what was deleted from `casestore_<table>` unrecoverable from the database
        files: no old row version, page or log record may still hold it."""

    # ---- its schema (casestore.adapters.persistence.migrations) --------------------------

    dialect: str
    """The folder of this database's migrations: `sqlite` or `postgres`."""

    events_table: str
    """The library's events table, whose presence marks a store made before migrations."""

    @abstractmethod
    def has_table(self, name: str, *, own: bool = True) -> bool:
        """Whether `casestore_<name>` (or, with `own=False`, the table `name`) exists."""

    @abstractmethod
    def migrating(self) -> AbstractContextManager[Cursor]:
        """A transaction for one migration: it holds the store's migration lock (other
        processes wait), unqualified names resolve in the store's schema, and it commits
        on leaving."""

    def script(self, sql: str) -> list[str]:
        """A migration file as the statements to execute."""
        return [sql]

    def schema_changed(self) -> None:  # noqa: B027
        """Pick up what migrations created that connections cache (types)."""

    # ---- when it cannot serve ---------------------------------------------------------------

    def unavailable(self, exc: BaseException) -> bool:
        """Whether `exc` means the database cannot serve just now (down, restarting, out of
        connections, locked), so the caller should come back later: no fault of its own,
        nor a bug."""
        return False

    # ---- what other processes learn ------------------------------------------------------

    def in_commit_order(self, cursor: Cursor, table: str) -> None:  # noqa: B027
        """Make the numbers that `casestore_<table>` hands out in this transaction commit
        in order, and wake the live feeds on its commit (nothing to do where writes are
        serialised and every feed polls)."""

    def announce_revocation(self, cursor: Cursor, client_id: str) -> None:  # noqa: B027
        """Tell every process, inside the revoking transaction, to drop a cached client
        (nothing to do where no process caches clients)."""

    @abstractmethod
    def wakeup(
        self,
        on_saved: OnSaved,
        max_position: Callable[[], int],
        tokens: TokenCache[Any] | None = None,
        on_revoked: OnRevoked | None = None,
    ) -> Wakeup:
        """The live feeds' wakeup for this database (not started); on PostgreSQL it also
        keeps `tokens` honest and tells `on_revoked` of every revocation broadcast."""
