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
CREATE OR REPLACE FUNCTION casestore_policy_in_force() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $BODY$
DECLARE
    in_force text;
    moment text;
BEGIN
    moment := COALESCE(NEW.sealed_at, to_char(clock_timestamp() AT TIME ZONE 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
    SELECT CASE WHEN next_from IS NOT NULL AND next_from <= moment THEN next_label
        ELSE label END INTO in_force
    FROM casestore_policy_current WHERE singleton = 1 FOR SHARE;
    IF in_force IS NOT NULL AND NEW.policy_version <> in_force THEN
        RAISE EXCEPTION 'casestore: policy version superseded'
            USING ERRCODE = 'CS001', DETAIL = NEW.policy_version || ' is not ' || in_force;
    END IF;
    RETURN NEW;
END
$BODY$;

-- The saves write each row's sealing moment with it.
CREATE OR REPLACE FUNCTION casestore_events_append(events stored_event_uuid[], side jsonb)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
DECLARE ids bigint[];
BEGIN
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE casestore_events IN EXCLUSIVE MODE;
    NOTIFY casestore_events;
    IF side ? 'event_ids' THEN
        INSERT INTO casestore_event_ids (event_id, case_id, version, digest, escrow_json)
        SELECT event_id, case_id, version, digest, escrow_json
        FROM jsonb_to_recordset(side->'event_ids') AS x(event_id text, case_id text, version bigint, digest text, escrow_json text);
    END IF;
    IF side ? 'case_keys' THEN
        INSERT INTO casestore_case_keys (case_id, wrapped, created_at)
        SELECT case_id, wrapped, created_at
        FROM jsonb_to_recordset(side->'case_keys') AS x(case_id text, wrapped text, created_at text);
    END IF;
    IF side ? 'grants' THEN
        INSERT INTO casestore_grants (case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis, sealed_at)
        SELECT case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis, sealed_at
        FROM jsonb_to_recordset(side->'grants') AS x(case_id text, version bigint, event_id text, org_id text, key_id text, grant_json text, policy_version text, basis text, sealed_at text);
    END IF;
    WITH ins AS (
        INSERT INTO casestore_events (originator_id, originator_version, topic, state)
        SELECT originator_id, originator_version, topic, state FROM unnest(events)
        RETURNING notification_id, originator_id, originator_version
    ), acc AS (
        INSERT INTO casestore_access (org_id, case_id, version, event_id, policy_version, position, sealed_at)
        SELECT x.org_id, x.case_id, x.version, x.event_id, x.policy_version, ins.notification_id, x.sealed_at
        FROM jsonb_to_recordset(side->'access') AS x(org_id text, case_id text, version bigint, event_id text, policy_version text, position bigint, sealed_at text)
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
        INSERT INTO casestore_event_ids (event_id, case_id, version, digest, escrow_json)
        SELECT event_id, case_id, version, digest, escrow_json
        FROM jsonb_to_recordset(side->'event_ids') AS x(event_id text, case_id text, version bigint, digest text, escrow_json text);
    END IF;
    IF side ? 'case_keys' THEN
        INSERT INTO casestore_case_keys (case_id, wrapped, created_at)
        SELECT case_id, wrapped, created_at
        FROM jsonb_to_recordset(side->'case_keys') AS x(case_id text, wrapped text, created_at text);
    END IF;
    IF side ? 'grants' THEN
        INSERT INTO casestore_grants (case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis, sealed_at)
        SELECT case_id, version, event_id, org_id, key_id, grant_json, policy_version, basis, sealed_at
        FROM jsonb_to_recordset(side->'grants') AS x(case_id text, version bigint, event_id text, org_id text, key_id text, grant_json text, policy_version text, basis text, sealed_at text);
    END IF;
    WITH ins AS (
        INSERT INTO casestore_events (originator_id, originator_version, topic, state)
        VALUES (o, v, t, s)
        RETURNING notification_id, originator_id, originator_version
    ), acc AS (
        INSERT INTO casestore_access (org_id, case_id, version, event_id, policy_version, position, sealed_at)
        SELECT x.org_id, x.case_id, x.version, x.event_id, x.policy_version, ins.notification_id, x.sealed_at
        FROM jsonb_to_recordset(side->'access') AS x(org_id text, case_id text, version bigint, event_id text, policy_version text, position bigint, sealed_at text)
        JOIN ins ON ins.originator_id::text = x.case_id AND ins.originator_version = x.version
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO ids FROM ins;
    RETURN QUERY SELECT unnest(ids);
END;
$BODY$;

-- Notices to partners over the live stream and webhooks: each notice gets a sequence
-- number, per store, that readers follow (the writers of notices take the table's lock, so
-- numbers commit in order); a subscription records the last notice its receiver
-- acknowledged, and an attempt says whether it carried an event or a notice.
ALTER TABLE casestore_policy_notices ADD COLUMN seq BIGSERIAL;
CREATE INDEX casestore_policy_notices_by_seq ON casestore_policy_notices (org_id, seq);
ALTER TABLE casestore_subscriptions ADD COLUMN notice_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE casestore_delivery_attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'event';
ALTER TABLE casestore_delivery_attempts DROP CONSTRAINT casestore_delivery_attempts_pkey;
ALTER TABLE casestore_delivery_attempts ADD PRIMARY KEY (subscription_id, kind, position, attempt);
