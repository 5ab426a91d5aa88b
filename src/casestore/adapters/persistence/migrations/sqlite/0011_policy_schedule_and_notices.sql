-- 0011 scheduled policy versions: a version approved to take effect at a later moment
-- waits in `policy_current` (next_version, next_label, next_from) beside the version in
-- force until then. Each grant and access row states the moment it was sealed (sealed_at,
-- the sealing process's clock), and the check takes the label in force at that moment: a
-- row sealed from next_from on under the old label is refused, and so is one sealed before
-- it under the new label. Rows without the moment (written before this migration, or by
-- a writer that does not state it) are judged at the database's own clock.
ALTER TABLE casestore_policy_current ADD COLUMN next_version BIGINT;
ALTER TABLE casestore_policy_current ADD COLUMN next_label TEXT;
ALTER TABLE casestore_policy_current ADD COLUMN next_from TEXT;
ALTER TABLE casestore_grants ADD COLUMN sealed_at TEXT;
ALTER TABLE casestore_access ADD COLUMN sealed_at TEXT;
DROP TRIGGER casestore_grants_in_force;
DROP TRIGGER casestore_access_in_force;
CREATE TRIGGER casestore_grants_in_force BEFORE INSERT ON casestore_grants
WHEN NEW.policy_version <> (
    SELECT CASE WHEN next_from IS NOT NULL AND next_from <= COALESCE(
        NEW.sealed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) THEN next_label ELSE label END
    FROM casestore_policy_current WHERE singleton = 1)
BEGIN SELECT RAISE(ABORT, 'casestore: policy version superseded'); END;
CREATE TRIGGER casestore_access_in_force BEFORE INSERT ON casestore_access
WHEN NEW.policy_version <> (
    SELECT CASE WHEN next_from IS NOT NULL AND next_from <= COALESCE(
        NEW.sealed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) THEN next_label ELSE label END
    FROM casestore_policy_current WHERE singleton = 1)
BEGIN SELECT RAISE(ABORT, 'casestore: policy version superseded'); END;

-- Notices to partners over the live stream and webhooks: each notice gets a sequence
-- number, per store, that readers follow (writes are serialised on SQLite); a subscription
-- records the last notice its receiver acknowledged, and an attempt says whether it carried
-- an event or a notice. SQLite adds neither a numbered column nor a key to a table, so both
-- tables are copied into their new form.
CREATE TABLE casestore_policy_notices_9 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, position BIGINT NOT NULL,
    case_id TEXT NOT NULL, version BIGINT NOT NULL, event_id TEXT NOT NULL,
    fields TEXT NOT NULL, policy_version TEXT NOT NULL, noticed_at TEXT NOT NULL
);
INSERT INTO casestore_policy_notices_9
    (org_id, position, case_id, version, event_id, fields, policy_version, noticed_at)
SELECT org_id, position, case_id, version, event_id, fields, policy_version, noticed_at
FROM casestore_policy_notices ORDER BY noticed_at, position;
DROP TABLE casestore_policy_notices;
ALTER TABLE casestore_policy_notices_9 RENAME TO casestore_policy_notices;
CREATE INDEX casestore_policy_notices_by_org ON casestore_policy_notices (org_id, noticed_at);
CREATE INDEX casestore_policy_notices_by_seq ON casestore_policy_notices (org_id, seq);
ALTER TABLE casestore_subscriptions ADD COLUMN notice_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE casestore_delivery_attempts_9 (
    subscription_id TEXT NOT NULL, position BIGINT NOT NULL, attempt BIGINT NOT NULL,
    webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, attempted_at TEXT NOT NULL,
    outcome TEXT NOT NULL, status_code BIGINT, error TEXT, next_retry_at TEXT,
    duration_ms BIGINT, kind TEXT NOT NULL DEFAULT 'event',
    PRIMARY KEY (subscription_id, kind, position, attempt)
);
INSERT INTO casestore_delivery_attempts_9 (subscription_id, position, attempt, webhook_id,
    event_id, attempted_at, outcome, status_code, error, next_retry_at, duration_ms)
SELECT subscription_id, position, attempt, webhook_id, event_id, attempted_at, outcome,
    status_code, error, next_retry_at, duration_ms FROM casestore_delivery_attempts;
DROP TABLE casestore_delivery_attempts;
ALTER TABLE casestore_delivery_attempts_9 RENAME TO casestore_delivery_attempts;
