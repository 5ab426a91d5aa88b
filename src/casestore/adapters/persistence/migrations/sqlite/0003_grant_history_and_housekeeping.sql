-- 0003 grant history and housekeeping: every grant given or taken after its event was
-- written, with the reason (casestore.adapters.persistence.grant_history), and the
-- scheduled jobs' last runs and leases (housekeeping_table.py).
CREATE TABLE casestore_grant_history (
    changed_at TEXT NOT NULL, case_id TEXT NOT NULL, version BIGINT NOT NULL,
    event_id TEXT NOT NULL, org_id TEXT NOT NULL, key_id TEXT NOT NULL,
    change TEXT NOT NULL, policy_version TEXT NOT NULL, rules TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX casestore_grant_history_by_case ON casestore_grant_history (case_id, changed_at);
CREATE TABLE casestore_housekeeping (
    job TEXT PRIMARY KEY, last_run_at TEXT, worker_id TEXT, locked_until TEXT
);
