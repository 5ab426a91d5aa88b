-- 0006 audit trail: every processing of case data, hash-chained, with the custodian's
-- signed checkpoints (casestore.adapters.persistence.audit_table). Rows are only ever
-- appended; they hold pseudonymous ids and field names, never content, and are kept
-- apart from case retention.
CREATE TABLE casestore_audit (
    seq BIGINT PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL, case_id TEXT,
    org_id TEXT, event_id TEXT, trace_id TEXT NOT NULL, entry TEXT NOT NULL,
    previous TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX casestore_audit_by_case ON casestore_audit (case_id, seq);
CREATE INDEX casestore_audit_by_org ON casestore_audit (org_id, seq);
CREATE INDEX casestore_audit_by_event ON casestore_audit (event_id);
CREATE TABLE casestore_audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO casestore_audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE casestore_audit_checkpoints (
    seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, at TEXT NOT NULL, signature TEXT NOT NULL
);
