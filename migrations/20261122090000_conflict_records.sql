-- Conflicted merges (DESIGN §5): one row per merge that could not apply cleanly, kept after it is
-- resolved or aborted as the audit of what happened.
CREATE TABLE conflict_records (
    id               INTEGER PRIMARY KEY,
    artifact_id      TEXT NOT NULL,
    direction        TEXT NOT NULL,
    project_path     TEXT,                      -- for the project tiers
    detected_at      TEXT NOT NULL,             -- RFC 3339, UTC
    base_hash        TEXT,
    ours_hash        TEXT NOT NULL,             -- the target before the merge
    theirs_hash      TEXT NOT NULL,             -- the source
    strategy         TEXT NOT NULL,
    resolution       TEXT CHECK (resolution IN ('resolved', 'aborted')),  -- NULL while pending
    resolved_hash    TEXT,
    unresolved_files TEXT NOT NULL DEFAULT '[]', -- JSON array of paths
    resolved_at      TEXT
);

CREATE INDEX conflict_records_pending ON conflict_records (artifact_id) WHERE resolution IS NULL;

-- Every time a version is (re)instated without being new content, e.g. a rollback to an earlier
-- version: artifact_versions keeps one row per content, this keeps the events.
CREATE TABLE version_events (
    id           INTEGER PRIMARY KEY,
    artifact_id  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    origin       TEXT NOT NULL,
    tier         TEXT NOT NULL,                 -- `collection` or a project path
    commit_id    TEXT,                          -- the store commit recording the event
    created_at   TEXT NOT NULL
);
CREATE INDEX version_events_by_artifact ON version_events (artifact_id, id);
