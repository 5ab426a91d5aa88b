-- 0008 retention: legal holds that stop a case's retention clock, the signed verklaringen
-- van vernietiging, and the anonymous figures of destroyed cases
-- (casestore.adapters.persistence.retention_tables). None of them holds personal data.
CREATE TABLE casestore_legal_holds (
    hold_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, reason TEXT NOT NULL,
    placed_by TEXT NOT NULL, placed_at TEXT NOT NULL, released_by TEXT, released_at TEXT
);
CREATE INDEX casestore_legal_holds_by_case ON casestore_legal_holds (case_id, placed_at);
CREATE TABLE casestore_verklaringen (
    case_id TEXT PRIMARY KEY, destroyed_at TEXT NOT NULL, document TEXT NOT NULL,
    signature TEXT NOT NULL, erased_at TEXT
);
CREATE TABLE casestore_figures (
    measure TEXT NOT NULL, quarter TEXT NOT NULL, count BIGINT NOT NULL,
    PRIMARY KEY (measure, quarter)
);
