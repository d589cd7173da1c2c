//! The kill-switch over HTTP: the artifacts whose applying syncs failed in a row (locked ones
//! first), and unlocking one.

use axum::Json;
use axum::extract::State;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::sync::killswitch;

use super::extract::{ApiQuery, IdPath};
use super::types::{ErrorBody, FailingSyncView, FailingSyncsView, Scope, UnlockedView};
use super::{ApiError, ApiState};

/// Every artifact with failed syncs in a row; those at `sync.lock_after_failures` are locked
/// (their applying syncs answer 409 `artifact_locked`) until unlocked.
#[utoipa::path(
    get, path = "/api/v1/sync/failures", tag = "jobs",
    responses(
        (status = 200, body = FailingSyncsView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn list(State(state): State<ApiState>) -> Result<Json<FailingSyncsView>, ApiError> {
    failing(&state).await.map(Json)
}

/// The artifacts with failed syncs in a row (see [`list`]).
pub async fn failing(state: &ApiState) -> Result<FailingSyncsView, ApiError> {
    let ctx = state.ctx();
    let runs = killswitch::failing(&ctx).await?;
    let config = skillmeat_core::storage::config::Config::load(&ctx.home)
        .map_err(|e| ApiError::from(skillmeat_core::ops::OpsError::from(e)))?;
    Ok(FailingSyncsView {
        artifacts: runs.into_iter().map(FailingSyncView::from).collect(),
        lock_after_failures: config.sync.lock_after_failures,
    })
}

/// Unlocks an artifact the kill-switch locked, and forgets its run of failures; unlocking one
/// that is not locked changes nothing and says so (`was_locked: false`).
#[utoipa::path(
    delete, path = "/api/v1/artifacts/{id}/lock", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), Scope),
    responses(
        (status = 200, body = UnlockedView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn unlock(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<UnlockedView>, ApiError> {
    unlock_artifact(&state, id, scope.collection)
        .await
        .map(Json)
}

/// Unlocks an artifact (see [`unlock`]).
pub async fn unlock_artifact(
    state: &ApiState,
    id: ArtifactId,
    collection: Option<String>,
) -> Result<UnlockedView, ApiError> {
    let (collection, _, _) = state.collection(collection.as_deref())?;
    let run = killswitch::unlock(&state.ctx(), &collection, &id).await?;
    Ok(UnlockedView {
        artifact: id.to_string(),
        was_locked: run.as_ref().is_some_and(|r| r.locked_at.is_some()),
        run: run.map(FailingSyncView::from),
    })
}
