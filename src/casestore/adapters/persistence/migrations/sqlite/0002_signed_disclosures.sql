-- 0002 signed disclosures: the service countersigns the author's document (per-field
-- salted digests inside it) instead of per-ciphertext digests, so new events keep no
-- content_digests. The column stays, nullable, for events recorded before: their
-- countersignatures were made over it, and nothing stored is thrown away. SQLite cannot
-- drop a NOT NULL constraint, so the table is rebuilt with its rows.
CREATE TABLE casestore_event_ids_0002 (event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, version BIGINT NOT NULL, digest TEXT NOT NULL, content_digests TEXT, escrow_json TEXT);
INSERT INTO casestore_event_ids_0002 (event_id, case_id, version, digest, content_digests, escrow_json) SELECT event_id, case_id, version, digest, content_digests, escrow_json FROM casestore_event_ids;
DROP TABLE casestore_event_ids;
ALTER TABLE casestore_event_ids_0002 RENAME TO casestore_event_ids;
CREATE INDEX casestore_event_ids_by_case ON casestore_event_ids (case_id, version);
