-- Whether the tag on a version marks a breaking change (`skillmeat tag ID v2.0.0 --major`).
-- Cleared with the tag when the tag moves to another version.
ALTER TABLE artifact_versions ADD COLUMN breaking INTEGER NOT NULL DEFAULT 0;
