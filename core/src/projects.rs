//! Registered projects: every folder SkillMeat has deployed into, so `drift` and the server can
//! find them without being told. Stored in the `projects` table by canonical path.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::db::{Database, DbError, query_err};

/// Registers `project` (canonicalised), or refreshes its last deployment time.
pub async fn register(db: &Database, project: &Path, now: SystemTime) -> Result<PathBuf, DbError> {
    let path = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_owned());
    let stamp = crate::ops::rfc3339(now);
    sqlx::query(
        "INSERT INTO projects (path, registered_at, last_deployed_at) VALUES (?, ?, ?) \
         ON CONFLICT (path) DO UPDATE SET last_deployed_at = excluded.last_deployed_at",
    )
    .bind(path.to_string_lossy().into_owned())
    .bind(stamp.clone())
    .bind(stamp)
    .execute(db.pool())
    .await
    .map_err(query_err("register a project"))?;
    Ok(path)
}

/// Every registered project, by path.
pub async fn list(db: &Database) -> Result<Vec<PathBuf>, DbError> {
    let paths: Vec<String> = sqlx::query_scalar("SELECT path FROM projects ORDER BY path")
        .fetch_all(db.reads())
        .await
        .map_err(query_err("list projects"))?;
    Ok(paths.into_iter().map(PathBuf::from).collect())
}

/// Whether `path` (already canonical) is a registered project.
pub async fn is_registered(db: &Database, path: &Path) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM projects WHERE path = ?")
        .bind(path.to_string_lossy().into_owned())
        .fetch_optional(db.reads())
        .await
        .map_err(query_err("look up a project"))?;
    Ok(found.is_some())
}
