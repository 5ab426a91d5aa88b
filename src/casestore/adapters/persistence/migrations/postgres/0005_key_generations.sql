-- 0005 key generations: every organisation's published public keys, one row per generation
-- (casestore.adapters.persistence.key_generations), and a counter that every change of the
-- key set raises in the same transaction, which each process checks before it seals.
-- Private keys are never stored.
CREATE TABLE casestore_key_generations (
    org_id TEXT NOT NULL, generation INTEGER NOT NULL,
    enc_key_id TEXT NOT NULL, enc_public_key TEXT NOT NULL,
    sign_key_id TEXT NOT NULL, sign_public_key TEXT NOT NULL,
    valid_from TEXT NOT NULL, confirmed_at TEXT, retired_at TEXT,
    PRIMARY KEY (org_id, generation)
);
CREATE TABLE casestore_key_set (
    id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL
);
INSERT INTO casestore_key_set (id, version) VALUES (1, 0);
