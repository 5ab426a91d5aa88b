"""Schema migrations: a store written before migrations existed upgrades and reads every
event back; a migrated store has exactly that schema; a process refuses a schema it
cannot serve, in one line; and the library's `class_version` upcasts an old payload.

The stores under data/ were written by casestore 0.1.0 (`casestore demo`, every event
type) and dumped as SQL: `sqlite3 .dump`, and `pg_dump --inserts` of one schema with its
name replaced by __SCHEMA__.
"""

from __future__ import annotations

import gzip
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import _topic_cache, register_topic
from psycopg import sql

from casestore.adapters.persistence.migrations import SERVES_FROM, Schema, SchemaError, migrations
from casestore.adapters.persistence.postgres import COLUMNS
from casestore.bootstrap import build, open_schema, prepare
from casestore.domain.case import Case
from casestore.settings import Settings
from tests.factories import POSTGRES_URL, ZVH, Clock, open_case

DATA = Path(__file__).parent / "data"
MIGRATIONS = Path(__file__).resolve().parents[2] / "src/casestore/adapters/persistence/migrations"


def restore_previous_release(database_url: str) -> None:
    """Load the 0.1.0 store into the (empty) database `database_url` names."""
    if database_url.startswith("sqlite:///"):
        script = gzip.decompress((DATA / "store-0.1.0.sqlite.sql.gz").read_bytes()).decode()
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            conn.executescript(script)
        return
    schema = database_url.split("schema=")[1]
    script = gzip.decompress((DATA / "store-0.1.0.postgres.sql.gz").read_bytes()).decode()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(script.replace("__SCHEMA__", schema).encode())


def raw_events(database_url: str) -> list[tuple[str, int, str]]:
    """(originator id, version, topic) of every stored event, read without the library."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(
                "SELECT originator_id, originator_version, topic FROM stored_events"
            ).fetchall()
        return sorted((str(UUID(r[0])), r[1], r[2]) for r in rows)
    schema = database_url.split("schema=")[1]
    with psycopg.connect(POSTGRES_URL) as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT originator_id, originator_version, topic FROM {}.casestore_events"
            ).format(sql.Identifier(schema))
        ).fetchall()
    return sorted((str(r[0]), r[1], r[2]) for r in rows)


def catalogue(database_url: str) -> dict[str, Any]:
    """The schema as the database describes it: tables, columns, indexes, functions."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                "AND name != 'casestore_schema_version'"
            ).fetchall()
        return {
            name: (kind, " ".join(text.replace("IF NOT EXISTS ", "").split()))
            for kind, name, text in rows
        }
    schema = database_url.split("schema=")[1]
    queries = {
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name != 'casestore_schema_version'",
        "indexes": "SELECT indexname, replace(indexdef, %s, 'S') FROM pg_indexes "
        "WHERE schemaname = %s AND tablename != 'casestore_schema_version'",
        "functions": "SELECT p.proname, pg_get_function_identity_arguments(p.oid) "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s",
        "types": "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = %s AND t.typtype = 'c' AND t.typrelid IN "
        "(SELECT oid FROM pg_class WHERE relkind = 'c')",
        "options": "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
    }
    found: dict[str, Any] = {}
    with psycopg.connect(POSTGRES_URL) as conn:
        for name, query in queries.items():
            params = (f'"{schema}".', schema) if name == "indexes" else (schema,)
            rows = conn.execute(query, params).fetchall()
            text = {tuple(str(v).replace(schema, "S") for v in row) for row in rows}
            found[name] = sorted(r for r in text if "casestore_schema_version" not in r[0])
    return found


def settings_for(database_url: str, tmp_path: Path, **changes: Any) -> Settings:
    return Settings(
        demo=True,
        var_dir=tmp_path / "var",
        database_url=database_url,
        require_signatures=False,
        **changes,
    )


def test_both_backends_have_the_same_numbered_migrations() -> None:
    sqlite_steps = [(m.version, m.name) for m in migrations("sqlite")]
    postgres_steps = [(m.version, m.name) for m in migrations("postgres")]
    assert sqlite_steps == postgres_steps
    assert sqlite_steps[0] == (1, "initial")
    assert 1 <= SERVES_FROM <= len(sqlite_steps)


def test_the_save_function_reads_every_column_of_the_side_tables() -> None:
    """The save's JSON argument is keyed by the row classes' columns: a column added to a
    row class needs a migration that changes the function too."""
    sql_text = "".join(
        (MIGRATIONS / "postgres" / f"{m.version:04d}_{m.name}.sql").read_text()
        for m in migrations("postgres")
    )
    declared = {
        table: tuple(c.split()[0] for c in cols.split(", "))
        for table, cols in re.findall(r"side->'(\w+)'\) AS x\(([^)]*)\)", sql_text)
    }
    assert declared == COLUMNS


