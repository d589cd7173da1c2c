-- A job's events are written by triggers on the `jobs` row, so that every step the runner
-- records (a claim, a progress step, the end) and every cancel or requeue is one statement:
-- atomic on its own, and one short turn at the write lock instead of two.

-- The latest progress step, which the progress event repeats.
ALTER TABLE jobs ADD COLUMN progress TEXT;
ALTER TABLE jobs ADD COLUMN progress_at TEXT;

-- A change of state: `started` when claimed, `queued again after a restart` when requeued,
-- and the final state's name when it ends or is cancelled.
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

-- A progress step of a running job.
CREATE TRIGGER jobs_progress_event AFTER UPDATE OF progress ON jobs
WHEN OLD.state = 'running' AND NEW.state = 'running'
BEGIN
    INSERT INTO job_events (job_id, at, state, pct, message)
        VALUES (NEW.id, NEW.progress_at, 'running', NEW.pct, NEW.progress);
END;
