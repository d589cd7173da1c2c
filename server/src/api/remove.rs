//! Taking an artifact out of its collection, and a copy out of a project.

use axum::Json;
use axum::extract::State;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;

use super::extract::{ApiQuery, IdPath};
use super::types::{
    ErrorBody, RemoveQuery, RemovedView, UndeployQuery, UndeployView, UndeployedView,
};
use super::{ApiError, ApiState};

/// Takes an artifact out of its collection (files, manifest and lock entries; its versions stay
/// in the history). Refused while a registered project has it (409 `still_deployed`) unless
/// `undeploy`, and while a merge of it is pending (409).
#[utoipa::path(
    delete, path = "/api/v1/artifacts/{id}", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), RemoveQuery),
    responses(
        (status = 200, body = RemovedView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Still deployed, a copy with local edits, or a merge pending", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn remove(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<RemoveQuery>,
) -> Result<Json<RemovedView>, ApiError> {
    remove_artifact(&state, id, q.collection.as_deref(), q.undeploy, q.force)
        .await
        .map(Json)
}

/// Removes an artifact (see [`remove`]).
pub async fn remove_artifact(
    state: &ApiState,
    id: ArtifactId,
    collection: Option<&str>,
    undeploy: bool,
    force: bool,
) -> Result<RemovedView, ApiError> {
    let (collection, _, _) = state.collection(collection)?;
    let done = ops::remove(&state.ctx(), &id, &collection, undeploy, force).await?;
    Ok(RemovedView {
        id: done.id.to_string(),
        collection: done.collection,
        content_hash: done.content_hash.map(|h| h.to_hex()),
        undeployed: done.undeployed.iter().map(view).collect(),
        warnings: done.warnings,
    })
}

/// Takes an artifact's copy out of a project's `.claude/`, and its record. A copy with edits of
/// its own is refused (409) unless `force`, which records them in the version store first.
#[utoipa::path(
    delete, path = "/api/v1/artifacts/{id}/deployments", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), UndeployQuery),
    responses(
        (status = 200, body = UndeployView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A copy with local edits, or a merge pending", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn undeploy(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<UndeployQuery>,
) -> Result<Json<UndeployView>, ApiError> {
    undeploy_copy(
        &state,
        id,
        &q.project_path,
        q.collection.as_deref(),
        q.force,
    )
    .await
    .map(Json)
}

/// Undeploys one copy (see [`undeploy`]).
pub async fn undeploy_copy(
    state: &ApiState,
    id: ArtifactId,
    project_path: &str,
    collection: Option<&str>,
    force: bool,
) -> Result<UndeployView, ApiError> {
    let (collection, _, _) = state.collection(collection)?;
    let project = state
        .project_to_write(Some(project_path))
        .await?
        .ok_or_else(|| ApiError::invalid("invalid", "name the project in `project_path`"))?;
    let done = ops::undeploy(
        &state.ctx(),
        std::slice::from_ref(&id),
        &project,
        &collection,
        force,
    )
    .await?;
    Ok(UndeployView {
        undeployed: done.undeployed.iter().map(view).collect(),
        warnings: done.warnings,
    })
}

fn view(u: &ops::Undeployed) -> UndeployedView {
    UndeployedView {
        id: u.id.to_string(),
        project_path: u.project.display().to_string(),
        content_hash: u.content_hash.map(|h| h.to_hex()),
        local_edits: u.local_edits,
    }
}
