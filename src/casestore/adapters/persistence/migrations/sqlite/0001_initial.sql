-- 0001 initial: the schema as casestore 0.1.0 created it, table by table, so that a store
-- written before migrations existed takes this migration as a no-op and is marked as
-- version 1. Every statement is idempotent for that reason alone; later migrations need
-- not be.

-- The eventsourcing library's tables (its DDL for 9.5; the library is told not to create
-- them): the events with their rowid as the global position, and the snapshots.
CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version));
CREATE TABLE IF NOT EXISTS stored_snapshots (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID;

-- Written with the events (casestore.adapters.persistence.sharing_tables).
CREATE TABLE IF NOT EXISTS casestore_case_keys (case_id TEXT PRIMARY KEY, wrapped TEXT, created_at TEXT NOT NULL, shredded_at TEXT, shredded_by TEXT, reason TEXT);
CREATE TABLE IF NOT EXISTS casestore_grants (case_id TEXT NOT NULL, version BIGINT NOT NULL, event_id TEXT NOT NULL, org_id TEXT NOT NULL, key_id TEXT NOT NULL, grant_json TEXT NOT NULL, policy_version TEXT NOT NULL, basis TEXT NOT NULL, PRIMARY KEY (org_id, case_id, version, key_id));
CREATE INDEX IF NOT EXISTS casestore_grants_by_case ON casestore_grants (case_id);
CREATE TABLE IF NOT EXISTS casestore_event_ids (event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, version BIGINT NOT NULL, digest TEXT NOT NULL, content_digests TEXT NOT NULL, escrow_json TEXT);
CREATE INDEX IF NOT EXISTS casestore_event_ids_by_case ON casestore_event_ids (case_id, version);
CREATE TABLE IF NOT EXISTS casestore_access (org_id TEXT NOT NULL, case_id TEXT NOT NULL, version BIGINT NOT NULL, event_id TEXT NOT NULL, policy_version TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (org_id, case_id, version));
CREATE UNIQUE INDEX IF NOT EXISTS casestore_access_feed ON casestore_access (org_id, position);

-- API clients (client_table.py).
CREATE TABLE IF NOT EXISTS casestore_clients (client_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT);

-- Webhook subscriptions and their delivery attempts (subscription_table.py).
CREATE TABLE IF NOT EXISTS casestore_subscriptions (subscription_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, url TEXT NOT NULL, description TEXT NOT NULL, secret TEXT NOT NULL, status TEXT NOT NULL, position BIGINT NOT NULL, created_at TEXT NOT NULL, parked_at TEXT, attempts BIGINT NOT NULL, failures BIGINT NOT NULL, failing_since TEXT, next_attempt_at TEXT, last_error TEXT, worker_id TEXT, locked_until TEXT);
CREATE INDEX IF NOT EXISTS casestore_subscriptions_by_org ON casestore_subscriptions (org_id, created_at);
CREATE TABLE IF NOT EXISTS casestore_delivery_attempts (subscription_id TEXT NOT NULL, position BIGINT NOT NULL, attempt BIGINT NOT NULL, webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, attempted_at TEXT NOT NULL, outcome TEXT NOT NULL, status_code BIGINT, error TEXT, next_retry_at TEXT, duration_ms BIGINT, PRIMARY KEY (subscription_id, position, attempt));
