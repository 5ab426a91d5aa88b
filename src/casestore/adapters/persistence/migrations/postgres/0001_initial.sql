-- 0001 initial: the schema as casestore 0.1.0 created it, so that a store written before
-- migrations existed takes this migration as a no-op (every statement is idempotent for
-- that reason alone) and is marked as version 1.
--
-- Migrations run with the search_path set to the store's schema (the `schema` of
-- CASESTORE_DATABASE_URL), so names are unqualified here; the functions keep that schema
-- as their own search_path (SET search_path FROM CURRENT).

-- The eventsourcing library's objects (its DDL for 9.5; the library is told not to create
-- them): the events, with notification_id as the global position, their composite type,
-- the library's insert function (unused by casestore, kept as 0.1.0 left it) and snapshots.
CREATE TABLE IF NOT EXISTS casestore_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);
CREATE UNIQUE INDEX IF NOT EXISTS casestore_events_notification_id_idx
    ON casestore_events (notification_id ASC);

DO $$ BEGIN
    CREATE TYPE stored_event_uuid AS (
        originator_id uuid, originator_version bigint, topic text, state bytea
    );
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE OR REPLACE FUNCTION es_insert_events_uuid(events stored_event_uuid[])
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
BEGIN
    SET LOCAL lock_timeout = '5s';
    NOTIFY casestore_events;
    RETURN QUERY
    INSERT INTO casestore_events AS t (originator_id, originator_version, topic, state)
    SELECT originator_id, originator_version, topic, state FROM unnest(events)
    RETURNING notification_id;
END;
$BODY$;

