-- `remove` (an artifact taken out of a collection) and `undeploy` (a copy taken out of a
-- project) join the audit trail's kinds (issue 20). SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt with the wider list; every row keeps its id.
CREATE TABLE events_new (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN
                     ('deploy', 'sync', 'conflict', 'resolve', 'abort', 'rollback', 'tag',
                      'remove', 'undeploy')),
    artifact_id  TEXT NOT NULL,
    collection   TEXT NOT NULL,
    project_path TEXT,
    direction    TEXT,
    strategy     TEXT,
    status       TEXT,
    outcome      TEXT,
    base_hash    TEXT,
    source_hash  TEXT,
    target_hash  TEXT,
    result_hash  TEXT,
    merged       TEXT NOT NULL DEFAULT '[]',
    conflicted   TEXT NOT NULL DEFAULT '[]',
    resolutions  TEXT NOT NULL DEFAULT '{}',    -- file → ours|theirs|custom|hunks|fork
    detail       TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO events_new SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_artifact ON events (artifact_id, id);
CREATE INDEX events_by_project ON events (project_path, id) WHERE project_path IS NOT NULL;
CREATE INDEX events_by_kind ON events (kind, id);
