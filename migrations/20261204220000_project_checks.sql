-- When the server's scheduled check last compared a project's deployed copies with their
-- baselines (RFC 3339). Kept here, not in the project's records file, so that a check that
-- finds nothing new writes nothing into the project (whose records file may be committed).
ALTER TABLE projects ADD COLUMN last_checked_at TEXT;
