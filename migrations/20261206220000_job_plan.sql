-- The dry-run job whose plan an applying job must be (with `sync.preview_required`, or when the
-- client names one): the runner checks every artifact against that plan before writing it.
ALTER TABLE jobs ADD COLUMN plan_job INTEGER REFERENCES jobs (id);
