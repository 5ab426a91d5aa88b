-- 0010 subject restrictions: what the data-subject report (AVG art. 15) must withhold
-- under UAVG art. 41, e.g. for an ongoing criminal investigation
-- (casestore.adapters.persistence.restriction_table). Pseudonymous ids and organisation
-- names only; the person is found by BSN when one is recorded and never stored by it.
CREATE TABLE casestore_subject_restrictions (
    restriction_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, case_id TEXT,
    organisation TEXT, ground TEXT NOT NULL, requested_by TEXT NOT NULL,
    may_mention BIGINT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL,
    lifted_by TEXT, lifted_at TEXT
);
CREATE INDEX casestore_subject_restrictions_by_person
    ON casestore_subject_restrictions (person_id, recorded_at);
