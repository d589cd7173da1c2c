-- Jobs that resolve a pending merge (POST /sync/resolve) run through the same queue as syncs.
-- `kind` is `sync` or `resolve`; `params` holds a resolve job's choices as JSON.
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'sync' CHECK (kind IN ('sync', 'resolve'));
ALTER TABLE jobs ADD COLUMN params TEXT;
