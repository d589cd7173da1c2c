-- The audit trail (issue 19): one row per change SkillMeat made or found, written in the same
-- transaction as the database rows of that change (the version it recorded, the conflict record
-- it opened or closed, the tag it moved). Rows are never updated or deleted.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,                 -- RFC 3339, UTC
    kind         TEXT NOT NULL CHECK (kind IN
                     ('deploy', 'sync', 'conflict', 'resolve', 'abort', 'rollback', 'tag')),
    artifact_id  TEXT NOT NULL,                 -- `<type>:<name>`
    collection   TEXT NOT NULL,
    project_path TEXT,                          -- canonical; NULL for the collection tier
    direction    TEXT,                          -- a sync's full direction name
    strategy     TEXT,
    status       TEXT,                          -- the pair's drift status before the change
    outcome      TEXT,                          -- fast-forward, merged, … for a sync
    base_hash    TEXT,                          -- 64 hex each
    source_hash  TEXT,
    target_hash  TEXT,
    result_hash  TEXT,
    merged       TEXT NOT NULL DEFAULT '[]',    -- JSON array: files merged from both sides
    conflicted   TEXT NOT NULL DEFAULT '[]',    -- JSON array: files that conflicted
    resolutions  TEXT NOT NULL DEFAULT '{}',    -- JSON object: file → ours|theirs|custom|hunks
    detail       TEXT NOT NULL DEFAULT '{}'     -- JSON object: what else the kind carries
);
CREATE INDEX events_by_artifact ON events (artifact_id, id);
CREATE INDEX events_by_project ON events (project_path, id) WHERE project_path IS NOT NULL;
CREATE INDEX events_by_kind ON events (kind, id);
