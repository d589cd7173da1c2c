//! Update jobs ("Update everywhere"): artifacts from their upstreams into the collection, then
//! into every chosen project where they are deployed, as one job with a step per project.

use std::path::PathBuf;

use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::Response;
use skillmeat_core::jobs::{JobKind, NewJob, UpdateParams};
use skillmeat_core::ops::sync::{Direction, Strategy};
use skillmeat_core::storage::records::DeploymentFile;

use super::extract::ApiJson;
use super::jobs::{check_plan, idempotency_key, named_artifacts, queue};
use super::types::UpdateJob;
use super::{ApiError, ApiState, TraceId};

/// Starts an update job.
#[utoipa::path(
    post, path = "/api/v1/sync/update", tag = "jobs",
    request_body = UpdateJob,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeated key returns the job the first request made")),
    responses(
        (status = 202, description = "Queued (persisted before this response). Its `result` has one row per artifact: `result`, `bump`, `detail`, and `steps` (`project`, null for the step from the upstream, then `result`, `bump`, `detail`) with their `reports`", body = super::types::JobView),
        (status = 401, body = super::types::ErrorBody), (status = 403, body = super::types::ErrorBody),
        (status = 409, description = "`preview_required`: an apply without `plan_job` while `sync.preview_required` is on; `plan_not_ready`: the named plan is still running", body = super::types::ErrorBody),
        (status = 413, body = super::types::ErrorBody), (status = 415, body = super::types::ErrorBody),
        (status = 422, description = "Invalid: `unregistered_project`, `link_outside_project`, `not_in_collection`, `nothing_to_sync`; `plan_mismatch` / `unknown_plan_job` when `plan_job` is not a dry run of this request", body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    Extension(trace): Extension<TraceId>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<UpdateJob>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let job = new_update_job(&state, req, key, trace).await?;
    queue(&state, job).await
}

/// Checks an update request and turns it into the job to queue. The projects are fixed here
/// (every registered one something is deployed in, when the request names none), so that a
/// preview and the apply that names it cover the same ones.
pub async fn new_update_job(
    state: &ApiState,
    req: UpdateJob,
    key: Option<String>,
    trace: TraceId,
) -> Result<NewJob, ApiError> {
    let (collection, _dir, manifest) = state.collection(req.collection.as_deref())?;
    let mut artifacts = match &req.artifacts {
        Some(list) => named_artifacts(list, &manifest, &collection)?,
        None => manifest.artifacts.iter().map(|e| e.id.clone()).collect(),
    };
    if req.artifacts.is_none() {
        artifacts.sort_by_key(ToString::to_string);
    }
    if artifacts.is_empty() {
        return Err(ApiError::invalid(
            "nothing_to_sync",
            "no artifact to update: the collection is empty, or `artifacts` names none",
        ));
    }
    let projects = match &req.projects {
        Some(list) => {
            let mut checked = Vec::with_capacity(list.len());
            for path in list {
                if let Some(p) = state.project_to_write(Some(path)).await?
                    && !checked.contains(&p)
                {
                    checked.push(p);
                }
            }
            checked
        }
        None => every_project(state).await?,
    };
    let config = skillmeat_core::storage::config::Config::load(&state.ctx().home)
        .map_err(|e| ApiError::from(skillmeat_core::ops::OpsError::from(e)))?;
    let job = NewJob {
        kind: JobKind::Update,
        resolve: None,
        update: Some(UpdateParams { projects }),
        direction: Direction::UpstreamToCollection,
        artifact_ids: artifacts,
        project_path: None,
        collection,
        strategy: match req.strategy {
            Some(s) => Strategy::from(s),
            None => config.sync.default_strategy.parse().unwrap_or_default(),
        },
        dry_run: req.dry_run.unwrap_or(true),
        plan_job: req.plan_job,
        trace_id: trace.id,
        parent_span_id: trace.span,
        idempotency_key: key,
    };
    check_plan(state, &job, config.sync.preview_required).await?;
    Ok(job)
}

/// Every registered project something is deployed in, each checked as a request naming it
/// would be; one deleted or moved since is kept, and the job reports it.
async fn every_project(state: &ApiState) -> Result<Vec<PathBuf>, ApiError> {
    let mut projects = Vec::new();
    for p in state.registered_projects().await? {
        if !p.is_dir() {
            projects.push(p);
            continue;
        }
        if !DeploymentFile::path_in(&p).is_file() {
            continue;
        }
        let Some(text) = p.to_str() else {
            return Err(ApiError::invalid(
                "bad_project_path",
                format!(
                    "the registered project {} has a path that is not UTF-8: name the \
                     projects to update in `projects`",
                    p.display()
                ),
            ));
        };
        if let Some(p) = state.project_to_write(Some(text)).await?
            && !projects.contains(&p)
        {
            projects.push(p);
        }
    }
    Ok(projects)
}
