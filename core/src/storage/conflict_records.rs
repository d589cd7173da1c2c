//! The `conflict_records` table: one row per pending merge, kept after it ends with how it ended
//! (resolved with a hash, or aborted). The pending merge itself lives in `pending/`
//! ([`conflicts`](crate::ops::conflicts) owns that); this module is only its SQL.

use std::path::Path;

use crate::model::artifact::ArtifactId;
use crate::model::hash::ContentHash;
use crate::storage::db::{Database, DbError, query_err};
use crate::storage::events::Event;

/// A conflict as first recorded, when its pending merge is created.
#[derive(Debug, Clone, Copy)]
pub struct NewConflict<'a> {
    pub artifact: &'a ArtifactId,
    /// The sync's full direction name.
    pub direction: &'a str,
    pub project: Option<&'a Path>,
    /// When it was found (RFC 3339).
    pub detected_at: &'a str,
    /// Base, target ("ours") and source ("theirs") versions.
    pub base: Option<ContentHash>,
    pub ours: Option<ContentHash>,
    pub theirs: ContentHash,
    /// The strategy's name.
    pub strategy: &'a str,
    /// The conflicted files not decided yet.
    pub unresolved: &'a [String],
}

fn paths_json(paths: &[String]) -> String {
    serde_json::to_string(paths).unwrap_or_else(|_| "[]".to_owned())
}

/// Inserts the row of a new pending merge; its id.
/// `event` (the conflict found) is written in the same transaction, given the record's id in
/// its detail.
pub async fn insert(db: &Database, c: &NewConflict<'_>, event: &Event) -> Result<i64, DbError> {
    let mut tx = db
        .pool()
        .begin()
        .await
        .map_err(query_err("begin recording a conflict"))?;
    let row = sqlx::query(
        "INSERT INTO conflict_records (artifact_id, direction, project_path, detected_at, \
         base_hash, ours_hash, theirs_hash, strategy, unresolved_files) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.artifact.to_string())
    .bind(c.direction.to_owned())
    .bind(c.project.map(|p| p.to_string_lossy().into_owned()))
    .bind(c.detected_at.to_owned())
    .bind(c.base.map(|h| h.to_hex()))
    // The column is NOT NULL: a target without a version is recorded as ''.
    .bind(c.ours.map(|h| h.to_hex()).unwrap_or_default())
    .bind(c.theirs.to_hex())
    .bind(c.strategy.to_owned())
    .bind(paths_json(c.unresolved))
    .execute(&mut *tx)
    .await
    .map_err(query_err("record a conflict"))?;
    let id = row.last_insert_rowid();
    let mut event = event.clone();
    event.detail = serde_json::json!({ "conflict_record": id });
    crate::storage::events::insert(&mut tx, &event).await?;
    tx.commit().await.map_err(query_err("commit a conflict"))?;
    Ok(id)
}

/// Keeps which conflicted files of row `id` are still undecided.
pub async fn set_unresolved(db: &Database, id: i64, unresolved: &[String]) -> Result<(), DbError> {
    sqlx::query("UPDATE conflict_records SET unresolved_files = ? WHERE id = ?")
        .bind(paths_json(unresolved))
        .bind(id)
        .execute(db.pool())
        .await
        .map_err(query_err("update a conflict record"))?;
    Ok(())
}

/// Marks row `id` as ended: `resolution` is how (a strategy, or `aborted`), `resolved_hash` the
/// content it ended with; `events` (how it ended) are written in the same transaction.
pub async fn close(
    db: &Database,
    id: i64,
    resolution: &str,
    resolved_hash: Option<&str>,
    at: &str,
    events: &[Event],
) -> Result<(), DbError> {
    let mut tx = db
        .pool()
        .begin()
        .await
        .map_err(query_err("begin closing a conflict record"))?;
    sqlx::query(
        "UPDATE conflict_records SET resolution = ?, resolved_hash = ?, resolved_at = ?, \
         unresolved_files = '[]' WHERE id = ?",
    )
    .bind(resolution.to_owned())
    .bind(resolved_hash.map(str::to_owned))
    .bind(at.to_owned())
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(query_err("close a conflict record"))?;
    for e in events {
        crate::storage::events::insert(&mut tx, e).await?;
    }
    tx.commit()
        .await
        .map_err(query_err("commit closing a conflict record"))?;
    Ok(())
}
