//! The kill-switch: an artifact whose applying syncs fail `sync.lock_after_failures` times in a
//! row (3 by default) is locked, and refuses applying syncs until `skillmeat unlock` — so a
//! broken upstream or copy is not retried into the ground by `update --all`, schedules and
//! scripts, and the user is told why instead.
//!
//! What counts: failures of the sync itself (the upstream unreachable or refused, a copy or a
//! records file that cannot be read, SkillMeat or the machine failing). Refusals that protect
//! the user's edits (a pending merge, local edits, a file in the way, a plan that changed, a
//! writer holding the lock) are the sync working as meant and never count; neither do dry runs.
//! One sync that succeeds ends the run.

use crate::model::artifact::ArtifactId;
use crate::model::error::ErrorKind;
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::storage::db::{DB_FILE, Database, DbError};
use crate::storage::sync_failures::{self, FailureRun};

/// Whether a failure of this kind counts toward the lock.
fn counts(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::UpstreamFailed
            | ErrorKind::UpstreamRefused
            | ErrorKind::UnreadableCopy
            | ErrorKind::BadRecords
            | ErrorKind::Internal
    )
}

/// Runs `f` on the home's database: the shared one, or the file opened for the call (`None`
/// when the home has none yet, so nothing was ever counted).
async fn with_db<T>(
    ctx: &Context,
    create: bool,
    f: impl AsyncFnOnce(&Database) -> Result<T, DbError>,
) -> Result<Option<T>, DbError> {
    if let Some(db) = ctx.home.shared_database() {
        return f(db).await.map(Some);
    }
    let path = ctx.home.root().join(DB_FILE);
    let db = if create {
        Database::open(&path).await?
    } else {
        match Database::open_read_only(&path).await? {
            Some(db) => db,
            None => return Ok(None),
        }
    };
    let out = f(&db).await;
    db.close().await;
    out.map(Some)
}

/// Refuses an applying sync of a locked artifact, saying why and what to do. A database that
/// cannot be read does not stop the sync (it is logged): the lock is a brake, not a gate.
pub(crate) async fn refuse_if_locked(
    ctx: &Context,
    collection: &str,
    id: &ArtifactId,
) -> Result<(), OpsError> {
    match with_db(ctx, false, async |db| {
        sync_failures::get(db, collection, id).await
    })
    .await
    {
        Ok(Some(Some(run))) if run.locked_at.is_some() => Err(OpsError::SyncLocked {
            id: id.clone(),
            failures: run.failures,
            since: run.locked_at.unwrap_or_default(),
            last_error: run.last_error,
        }),
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(artifact = %id, "cannot read the artifact's failed syncs: {e}");
            Ok(())
        }
    }
}

/// Counts an applying sync's end: a failure that counts extends the run (and may lock the
/// artifact); a success ends it. Failing to count is logged, never the sync's failure.
pub(crate) async fn count<T>(
    ctx: &Context,
    collection: &str,
    id: &ArtifactId,
    result: &Result<T, OpsError>,
) {
    let counted = match result {
        Ok(_) => {
            with_db(ctx, false, async |db| {
                // A read first: the common case (no run) costs no write.
                match sync_failures::get(db, collection, id).await? {
                    Some(_) => sync_failures::clear(db, collection, id).await.map(|_| ()),
                    None => Ok(()),
                }
            })
            .await
        }
        Err(e) if counts(e.kind()) => {
            let limit = match crate::storage::config::Config::load(&ctx.home) {
                Ok(c) => c.sync.lock_after_failures,
                Err(_) => {
                    crate::storage::config::Config::default()
                        .sync
                        .lock_after_failures
                }
            };
            let at = rfc3339(ctx.now);
            let message = e.to_string();
            with_db(ctx, true, async |db| {
                let run = sync_failures::failed(db, collection, id, &message, &at, limit).await?;
                if run.locked_at.as_deref() == Some(at.as_str()) {
                    tracing::warn!(
                        artifact = %id,
                        failures = run.failures,
                        "syncs failed {} times in a row: the artifact is locked until `skillmeat unlock {id}`",
                        run.failures
                    );
                }
                Ok(())
            })
            .await
        }
        Err(_) => Ok(None),
    };
    if let Err(e) = counted {
        tracing::warn!(artifact = %id, "cannot count the sync's end for the kill-switch: {e}");
    }
}

/// Unlocks an artifact (and forgets its run of failures); the run it ended, if any.
pub async fn unlock(
    ctx: &Context,
    collection: &str,
    id: &ArtifactId,
) -> Result<Option<FailureRun>, OpsError> {
    let run = with_db(ctx, false, async |db| {
        sync_failures::clear(db, collection, id).await
    })
    .await
    .map_err(|e| OpsError::Versions(e.into()))?;
    Ok(run.flatten())
}

/// Every artifact with failed syncs in a row, locked ones first.
pub async fn failing(ctx: &Context) -> Result<Vec<FailureRun>, OpsError> {
    let runs = with_db(ctx, false, async |db| sync_failures::list(db).await)
        .await
        .map_err(|e| OpsError::Versions(e.into()))?;
    Ok(runs.unwrap_or_default())
}
