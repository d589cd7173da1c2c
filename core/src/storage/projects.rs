//! Registered projects: every folder SkillMeat has deployed into, so `drift` and the server can
//! find them without being told. Stored in the `projects` table by canonical path, with the
//! project's opt-in to writes through links that leave it ([`check_links`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::storage::db::{Database, DbError, query_err};

/// Registers `project` (canonicalised), or refreshes its last deployment time.
pub async fn register(db: &Database, project: &Path, now: SystemTime) -> Result<PathBuf, DbError> {
    let path = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_owned());
    let stamp = crate::model::time::rfc3339(now);
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

/// Whether the user allowed writes through links out of `path` (canonical).
pub async fn allows_links_outside(db: &Database, path: &Path) -> Result<bool, DbError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT allow_links_outside FROM projects WHERE path = ?")
            .bind(path.to_string_lossy().into_owned())
            .fetch_optional(db.reads())
            .await
            .map_err(query_err("read a project's link setting"))?;
    Ok(found.unwrap_or(0) != 0)
}

/// Registers `project` if needed and sets its opt-in to writes through links out of it.
/// Returns the canonical path.
pub async fn set_links_outside(
    db: &Database,
    project: &Path,
    allow: bool,
    now: SystemTime,
) -> Result<PathBuf, DbError> {
    let path = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_owned());
    let stamp = crate::model::time::rfc3339(now);
    sqlx::query(
        "INSERT INTO projects (path, registered_at, last_deployed_at, allow_links_outside) \
         VALUES (?, ?, ?, ?) \
         ON CONFLICT (path) DO UPDATE SET allow_links_outside = excluded.allow_links_outside",
    )
    .bind(path.to_string_lossy().into_owned())
    .bind(stamp.clone())
    .bind(stamp)
    .bind(i64::from(allow))
    .execute(db.pool())
    .await
    .map_err(query_err("set a project's link setting"))?;
    Ok(path)
}

/// The folders below a project that SkillMeat writes in.
const WRITTEN_FOLDERS: &[&str] = &[
    ".claude",
    ".claude/skills",
    ".claude/commands",
    ".claude/agents",
    ".claude/output-styles",
];

/// A folder of a project's `.claude/` whose real path leaves the project.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{} leads to {}, outside the project {}: SkillMeat does not write out of a project through a \
     symlink. If the link is yours on purpose (a dotfile manager's), allow it with \
     `skillmeat project allow-links {}`",
    link.display(), resolved.display(), project.display(), project.display()
)]
pub struct LinkOutside {
    /// The folder as named below the project (e.g. `P/.claude/skills`).
    pub link: PathBuf,
    /// Where it really is.
    pub resolved: PathBuf,
    /// The project (canonical).
    pub project: PathBuf,
}

/// Refuses a project whose `.claude/` (or its `skills/`, `commands/`, `agents/`,
/// `output-styles/`) resolves,
/// through any symlink on the way, to a place outside the project root. Every write into a
/// project (deploy, sync, resolve, rollback, the records file) happens below these folders, and
/// an artifact's own folder or file being a symlink is refused by hashing, so this one check
/// keeps every write inside. Folders that do not exist yet pass: SkillMeat creates them as
/// real folders.
pub fn check_links(project: &Path) -> Result<(), LinkOutside> {
    let Ok(root) = project.canonicalize() else {
        return Ok(());
    };
    for rel in WRITTEN_FOLDERS {
        let link = project.join(rel);
        if std::fs::symlink_metadata(&link).is_err() {
            continue;
        }
        // A dangling link resolves nowhere; it is as much outside as any other.
        let resolved = link
            .canonicalize()
            .unwrap_or_else(|_| std::fs::read_link(&link).unwrap_or_else(|_| link.clone()));
        if !resolved.starts_with(&root) {
            return Err(LinkOutside {
                link,
                resolved,
                project: root,
            });
        }
    }
    Ok(())
}

/// Notes that the scheduled check compared `path`'s copies at `at` (RFC 3339).
pub async fn set_checked(db: &Database, path: &Path, at: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE projects SET last_checked_at = ? WHERE path = ?")
        .bind(at.to_owned())
        .bind(path.to_string_lossy().into_owned())
        .execute(db.pool())
        .await
        .map_err(query_err("note a project check"))?;
    Ok(())
}

/// When the scheduled check last compared `path`'s copies, if it ever did.
pub async fn last_checked(db: &Database, path: &Path) -> Result<Option<String>, DbError> {
    let at: Option<Option<String>> =
        sqlx::query_scalar("SELECT last_checked_at FROM projects WHERE path = ?")
            .bind(path.to_string_lossy().into_owned())
            .fetch_optional(db.reads())
            .await
            .map_err(query_err("read a project check"))?;
    Ok(at.flatten())
}
