//! The audit trail: every deploy, sync, conflict, resolution, abort, rollback and tag, newest
//! first, with filters and pages (`GET /events/log`), and one artifact's trail with its conflict
//! history (`GET /artifacts/{id}/events`).

use axum::Json;
use axum::extract::State;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;
use skillmeat_core::storage::events::{EventFilter, EventKind, MAX_PAGE};

use super::extract::{ApiQuery, IdPath, artifact_id};
use super::types::{ArtifactLogView, ErrorBody, LogPageView, LogQuery, Scope, TimelineView};
use super::{ApiError, ApiState};

/// Events of every artifact, or of `artifact`, newest first.
#[utoipa::path(
    get, path = "/api/v1/events/log", tag = "artifacts",
    params(LogQuery),
    responses(
        (status = 200, body = LogPageView),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<LogPageView>, ApiError> {
    let artifact = q.artifact.as_deref().map(artifact_id).transpose()?;
    let filter = filter(&state, artifact, &q).await?;
    let page = ops::log(&state.ctx(), &filter).await?;
    Ok(Json(LogPageView::from(&page)))
}

/// One artifact's events, newest first, and how often its merges conflicted, on which files,
/// and how each was settled.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/events", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), LogQuery),
    responses(
        (status = 200, body = ArtifactLogView),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn of_artifact(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<ArtifactLogView>, ApiError> {
    if q.artifact.is_some() {
        return Err(ApiError::invalid(
            "bad_query",
            "the artifact is in the path: leave `artifact` out",
        ));
    }
    artifact_log(&state, id, &q).await.map(Json)
}

/// An artifact's trail as the API and the artifact page show it.
pub async fn artifact_log(
    state: &ApiState,
    id: ArtifactId,
    q: &LogQuery,
) -> Result<ArtifactLogView, ApiError> {
    let filter = filter(state, Some(id.clone()), q).await?;
    let ctx = state.ctx();
    let page = ops::log(&ctx, &filter).await?;
    let conflicts = ops::conflict_history(&ctx, &id).await?;
    let page = LogPageView::from(&page);
    Ok(ArtifactLogView {
        id: id.to_string(),
        events: page.events,
        next_before: page.next_before,
        conflicts: conflicts.into(),
    })
}

async fn filter(
    state: &ApiState,
    artifact: Option<ArtifactId>,
    q: &LogQuery,
) -> Result<EventFilter, ApiError> {
    let kinds = match q.kind.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| k.trim().parse::<EventKind>())
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::invalid("bad_query", e))?,
    };
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::invalid(
            "bad_query",
            format!("limit must be 1 to {MAX_PAGE}"),
        ));
    }
    if let Some(since) = &q.since
        && !looks_like_time(since)
    {
        return Err(ApiError::invalid(
            "bad_query",
            "since must be an RFC 3339 time (2026-12-01T09:00:00Z) or a date (2026-12-01)",
        ));
    }
    Ok(EventFilter {
        artifact,
        kinds,
        project: state.project(q.project_path.as_deref()).await?,
        since: q.since.clone(),
        before: q.before,
        limit,
    })
}

/// A date (`2026-12-01`) or a time after one (`2026-12-01T…`): what compares in order with the
/// log's RFC 3339 stamps.
fn looks_like_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && (b.len() == 10 || b[10] == b'T')
}

/// The modification timeline of an artifact's copy in a registered project: deployed at, when
/// a local edit was first seen, when it was last checked, how many versions, baseline and parent.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/timeline", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), Scope),
    responses(
        (status = 200, body = TimelineView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn timeline(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<TimelineView>, ApiError> {
    let Some(project) = scope.project_path else {
        return Err(ApiError::invalid(
            "bad_query",
            "project_path is required: the timeline is of a deployed copy",
        ));
    };
    timeline_of(&state, id, &project).await.map(Json)
}

/// A copy's timeline as the API and the artifact page show it.
pub async fn timeline_of(
    state: &ApiState,
    id: ArtifactId,
    project: &str,
) -> Result<TimelineView, ApiError> {
    let project = state
        .project(Some(project))
        .await?
        .ok_or_else(|| ApiError::invalid("bad_query", "project_path is required"))?;
    let t = ops::timeline(&state.ctx(), &id, &project).await?;
    Ok(TimelineView::from(&t))
}
