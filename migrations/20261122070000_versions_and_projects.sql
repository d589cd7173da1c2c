-- The version store's index (DESIGN §3) and the registered projects (DESIGN §2).

-- One row per version an artifact has had, as SkillMeat wrote or saw it. The content itself is
-- a tree in store.git (tree_id); its lineage a commit there (commit_id) whose parents are the
-- commits of the versions it came from. Identical content in two artifacts is two rows sharing
-- one tree.
CREATE TABLE artifact_versions (
    id              INTEGER PRIMARY KEY,
    artifact_id     TEXT NOT NULL,                 -- `<type>:<name>`
    content_hash    TEXT NOT NULL,                 -- v1 hash, 64 hex
    tree_id         TEXT NOT NULL,                 -- git tree in store.git
    commit_id       TEXT NOT NULL,                 -- git commit in store.git
    parent_hash     TEXT,                          -- first parent (may be a hash no row has: legacy)
    parent_hashes   TEXT NOT NULL DEFAULT '[]',    -- JSON array of every parent; a merge has two
    version_lineage TEXT NOT NULL,                 -- JSON array of hashes, newest first, self first
    change_origin   TEXT NOT NULL CHECK (change_origin IN
                        ('deployment', 'sync', 'local_modification', 'merge', 'rollback')),
    created_at      TEXT NOT NULL,                 -- RFC 3339, UTC
    version_tag     TEXT,
    metadata        TEXT NOT NULL DEFAULT '{}',    -- JSON object
    UNIQUE (artifact_id, content_hash)
);

CREATE INDEX artifact_versions_by_artifact ON artifact_versions (artifact_id, id);
-- A tag names one version of an artifact.
CREATE UNIQUE INDEX artifact_versions_tag ON artifact_versions (artifact_id, version_tag)
    WHERE version_tag IS NOT NULL;

-- Projects SkillMeat has deployed into, by canonical path.
CREATE TABLE projects (
    path             TEXT PRIMARY KEY,
    registered_at    TEXT NOT NULL,
    last_deployed_at TEXT NOT NULL
);
