-- The kill-switch: failed applying syncs of an artifact in a row (reset by one that succeeds),
-- and when they reached `sync.lock_after_failures`, the time the artifact was locked. A locked
-- artifact refuses applying syncs until `skillmeat unlock` deletes its row.
CREATE TABLE sync_failures (
    collection   TEXT    NOT NULL,
    artifact_id  TEXT    NOT NULL,
    failures     INTEGER NOT NULL CHECK (failures > 0),
    last_error   TEXT    NOT NULL,
    last_at      TEXT    NOT NULL,
    locked_at    TEXT,
    PRIMARY KEY (collection, artifact_id)
);
