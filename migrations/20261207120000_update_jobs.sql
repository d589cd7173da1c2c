-- Update jobs (issue 23: "Update everywhere"): an artifact from its upstream into the
-- collection, then into every chosen project, as one job with per-project results. `kind` gains
-- `update`; `params` holds an update job's projects as JSON. SQLite cannot widen a CHECK in
-- place, so the three job tables are rebuilt: their rows are copied aside first (dropping `jobs`
-- with its rows would cascade into the other two), the tables made again, the rows put back with
-- their ids (a job event's id is an SSE id), and the indexes and triggers made again.
CREATE TABLE jobs_copy AS SELECT * FROM jobs;
CREATE TABLE job_artifacts_copy AS SELECT * FROM job_artifacts;
CREATE TABLE job_events_copy AS SELECT * FROM job_events;

DROP TRIGGER jobs_artifacts_on_insert;
DROP TRIGGER jobs_state_event;
DROP TRIGGER jobs_progress_event;
DROP TABLE job_events;
DROP TABLE job_artifacts;
DROP TABLE jobs;

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
    result           TEXT,                       -- JSON: one report per artifact
    idempotency_key  TEXT UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    kind             TEXT NOT NULL DEFAULT 'sync' CHECK (kind IN ('sync', 'resolve', 'update')),
    params           TEXT,                       -- JSON: a resolve job's choices, an update job's projects
    parent_span_id   TEXT,
    progress         TEXT,
    progress_at      TEXT,
    plan_job         INTEGER REFERENCES jobs (id)
);
CREATE TABLE job_artifacts (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    artifact_id TEXT NOT NULL,
    PRIMARY KEY (job_id, artifact_id)
);
CREATE TABLE job_events (
    id      INTEGER PRIMARY KEY,
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    state   TEXT NOT NULL,
    pct     INTEGER NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);

INSERT INTO jobs (id, direction, artifact_ids, project_path, collection, strategy, dry_run,
                  state, pct, created_at, started_at, ended_at, trace_id, log_excerpt, conflicts,
                  result, idempotency_key, attempts, cancel_requested, kind, params,
                  parent_span_id, progress, progress_at, plan_job)
    SELECT id, direction, artifact_ids, project_path, collection, strategy, dry_run,
           state, pct, created_at, started_at, ended_at, trace_id, log_excerpt, conflicts,
           result, idempotency_key, attempts, cancel_requested, kind, params,
           parent_span_id, progress, progress_at, plan_job
    FROM jobs_copy ORDER BY id;
INSERT INTO job_artifacts (job_id, artifact_id)
    SELECT job_id, artifact_id FROM job_artifacts_copy;
INSERT INTO job_events (id, job_id, at, state, pct, message)
    SELECT id, job_id, at, state, pct, message FROM job_events_copy ORDER BY id;
DROP TABLE jobs_copy;
DROP TABLE job_artifacts_copy;
DROP TABLE job_events_copy;

CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX job_artifacts_by_artifact ON job_artifacts (artifact_id);
CREATE INDEX job_events_by_job ON job_events (job_id, id);

-- The triggers of 20261122210000_job_insert_triggers.sql and 20261123000000_job_event_triggers.sql,
-- unchanged.
CREATE TRIGGER jobs_artifacts_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT OR IGNORE INTO job_artifacts (job_id, artifact_id)
        SELECT NEW.id, value FROM json_each(NEW.artifact_ids);
    INSERT INTO job_events (job_id, at, state, pct, message)
        VALUES (NEW.id, NEW.created_at, 'queued', 0, 'queued');
END;

CREATE TRIGGER jobs_state_event AFTER UPDATE OF state ON jobs
WHEN OLD.state IS NOT NEW.state
BEGIN
    INSERT INTO job_events (job_id, at, state, pct, message) VALUES (
        NEW.id,
        COALESCE(
            CASE NEW.state
                WHEN 'running' THEN NEW.started_at
                WHEN 'queued' THEN NULL
                ELSE NEW.ended_at
            END,
            strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
        ),
        NEW.state,
        NEW.pct,
        CASE NEW.state
            WHEN 'running' THEN 'started'
            WHEN 'queued' THEN 'queued again after a restart'
            ELSE NEW.state
        END
    );
END;

CREATE TRIGGER jobs_progress_event AFTER UPDATE OF progress ON jobs
WHEN OLD.state = 'running' AND NEW.state = 'running'
BEGIN
    INSERT INTO job_events (job_id, at, state, pct, message)
        VALUES (NEW.id, NEW.progress_at, 'running', NEW.pct, NEW.progress);
END;
