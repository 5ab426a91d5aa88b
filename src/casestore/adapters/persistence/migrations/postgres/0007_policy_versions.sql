-- 0007 policy versions: the policy in force lives in the store (casestore.adapters.
-- persistence.policy_table). Every version ever in force, the proposals of privacy officers
-- with who proposed and who decided, the background jobs that bring stored history in line
-- with a new version, and the notices telling partners of fields newly granted behind their
-- feed position. `policy_current` holds one row: the label of the version in force. A grant
-- or access row sealed under any other label is refused by the triggers, so no process can
-- seal under a superseded version, whatever it holds in memory.
CREATE TABLE casestore_policy_versions (
    version BIGINT PRIMARY KEY, label TEXT NOT NULL, document TEXT NOT NULL,
    tests TEXT, digest TEXT NOT NULL, proposal_id TEXT, activated_at TEXT NOT NULL,
    effective_from TEXT NOT NULL, history TEXT NOT NULL, approved_by TEXT, reason TEXT
);
CREATE TABLE casestore_policy_current (
    singleton BIGINT PRIMARY KEY CHECK (singleton = 1), version BIGINT NOT NULL,
    label TEXT NOT NULL
);
CREATE TABLE casestore_policy_proposals (
    proposal_id TEXT PRIMARY KEY, base_version BIGINT NOT NULL, document TEXT NOT NULL,
    tests TEXT, digest TEXT NOT NULL, proposed_by TEXT NOT NULL, proposed_org TEXT NOT NULL,
    reason TEXT NOT NULL, dpia_reference TEXT NOT NULL, vastgesteld_on TEXT NOT NULL,
    created_at TEXT NOT NULL, status TEXT NOT NULL, decided_by TEXT, decided_org TEXT,
    decided_at TEXT, decision_reason TEXT, version BIGINT, effective_from TEXT, history TEXT
);
CREATE TABLE casestore_policy_jobs (
    job_id TEXT PRIMARY KEY, version BIGINT NOT NULL, status TEXT NOT NULL,
    total BIGINT NOT NULL, done BIGINT NOT NULL, last_case TEXT, granted BIGINT NOT NULL,
    revoked BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    finished_at TEXT, worker_id TEXT, locked_until TEXT
);
CREATE TABLE casestore_policy_notices (
    org_id TEXT NOT NULL, position BIGINT NOT NULL, case_id TEXT NOT NULL,
    version BIGINT NOT NULL, event_id TEXT NOT NULL, fields TEXT NOT NULL,
    policy_version TEXT NOT NULL, noticed_at TEXT NOT NULL
);
CREATE INDEX casestore_policy_notices_by_org ON casestore_policy_notices (org_id, noticed_at);
-- The check takes a share lock on the row: an activation's update waits for writes in
-- flight under the old version, and a write after it reads the new label.
CREATE FUNCTION casestore_policy_in_force() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $BODY$
DECLARE
    in_force text;
BEGIN
    SELECT label INTO in_force FROM casestore_policy_current WHERE singleton = 1 FOR SHARE;
    IF in_force IS NOT NULL AND NEW.policy_version <> in_force THEN
        RAISE EXCEPTION 'casestore: policy version superseded'
            USING ERRCODE = 'CS001', DETAIL = NEW.policy_version || ' is not ' || in_force;
    END IF;
    RETURN NEW;
END
$BODY$;
CREATE TRIGGER casestore_grants_in_force BEFORE INSERT ON casestore_grants
FOR EACH ROW EXECUTE FUNCTION casestore_policy_in_force();
CREATE TRIGGER casestore_access_in_force BEFORE INSERT ON casestore_access
FOR EACH ROW EXECUTE FUNCTION casestore_policy_in_force();