def test_a_store_from_before_migrations_upgrades_and_reads_every_event_back(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    restore_previous_release(database_url)
    stored = raw_events(database_url)
    assert len(stored) == 36
    with open_schema(settings_for(database_url, tmp_path)) as schema:
        before = schema.status()
        assert (before.version, before.legacy) == (0, True)
        with pytest.raises(SchemaError, match="casestore db migrate"):
            before.check()
        schema.migrate()
        assert schema.check().version == schema.latest

    services = build(settings_for(database_url, tmp_path), clock=clock)
    try:
        store = services.store
        read = sorted(
            (str(e.originator_id), e.originator_version, cast(Any, type(e)).TOPIC)
            for e in (
                n
                for originator in {UUID(s[0]) for s in stored}
                for n in store.events.get(originator)
            )
        )
        assert read == stored  # every event, person streams included, decodes
        case_events = list(store.iter_events())
        assert len(case_events) == sum(1 for s in stored if s[2].startswith("casestore.case."))
        assert {type(e.event).TOPIC for e in case_events} >= {
            "casestore.case.aanmelding",
            "casestore.case.uitstroom",
        }
        for case_id in {e.case_id for e in case_events}:
            assert isinstance(store.case(case_id), Case)
            # Recorded before signed disclosures: still read, as format-1 events (opening
            # them needs the keys of the store that sealed them: tests/unit/test_legacy_events).
            for event in services.disclosure.read_case(ZVH, case_id):
                assert event.author_document is None and event.submission_id is None
                assert event.sealed and event.grants, event.event_type
        assert all(not e.event.is_disclosed for e in case_events)
        opened = open_case(store)
        assert opened.position == len(stored) + 1  # positions go on after the last
        assert store.history(opened.case_id)[0].is_disclosed
    finally:
        services.close()


@contextmanager
def another_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty store on the same backend."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'another.sqlite3'}"
        return
    schema = f"t_{uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def test_a_migrated_store_has_exactly_the_schema_of_the_previous_release(
    database_url: str, tmp_path: Path
) -> None:
    restore_previous_release(database_url)
    with another_store(database_url, tmp_path) as fresh:
        for url in (database_url, fresh):
            with open_schema(settings_for(url, tmp_path)) as schema:
                schema.migrate()
        assert catalogue(fresh) == catalogue(database_url)


def test_a_process_refuses_a_newer_schema_than_it_knows_in_one_line(
    settings: Settings, clock: Clock
) -> None:
    build(settings, clock=clock).close()
    with open_schema(settings) as schema:
        schema.backend.write(
            f"INSERT INTO {schema.backend.table('schema_version')} (version, name, applied_at) "
            "VALUES (%s, %s, %s)",
            (schema.latest + 1, "from_the_future", "2030-01-01T00:00:00.000000Z"),
        )
    with pytest.raises(SchemaError) as refused:
        build(settings, clock=clock)
    message = str(refused.value)
    assert "\n" not in message
    assert f"version {schema.latest + 1}, newer than this casestore knows" in message


def test_outside_demo_mode_a_process_does_not_migrate_and_refuses_an_empty_store(
    settings: Settings, clock: Clock
) -> None:
    with pytest.raises(SchemaError, match=r"has no casestore schema.*casestore db migrate"):
        build(settings.model_copy(update={"migrate": False}), clock=clock)
    with open_schema(settings) as schema:
        assert schema.status().version == 0


def test_processes_migrating_at_once_apply_each_migration_once(settings: Settings) -> None:
    settings = prepare(settings)
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            with open_schema(settings) as schema:
                schema.migrate()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with open_schema(settings) as schema:
        rows = schema.backend.all(f"SELECT version FROM {schema.backend.table('schema_version')}")
        assert sorted(r["version"] for r in rows) == [m.version for m in schema.known]


# ---- payload schema changes: the library's class_version upcasting --------------------


class Dossier(Aggregate):
    """A test-local aggregate whose event gained a field after events were stored."""

    @event("Noted")
    def note(self, text: str) -> None:
        self.text = text


def test_an_old_payload_is_upcast_by_the_event_class_version(tmp_path: Path) -> None:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "upcast.sqlite3"),
    }
    old = Application[UUID](env)
    dossier = Dossier()
    dossier.note("eerste notitie")
    old.save(dossier)
    noted: Any = cast(Any, Dossier).Noted  # made by the library from the decorated method
    topic = noted.__module__ + ":" + noted.__qualname__

    class DossierV2(Aggregate):
        """The same aggregate a release later: `Noted` carries a priority."""

        class Noted(Aggregate.Event):
            class_version = 2
            text: str
            priority: int

            @staticmethod
            def upcast_v1_v2(state: dict[str, Any]) -> None:
                state["priority"] = 3  # what the old events meant

        @event(Noted)
        def note(self, text: str, priority: int) -> None:
            self.text, self.priority = text, priority

    def topic_of(cls: type) -> str:
        return f"{cls.__module__}:{cls.__qualname__}"

    # The new release's classes take over the old topics, as a moved class would with
    # register_topic. This process has resolved the old classes already, so their cache
    # entries (and only theirs) go first; other tests' topics stay registered.
    renamed = {
        topic_of(Dossier): DossierV2,
        topic_of(Dossier.Created): DossierV2.Created,
        topic: DossierV2.Noted,
    }
    for old_topic, cls in renamed.items():
        _topic_cache.pop(old_topic, None)
        register_topic(old_topic, cls)
    new = Application[UUID](env)
    try:
        upgraded = cast(DossierV2, new.repository.get(dossier.id))
        assert isinstance(upgraded, DossierV2)
        assert (upgraded.text, upgraded.priority) == ("eerste notitie", 3)
        upgraded.note("tweede notitie", priority=1)
        new.save(upgraded)
        again = cast(DossierV2, new.repository.get(dossier.id))
        assert (again.text, again.priority, again.version) == ("tweede notitie", 1, 3)
    finally:
        for old_topic in renamed:
            _topic_cache.pop(old_topic, None)
        old.close()
        new.close()


def test_schema_version_rows_name_their_migration(settings: Settings, clock: Clock) -> None:
    build(settings, clock=clock).close()
    with open_schema(settings) as schema:
        assert isinstance(schema, Schema)
        rows = schema.backend.all(
            f"SELECT version, name FROM {schema.backend.table('schema_version')} ORDER BY version"
        )
        assert [(r["version"], r["name"]) for r in rows] == [
            (m.version, m.name) for m in schema.known
        ]
