-- A job's artifacts and its first event are written by triggers on the INSERT into `jobs`, so that
-- queueing a job is one statement (atomic on its own) instead of a transaction of several: the
-- POST that creates a job holds the write lock for one step.
CREATE TRIGGER jobs_artifacts_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT OR IGNORE INTO job_artifacts (job_id, artifact_id)
        SELECT NEW.id, value FROM json_each(NEW.artifact_ids);
    INSERT INTO job_events (job_id, at, state, pct, message)
        VALUES (NEW.id, NEW.created_at, 'queued', 0, 'queued');
END;
