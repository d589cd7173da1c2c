//! The `sync_failures` table, the kill-switch's memory: how many applying syncs of an artifact
//! failed in a row, the last failure, and whether that made the artifact locked. The rules (what
//! counts as a failure, the threshold) belong to [`crate::ops::sync`]; this module is only SQL.

use crate::model::artifact::ArtifactId;
use crate::storage::db::{Database, DbError, query_err};

/// An artifact's run of failed syncs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailureRun {
    pub collection: String,
    pub artifact: String,
    /// Failed applying syncs in a row.
    pub failures: u32,
    /// The last one's message.
    pub last_error: String,
    /// When it failed (RFC 3339).
    pub last_at: String,
    /// When the run reached the threshold and locked the artifact (RFC 3339).
    pub locked_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    collection: String,
    artifact_id: String,
    failures: i64,
    last_error: String,
    last_at: String,
    locked_at: Option<String>,
}

impl From<Row> for FailureRun {
    fn from(r: Row) -> Self {
        Self {
            collection: r.collection,
            artifact: r.artifact_id,
            failures: u32::try_from(r.failures).unwrap_or(u32::MAX),
            last_error: r.last_error,
            last_at: r.last_at,
            locked_at: r.locked_at,
        }
    }
}

macro_rules! columns {
    () => {
        "collection, artifact_id, failures, last_error, last_at, locked_at"
    };
}

/// The artifact's current run of failures, if it has one.
pub async fn get(
    db: &Database,
    collection: &str,
    id: &ArtifactId,
) -> Result<Option<FailureRun>, DbError> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM sync_failures WHERE collection = ? AND artifact_id = ?"
    ))
    .bind(collection.to_owned())
    .bind(id.to_string())
    .fetch_optional(db.reads())
    .await
    .map_err(query_err("read an artifact's failed syncs"))?;
    Ok(row.map(FailureRun::from))
}

/// Counts one more failure in the run (starting one if there is none), locking the artifact
/// when the run reaches `lock_after` (0: never). One statement, so that two writers failing at
/// once count twice. The run as it is now.
pub async fn failed(
    db: &Database,
    collection: &str,
    id: &ArtifactId,
    error: &str,
    at: &str,
    lock_after: u32,
) -> Result<FailureRun, DbError> {
    let row: Row = sqlx::query_as(concat!(
        "INSERT INTO sync_failures (collection, artifact_id, failures, last_error, last_at, \
         locked_at) VALUES (?1, ?2, 1, ?3, ?4, CASE WHEN ?5 = 1 THEN ?4 END) \
         ON CONFLICT (collection, artifact_id) DO UPDATE SET \
         failures = failures + 1, last_error = ?3, last_at = ?4, \
         locked_at = COALESCE(locked_at, \
             CASE WHEN ?5 > 0 AND failures + 1 >= ?5 THEN ?4 END) \
         RETURNING ",
        columns!()
    ))
    .bind(collection.to_owned())
    .bind(id.to_string())
    .bind(error.to_owned())
    .bind(at.to_owned())
    .bind(i64::from(lock_after))
    .fetch_one(db.pool())
    .await
    .map_err(query_err("count a failed sync"))?;
    Ok(row.into())
}

/// Ends the artifact's run of failures (a sync succeeded, or the user unlocked it); the run that
/// was ended, if there was one.
pub async fn clear(
    db: &Database,
    collection: &str,
    id: &ArtifactId,
) -> Result<Option<FailureRun>, DbError> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "DELETE FROM sync_failures WHERE collection = ? AND artifact_id = ? RETURNING ",
        columns!()
    ))
    .bind(collection.to_owned())
    .bind(id.to_string())
    .fetch_optional(db.pool())
    .await
    .map_err(query_err("clear an artifact's failed syncs"))?;
    Ok(row.map(FailureRun::from))
}

/// Every run of failures, locked ones first, then by artifact.
pub async fn list(db: &Database) -> Result<Vec<FailureRun>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM sync_failures ORDER BY locked_at IS NULL, collection, artifact_id"
    ))
    .fetch_all(db.reads())
    .await
    .map_err(query_err("list failed syncs"))?;
    Ok(rows.into_iter().map(FailureRun::from).collect())
}
