-- 0009 worklist and meetings: the coordinators' worklist as a projection of the readable
-- part of case events (one row of facts per case, and how far it has read), and the
-- casusoverleggen whose agenda and attendees the meeting packs are made for
-- (casestore.adapters.persistence.worklist_tables). No content, no BSN, no name.
CREATE TABLE casestore_worklist (
    case_id TEXT PRIMARY KEY, position BIGINT NOT NULL, facts TEXT NOT NULL
);
CREATE INDEX casestore_worklist_by_position ON casestore_worklist (position);
CREATE TABLE casestore_worklist_position (
    id INTEGER PRIMARY KEY, position BIGINT NOT NULL
);
INSERT INTO casestore_worklist_position (id, position) VALUES (1, 0);
CREATE TABLE casestore_meetings (
    meeting_id TEXT PRIMARY KEY, soort TEXT NOT NULL, held_on TEXT NOT NULL,
    title TEXT NOT NULL, organiser TEXT NOT NULL, attendees TEXT NOT NULL,
    cases TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX casestore_meetings_by_day ON casestore_meetings (held_on);
