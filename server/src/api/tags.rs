//! Versions with meaning: the changelog between two versions, the next semver tag proposed, and
//! tagging a version (with its breaking-change marker).

use axum::Json;
use axum::extract::State;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;

use super::extract::{ApiJson, ApiQuery, IdPath};
use super::types::{
    ChangelogQuery, ChangelogView, ErrorBody, NextTagQuery, NextTagView, TagRequest, TaggedView,
};
use super::{ApiError, ApiState};

/// The steps between two recorded versions, newest first: per step the files changed and what
/// the change means in semver terms.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/changelog", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), ChangelogQuery),
    responses(
        (status = 200, body = ChangelogView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn changelog(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ChangelogQuery>,
) -> Result<Json<ChangelogView>, ApiError> {
    changelog_of(&state, id, q.from.as_deref(), q.to.as_deref())
        .await
        .map(Json)
}

/// The changelog as the API and the artifact page show it.
pub async fn changelog_of(
    state: &ApiState,
    id: ArtifactId,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ChangelogView, ApiError> {
    let (collection, _, _) = state.collection(None)?;
    let log = ops::changelog(&state.ctx(), &id, &collection, from, to).await?;
    Ok(ChangelogView::from(&log))
}

/// The next semver tag for a version (the collection's current one by default): the last
/// semver tag bumped by what changed since. Tags nothing.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/tags/next", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), NextTagQuery),
    responses(
        (status = 200, body = NextTagView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn next(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<NextTagQuery>,
) -> Result<Json<NextTagView>, ApiError> {
    next_of(&state, id, q.version.as_deref(), q.collection.as_deref())
        .await
        .map(Json)
}

/// The proposal as the API and the artifact page show it.
pub async fn next_of(
    state: &ApiState,
    id: ArtifactId,
    version: Option<&str>,
    collection: Option<&str>,
) -> Result<NextTagView, ApiError> {
    let (collection, _, _) = state.collection(collection)?;
    let next = ops::next_tag(&state.ctx(), &id, &collection, version).await?;
    Ok(NextTagView::from(&next))
}

/// Names a version with a tag (the collection's current version unless `version` is given),
/// marking it as a breaking change or not. A tag names one version per artifact: moving it
/// needs `force`.
#[utoipa::path(
    post, path = "/api/v1/artifacts/{id}/tags", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`")),
    request_body = TagRequest,
    responses(
        (status = 200, body = TaggedView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The tag names another version", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<TagRequest>,
) -> Result<Json<TaggedView>, ApiError> {
    tag_version(&state, id, req).await.map(Json)
}

/// Tags a version (see [`create`]).
pub async fn tag_version(
    state: &ApiState,
    id: ArtifactId,
    req: TagRequest,
) -> Result<TaggedView, ApiError> {
    let (collection, _, _) = state.collection(req.collection.as_deref())?;
    let v = ops::tag(
        &state.ctx(),
        &id,
        &collection,
        &req.tag,
        req.version.as_deref(),
        req.breaking,
        req.force,
    )
    .await?;
    Ok(TaggedView {
        id: id.to_string(),
        hash: v.content_hash.to_hex(),
        tag: v.version_tag.unwrap_or(req.tag),
        breaking: v.breaking,
    })
}
