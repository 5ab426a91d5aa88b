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
-- Chaining in the database: one round trip, holding the head row's lock for as short as
-- the loop takes. Each element carries the entry's canonical JSON as a string (kept
-- byte for byte) and the query columns; the hash is the one
-- casestore.adapters.persistence.audit_table.chain_hash computes.
CREATE OR REPLACE FUNCTION casestore_audit_append(entries jsonb)
RETURNS bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
DECLARE head_seq bigint; head_hash text; e jsonb; digest text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM casestore_audit_head WHERE id = 1 FOR UPDATE;
    FOR e IN SELECT value FROM jsonb_array_elements(entries) LOOP
        head_seq := head_seq + 1;
        digest := encode(sha256(convert_to(
            '{"entry":' || (e->>'entry') || ',"previous":"' || head_hash || '"}', 'UTF8')), 'hex');
        INSERT INTO casestore_audit (seq, at, action, case_id, org_id, event_id, trace_id, entry, previous, hash)
        VALUES (head_seq, e->>'at', e->>'action', e->>'case_id', e->>'org_id', e->>'event_id',
                e->>'trace_id', e->>'entry', head_hash, digest);
        head_hash := digest;
    END LOOP;
    UPDATE casestore_audit_head SET seq = head_seq, hash = head_hash WHERE id = 1;
    RETURN head_seq;
END;
$BODY$;

-- A save and its audit entries in one statement: the save's functions (0001, 0002) first,
-- so every writer takes the events table's lock before the chain's head (readers take
-- only the head): no two transactions wait for each other's lock.
CREATE OR REPLACE FUNCTION casestore_events_append_audited(events stored_event_uuid[], side jsonb, audit jsonb)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
BEGIN
    RETURN QUERY SELECT * FROM casestore_events_append(events, side);
    PERFORM casestore_audit_append(audit);
END;
$BODY$;

CREATE OR REPLACE FUNCTION casestore_events_append_audited_one(o uuid, v bigint, t text, s bytea, side jsonb, audit jsonb)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $BODY$
BEGIN
    RETURN QUERY SELECT * FROM casestore_events_append_one(o, v, t, s, side);
    PERFORM casestore_audit_append(audit);
END;
$BODY$;
