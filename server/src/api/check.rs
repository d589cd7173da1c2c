//! `GET /check`: artifacts the way Claude Code reads them (see `skillmeat check`).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use skillmeat_core::model::artifact::ArtifactId;
use utoipa::IntoParams;

use super::extract::ApiQuery;
use super::types::{CheckView, CheckedView, ErrorBody, FindingView};
use super::{ApiError, ApiState};

/// What to check.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// Artifact ids, comma-separated (default: every artifact, or every one deployed there).
    pub ids: Option<String>,
    /// Check the copies in this registered project, and the project as a scope.
    pub project_path: Option<String>,
    pub collection: Option<String>,
}

/// The findings per artifact: SKILL.md frontmatter and naming, agents Claude Code would skip,
/// keys an upload refuses, and in a project two agents of one name and what hides what.
#[utoipa::path(
    get, path = "/api/v1/check", tag = "artifacts",
    params(CheckQuery),
    responses(
        (status = 200, body = CheckView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn check(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<CheckQuery>,
) -> Result<Json<CheckView>, ApiError> {
    let ids = q
        .ids
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    check_view(&state, ids, q.project_path, q.collection)
        .await
        .map(Json)
}

/// Checks (see [`check`]).
pub async fn check_view(
    state: &ApiState,
    ids: Vec<String>,
    project: Option<String>,
    collection: Option<String>,
) -> Result<CheckView, ApiError> {
    let ids = ids
        .iter()
        .map(|s| {
            s.parse::<ArtifactId>()
                .map_err(|e| ApiError::invalid("bad_artifact_id", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (collection, _, _) = state.collection(collection.as_deref())?;
    let project = state.project(project.as_deref()).await?;
    let ctx = state.ctx();
    let user = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let report = tokio::task::spawn_blocking(move || {
        skillmeat_core::ops::check::check(
            &ctx,
            &ids,
            &collection,
            project.as_deref(),
            user.as_deref(),
        )
        .map_err(ApiError::from)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(CheckView {
        scope: report.scope,
        artifacts: report
            .artifacts
            .into_iter()
            .map(|a| CheckedView {
                id: a.id.to_string(),
                path: a.path.display().to_string(),
                findings: a
                    .findings
                    .into_iter()
                    .map(|f| FindingView {
                        severity: match f.severity {
                            skillmeat_core::engine::check::Severity::Error => "error".to_owned(),
                            skillmeat_core::engine::check::Severity::Warning => {
                                "warning".to_owned()
                            }
                        },
                        code: f.code.to_owned(),
                        message: f.message,
                    })
                    .collect(),
            })
            .collect(),
    })
}
