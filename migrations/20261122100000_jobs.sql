-- Sync jobs (DESIGN §6): every sync started from the web UI or the REST API, persisted before the
-- request returns, claimed by the in-process runner, and kept 30 days after it ends.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    direction        TEXT NOT NULL,
    artifact_ids     TEXT NOT NULL,              -- JSON array of `<type>:<name>`
    project_path     TEXT,
    collection       TEXT NOT NULL,
    strategy         TEXT NOT NULL,
    dry_run          INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN
                         ('queued', 'running', 'success', 'conflict', 'error', 'cancelled')),
    pct              INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,              -- RFC 3339, UTC
    started_at       TEXT,
    ended_at         TEXT,
    trace_id         TEXT NOT NULL,
    log_excerpt      TEXT NOT NULL DEFAULT '',
    conflicts        TEXT NOT NULL DEFAULT '[]', -- JSON array of artifact ids left pending
    result           TEXT,                       -- JSON: one sync report per artifact
    idempotency_key  TEXT UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, id);

-- Which artifacts a job touches, so the runner never runs two jobs on one artifact at once.
CREATE TABLE job_artifacts (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    artifact_id TEXT NOT NULL,
    PRIMARY KEY (job_id, artifact_id)
);
CREATE INDEX job_artifacts_by_artifact ON job_artifacts (artifact_id);

-- What happened to a job, in order: the stream SSE clients follow.
CREATE TABLE job_events (
    id      INTEGER PRIMARY KEY,
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    state   TEXT NOT NULL,
    pct     INTEGER NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_events_by_job ON job_events (job_id, id);
