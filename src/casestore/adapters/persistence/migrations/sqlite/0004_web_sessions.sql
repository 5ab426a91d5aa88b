-- 0004 web sessions: one row per sign-in to the pages, holding only a hash of the cookie
-- (casestore.adapters.persistence.session_table).
CREATE TABLE casestore_web_sessions (
    session_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, org_id TEXT NOT NULL,
    role TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL, ended_at TEXT
);
CREATE INDEX casestore_web_sessions_by_client ON casestore_web_sessions (client_id);
