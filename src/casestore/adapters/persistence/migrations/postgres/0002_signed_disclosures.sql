-- 0002 signed disclosures: the service countersigns the author's document (per-field
-- salted digests inside it) instead of per-ciphertext digests, so new events keep no
-- content_digests. The column stays, nullable, for events recorded before: their
-- countersignatures were made over it, and nothing stored is thrown away.
ALTER TABLE casestore_event_ids ALTER COLUMN content_digests DROP NOT NULL;

-- The save no longer writes the column.
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
