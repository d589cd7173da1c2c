-- The span of the request that created a job (16 hex), so that an exported trace shows the
-- job under the HTTP request that queued it. NULL for jobs made without one.
ALTER TABLE jobs ADD COLUMN parent_span_id TEXT;