CREATE TABLE IF NOT EXISTS casestore_snapshots (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

-- Written with the events (casestore.adapters.persistence.sharing_tables).
CREATE TABLE IF NOT EXISTS casestore_case_keys (
    case_id TEXT PRIMARY KEY, wrapped TEXT, created_at TEXT NOT NULL,
    shredded_at TEXT, shredded_by TEXT, reason TEXT
);
CREATE TABLE IF NOT EXISTS casestore_grants (
    case_id TEXT NOT NULL, version BIGINT NOT NULL, event_id TEXT NOT NULL,
    org_id TEXT NOT NULL, key_id TEXT NOT NULL, grant_json TEXT NOT NULL,
    policy_version TEXT NOT NULL, basis TEXT NOT NULL,
    PRIMARY KEY (org_id, case_id, version, key_id)
);
CREATE INDEX IF NOT EXISTS casestore_grants_by_case ON casestore_grants (case_id);
CREATE TABLE IF NOT EXISTS casestore_event_ids (
    event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, version BIGINT NOT NULL,
    digest TEXT NOT NULL, content_digests TEXT NOT NULL, escrow_json TEXT
);
CREATE INDEX IF NOT EXISTS casestore_event_ids_by_case ON casestore_event_ids (case_id, version);
CREATE TABLE IF NOT EXISTS casestore_access (
    org_id TEXT NOT NULL, case_id TEXT NOT NULL, version BIGINT NOT NULL,
    event_id TEXT NOT NULL, policy_version TEXT NOT NULL, position BIGINT NOT NULL,
    PRIMARY KEY (org_id, case_id, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS casestore_access_feed ON casestore_access (org_id, position);

-- API clients (client_table.py).
CREATE TABLE IF NOT EXISTS casestore_clients (
    client_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL,
    token_hash TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Webhook subscriptions and their delivery attempts (subscription_table.py).
CREATE TABLE IF NOT EXISTS casestore_subscriptions (
    subscription_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, url TEXT NOT NULL,
    description TEXT NOT NULL, secret TEXT NOT NULL, status TEXT NOT NULL,
    position BIGINT NOT NULL, created_at TEXT NOT NULL, parked_at TEXT,
    attempts BIGINT NOT NULL, failures BIGINT NOT NULL, failing_since TEXT,
    next_attempt_at TEXT, last_error TEXT, worker_id TEXT, locked_until TEXT
);
CREATE INDEX IF NOT EXISTS casestore_subscriptions_by_org
    ON casestore_subscriptions (org_id, created_at);
CREATE TABLE IF NOT EXISTS casestore_delivery_attempts (
    subscription_id TEXT NOT NULL, position BIGINT NOT NULL, attempt BIGINT NOT NULL,
    webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, attempted_at TEXT NOT NULL,
    outcome TEXT NOT NULL, status_code BIGINT, error TEXT, next_retry_at TEXT,
    duration_ms BIGINT, PRIMARY KEY (subscription_id, position, attempt)
);

-- The save: ONE statement that takes the events table's lock (positions then commit in
-- order), notifies the live feeds, writes the side rows and inserts the events. Two entry
-- points to one body: a save of one event passes it as scalars (casestore.adapters.
-- persistence.postgres). Each side table's INSERT runs only when the save has rows for it;
-- access rows take their event's position, known only once the event is in.
CREATE OR REPLACE FUNCTION casestore_events_append(events stored_event_uuid[], side jsonb)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
DECLARE ids bigint[];
BEGIN
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE casestore_events IN EXCLUSIVE MODE;
    NOTIFY casestore_events;
    IF side ? 'event_ids' THEN
        INSERT INTO casestore_event_ids (event_id, case_id, version, digest, content_digests, escrow_json)
        SELECT event_id, case_id, version, digest, content_digests, escrow_json
        FROM jsonb_to_recordset(side->'event_ids') AS x(event_id text, case_id text, version bigint, digest text, content_digests text, escrow_json text);
    END IF;
    IF side ? 'case_keys' THEN
        INSERT INTO casestore_case_keys (case_id, wrapped, created_at)
        SELECT case_id, wrapped, created_at
        FROM jsonb_to_recordset(side->'case_keys') AS x(case_id text, wrapped text, created_at text);
    END IF;
    IF side ? 'grants' THEN
        INSERT INTO casestore_grants (case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis)
        SELECT case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis
        FROM jsonb_to_recordset(side->'grants') AS x(case_id text, version bigint, event_id text, org_id text, key_id text, grant_json text, policy_version text, basis text);
    END IF;
    WITH ins AS (
        INSERT INTO casestore_events (originator_id, originator_version, topic, state)
        SELECT originator_id, originator_version, topic, state FROM unnest(events)
        RETURNING notification_id, originator_id, originator_version
    ), acc AS (
        INSERT INTO casestore_access (org_id, case_id, version, event_id, policy_version, position)
        SELECT x.org_id, x.case_id, x.version, x.event_id, x.policy_version, ins.notification_id
        FROM jsonb_to_recordset(side->'access') AS x(org_id text, case_id text, version bigint, event_id text, policy_version text, position bigint)
        JOIN ins ON ins.originator_id::text = x.case_id AND ins.originator_version = x.version
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM ins;
    RETURN QUERY SELECT unnest(ids);
END;
$BODY$;

CREATE OR REPLACE FUNCTION casestore_events_append_one(o uuid, v bigint, t text, s bytea, side jsonb)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
DECLARE ids bigint[];
BEGIN
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE casestore_events IN EXCLUSIVE MODE;
    NOTIFY casestore_events;
    IF side ? 'event_ids' THEN
        INSERT INTO casestore_event_ids (event_id, case_id, version, digest, content_digests, escrow_json)
        SELECT event_id, case_id, version, digest, content_digests, escrow_json
        FROM jsonb_to_recordset(side->'event_ids') AS x(event_id text, case_id text, version bigint, digest text, content_digests text, escrow_json text);
    END IF;
    IF side ? 'case_keys' THEN
        INSERT INTO casestore_case_keys (case_id, wrapped, created_at)
        SELECT case_id, wrapped, created_at
        FROM jsonb_to_recordset(side->'case_keys') AS x(case_id text, wrapped text, created_at text);
    END IF;
    IF side ? 'grants' THEN
        INSERT INTO casestore_grants (case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis)
        SELECT case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis
        FROM jsonb_to_recordset(side->'grants') AS x(case_id text, version bigint, event_id text, org_id text, key_id text, grant_json text, policy_version text, basis text);
    END IF;
    WITH ins AS (
        INSERT INTO casestore_events (originator_id, originator_version, topic, state)
        VALUES (o, v, t, s)
        RETURNING notification_id, originator_id, originator_version
    ), acc AS (
        INSERT INTO casestore_access (org_id, case_id, version, event_id, policy_version, position)
        SELECT x.org_id, x.case_id, x.version, x.event_id, x.policy_version, ins.notification_id
        FROM jsonb_to_recordset(side->'access') AS x(org_id text, case_id text, version bigint, event_id text, policy_version text, position bigint)
        JOIN ins ON ins.originator_id::text = x.case_id AND ins.originator_version = x.version
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM ins;
    RETURN QUERY SELECT unnest(ids);
END;
$BODY$;
