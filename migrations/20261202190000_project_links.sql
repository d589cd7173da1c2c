-- A project's opt-in to writes through symlinks in its .claude/ that lead out of the project
-- (a dotfile manager that links ~/.claude/skills on purpose). Off unless the user says so with
-- `skillmeat project allow-links`; a project's own files can never turn it on.
ALTER TABLE projects ADD COLUMN allow_links_outside INTEGER NOT NULL DEFAULT 0;
