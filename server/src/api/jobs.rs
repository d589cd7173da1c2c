//! Sync and resolve jobs: create (persisted before the response), read, list, cancel, and
//! follow over SSE.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use skillmeat_core::engine::merge::HunkChoice;
use skillmeat_core::jobs::{
    CancelOutcome, Job, JobEvent, JobFilter, JobKind, JobState, JobStore, NewJob, ResolveParams,
    settled,
};
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::sync::{Direction, Strategy};
use skillmeat_core::ops::{conflicts, fragments};
use skillmeat_core::storage::records::DeploymentFile;

use super::extract::{ApiJson, ApiPath, ApiQuery, artifact_id};
use super::types::{Cancelled, CreateJob, EventView, JobList, JobQuery, JobView, ResolveRequest};
use super::{ApiError, ApiState, TraceId};

/// How often an SSE stream looks for new events.
const POLL: Duration = Duration::from_millis(25);

/// The longest `Idempotency-Key` accepted.
const MAX_KEY: usize = 200;

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY)
        .ok_or_else(|| {
            ApiError::invalid(
                "bad_idempotency_key",
                format!("Idempotency-Key must be 1–{MAX_KEY} visible ASCII characters"),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Queues `job` (or finds the one made with its idempotency key) and answers 202.
pub(super) async fn queue(state: &ApiState, job: NewJob) -> Result<Response, ApiError> {
    let (stored, created) = enqueue(state, job).await?;
    let location = format!("/api/v1/sync/jobs/{}", stored.id);
    let mut response = (StatusCode::ACCEPTED, Json(JobView::from(stored))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if !created {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Stores a job (or finds the one its idempotency key made) and wakes the runner.
pub async fn enqueue(state: &ApiState, job: NewJob) -> Result<(Job, bool), ApiError> {
    let asked = job.clone();
    let (stored, created) = state
        .0
        .jobs
        .create(job, SystemTime::now())
        .await
        .map_err(ApiError::internal)?;
    if !created && !same_request(&asked, &stored) {
        return Err(ApiError::invalid(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key",
        ));
    }
    if created {
        state.0.runner.wake();
    }
    Ok((stored, created))
}

fn same_request(asked: &NewJob, stored: &Job) -> bool {
    asked.kind == stored.kind
        && asked.direction == stored.direction
        && asked.artifact_ids == stored.artifact_ids
        && asked.project_path == stored.project_path
        && asked.collection == stored.collection
        && asked.strategy == stored.strategy
        && asked.dry_run == stored.dry_run
        && asked.plan_job == stored.plan_job
        && asked.resolve == stored.resolve
        && asked.update == stored.update
}

/// Starts a sync job.
#[utoipa::path(
    post, path = "/api/v1/sync/jobs", tag = "jobs",
    request_body = CreateJob,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeated key returns the job the first request made")),
    responses(
        (status = 202, description = "Queued (persisted before this response)", body = JobView),
        (status = 401, body = super::types::ErrorBody), (status = 403, body = super::types::ErrorBody),
        (status = 409, description = "`preview_required`: an apply without `plan_job` while `sync.preview_required` is on; `plan_not_ready`: the named plan is still running", body = super::types::ErrorBody),
        (status = 413, body = super::types::ErrorBody), (status = 415, body = super::types::ErrorBody),
        (status = 422, description = "Invalid; `plan_mismatch` / `unknown_plan_job` when `plan_job` is not a dry run of this request", body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    Extension(trace): Extension<TraceId>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateJob>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let job = new_sync_job(&state, req, key, trace).await?;
    queue(&state, job).await
}

/// Checks a sync request and turns it into the job to queue.
pub async fn new_sync_job(
    state: &ApiState,
    req: CreateJob,
    key: Option<String>,
    trace: TraceId,
) -> Result<NewJob, ApiError> {
    let (collection, _dir, manifest) = state.collection(req.collection.as_deref())?;
    let direction: Direction = req.direction.into();
    let project = if direction == Direction::ProjectToCollection {
        state.project(req.project_path.as_deref()).await?
    } else {
        state.project_to_write(req.project_path.as_deref()).await?
    };
    match (direction.needs_project(), &project) {
        (true, None) => {
            return Err(ApiError::invalid(
                "project_required",
                format!("{direction} needs project_path (a registered project)"),
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::invalid(
                "unexpected_project",
                format!("{direction} takes no project_path"),
            ));
        }
        _ => {}
    }
    let artifacts = match &req.artifacts {
        Some(list) => named_artifacts(list, &manifest, &collection)?,
        None => match &project {
            None => manifest
                .artifacts
                .iter()
                .filter(|e| e.upstream.is_some())
                .map(|e| e.id.clone())
                .collect(),
            Some(p) => {
                let records = DeploymentFile::load(p).map_err(ApiError::internal)?;
                records
                    .deployed
                    .iter()
                    .map(|r| r.id())
                    .filter(|id| manifest.get(id).is_some())
                    .collect::<Vec<ArtifactId>>()
            }
        },
    };
    let artifacts = if req.artifacts.is_none() {
        let mut all = artifacts;
        all.sort_by_key(ToString::to_string);
        all
    } else {
        artifacts
    };
    if artifacts.is_empty() {
        return Err(ApiError::invalid(
            "nothing_to_sync",
            "no artifact to sync: name some in `artifacts`",
        ));
    }
    let config = skillmeat_core::storage::config::Config::load(&state.ctx().home)
        .map_err(|e| ApiError::from(skillmeat_core::ops::OpsError::from(e)))?;
    let job = NewJob {
        kind: JobKind::Sync,
        resolve: None,
        update: None,
        direction,
        artifact_ids: artifacts,
        project_path: project,
        collection,
        strategy: match req.strategy {
            Some(s) => Strategy::from(s),
            // The configured default (`sync.default_strategy`).
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

/// The artifacts a request names, each checked to be in `collection`, in order, each once.
pub(super) fn named_artifacts(
    list: &[String],
    manifest: &skillmeat_core::storage::collection::Manifest,
    collection: &str,
) -> Result<Vec<ArtifactId>, ApiError> {
    let mut ids = Vec::with_capacity(list.len());
    for text in list {
        let id = artifact_id(text)?;
        if manifest.get(&id).is_none() {
            return Err(ApiError::invalid(
                "not_in_collection",
                format!("{id} is not in collection `{collection}`"),
            ));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// An apply names the preview it follows when `sync.preview_required` is on ("always show what
/// will happen before it happens"), and a preview it names must be a finished dry run of the
/// same request. Whether the plan still holds is checked artifact by artifact when the job
/// runs, under each target's lock.
pub(super) async fn check_plan(
    state: &ApiState,
    job: &NewJob,
    required: bool,
) -> Result<(), ApiError> {
    if job.dry_run {
        if job.plan_job.is_some() {
            return Err(ApiError::invalid(
                "unexpected_plan_job",
                "plan_job is for an apply (dry_run: false); a dry run is the plan itself",
            ));
        }
        return Ok(());
    }
    let Some(id) = job.plan_job else {
        if required {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "preview_required",
                "sync.preview_required is on: queue the same request with dry_run: true first, \
                 read its plan, then apply with plan_job: <that job's id> (or turn the setting \
                 off: skillmeat config set sync.preview_required false)",
            ));
        }
        return Ok(());
    };
    let plan = state
        .0
        .jobs
        .get(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::invalid(
                "unknown_plan_job",
                format!(
                    "there is no job {id} (finished jobs are pruned after a while): preview again"
                ),
            )
        })?;
    let same = plan.kind == job.kind
        && plan.dry_run
        && plan.direction == job.direction
        && plan.artifact_ids == job.artifact_ids
        && plan.project_path == job.project_path
        && plan.collection == job.collection
        && plan.strategy == job.strategy
        && plan.update == job.update;
    if !same {
        return Err(ApiError::invalid(
            "plan_mismatch",
            format!(
                "job {id} is not a dry run of this request (the same kind, direction, \
                 artifacts, projects, collection and strategy): preview this request and name \
                 that job"
            ),
        ));
    }
    // A plan that failed on some artifacts still plans the others: those it failed on are
    // refused by the apply (`not planned`), the rest go ahead.
    match plan.state {
        JobState::Success | JobState::Conflict | JobState::Error => Ok(()),
        JobState::Queued | JobState::Running => Err(ApiError::new(
            StatusCode::CONFLICT,
            "plan_not_ready",
            format!(
                "job {id} is still {}: apply once its plan is finished",
                plan.state.as_str()
            ),
        )),
        JobState::Cancelled => Err(ApiError::invalid(
            "plan_not_ready",
            format!("job {id} was cancelled before it planned everything: preview again"),
        )),
    }
}

/// Settles a pending merge as a job: per-file and whole-artifact choices, then applies it.
#[utoipa::path(
    post, path = "/api/v1/sync/resolve", tag = "jobs",
    request_body = ResolveRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeated key returns the job the first request made")),
    responses(
        (status = 202, description = "Queued", body = JobView),
        (status = 401, body = super::types::ErrorBody), (status = 403, body = super::types::ErrorBody),
        (status = 404, description = "No pending merge", body = super::types::ErrorBody),
        (status = 409, description = "`merge_changed`: the pending merge is no longer at `revision`", body = super::types::ErrorBody),
        (status = 413, body = super::types::ErrorBody), (status = 415, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn resolve(
    State(state): State<ApiState>,
    Extension(trace): Extension<TraceId>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let job = new_resolve_job(&state, req, key, trace).await?;
    queue(&state, job).await
}

/// A resolve job as `POST /sync/resolve` checks it: the pending merge exists, the files named
/// are its conflicted files, and hunk choices match their conflicts.
pub async fn new_resolve_job(
    state: &ApiState,
    req: ResolveRequest,
    key: Option<String>,
    trace: TraceId,
) -> Result<NewJob, ApiError> {
    let id = artifact_id(&req.artifact)?;
    let (collection, _dir, _manifest) = state.collection(req.collection.as_deref())?;
    let project = state.project_to_write(req.project_path.as_deref()).await?;
    if id.kind.is_fragment() {
        return new_fragment_resolve_job(state, req, id, collection, project, key, trace).await;
    }
    let merge = conflicts::find(&state.0.ctx.home, &id, &collection, project.as_deref())?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_pending_merge",
                format!("{id} has no pending merge there"),
            )
        })?;
    // A fast answer for a stale read; the job checks again before it writes.
    merge.expect_revision(req.revision.as_deref())?;
    if let Some(unknown) = req
        .files
        .keys()
        .chain(req.hunks.keys())
        .find(|path| !merge.files.iter().any(|f| &f.path == *path))
    {
        let known: Vec<&str> = merge.files.iter().map(|f| f.path.as_str()).collect();
        return Err(ApiError::invalid(
            "not_in_merge",
            format!(
                "`{unknown}` is not a conflicted file of {id}; those are: {}",
                known.join(", ")
            ),
        ));
    }
    if req.fork && req.reuse {
        return Err(ApiError::invalid(
            "invalid",
            "`fork` keeps both versions whole; `reuse` takes recorded resolutions: choose one",
        ));
    }
    if req.fork
        && (!req.files.is_empty()
            || !req.hunks.is_empty()
            || req.strategy.is_some()
            || req.apply == Some(false))
    {
        return Err(ApiError::invalid(
            "invalid",
            "`fork` keeps both versions whole and applies at once: leave out `files`, `hunks`, \
             `strategy` and `apply: false`",
        ));
    }
    if let Some(both) = req.hunks.keys().find(|p| req.files.contains_key(*p)) {
        return Err(ApiError::invalid(
            "invalid",
            format!("`{both}` is in both `files` and `hunks`: choose one way to resolve it"),
        ));
    }
    let hunks: BTreeMap<String, Vec<HunkChoice>> = req
        .hunks
        .iter()
        .map(|(p, sides)| (p.clone(), sides.iter().map(|&s| s.into()).collect()))
        .collect();
    {
        // Checked now, so a mismatch is a 422 rather than a failed job.
        let (merge, id) = (merge.clone(), id.clone());
        let hunks = hunks.clone();
        tokio::task::spawn_blocking(move || {
            hunks
                .iter()
                .try_for_each(|(path, sides)| settled(&merge, &id, path, sides).map(drop))
        })
        .await
        .map_err(ApiError::internal)??;
    }
    let direction = merge.direction;
    Ok(NewJob {
        kind: JobKind::Resolve,
        update: None,
        resolve: Some(ResolveParams {
            files: req
                .files
                .iter()
                .map(|(p, s)| (p.clone(), (*s).into()))
                .collect(),
            hunks,
            strategy: req.strategy.map(Into::into),
            apply: req.apply.unwrap_or(true),
            fork: req.fork,
            reuse: req.reuse,
            expected_revision: req.revision,
        }),
        direction,
        artifact_ids: vec![id],
        project_path: project,
        collection,
        strategy: Strategy::Auto,
        dry_run: false,
        plan_job: None,
        trace_id: trace.id,
        parent_span_id: trace.span,
        idempotency_key: key,
    })
}

/// A resolve job of a hook's or MCP server's pending merge: `files` names clashes by label
/// (`mcpServers.github › command`), each ours or theirs; there are no hunks and no fork.
async fn new_fragment_resolve_job(
    state: &ApiState,
    req: ResolveRequest,
    id: ArtifactId,
    collection: String,
    project: Option<std::path::PathBuf>,
    key: Option<String>,
    trace: TraceId,
) -> Result<NewJob, ApiError> {
    let project = project.ok_or_else(|| {
        ApiError::invalid(
            "project_required",
            format!("{id} merges into a project's file: pass `project_path`"),
        )
    })?;
    if req.fork || !req.hunks.is_empty() {
        return Err(ApiError::invalid(
            "invalid",
            format!(
                "{id} is merged key by key: choose `ours` or `theirs` per clash in `files` \
                 (no `hunks`, no `fork`)"
            ),
        ));
    }
    let merge = {
        let (ctx, id, project) = (state.ctx(), id.clone(), project.clone());
        tokio::task::spawn_blocking(move || fragments::pending_merge(&ctx, &id, &project))
            .await
            .map_err(ApiError::internal)??
    }
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_pending_merge",
            format!("{id} has no pending merge there"),
        )
    })?;
    merge.expect_revision(req.revision.as_deref())?;
    let labels: Vec<String> = merge.clashes.iter().map(|(c, _)| c.label()).collect();
    if let Some(unknown) = req.files.keys().find(|l| !labels.contains(l)) {
        return Err(ApiError::invalid(
            "not_in_merge",
            format!(
                "`{unknown}` is not a clash of {id}; those are: {}",
                labels.join(", ")
            ),
        ));
    }
    Ok(NewJob {
        kind: JobKind::Resolve,
        update: None,
        resolve: Some(ResolveParams {
            files: req
                .files
                .iter()
                .map(|(p, s)| (p.clone(), (*s).into()))
                .collect(),
            hunks: BTreeMap::new(),
            strategy: req.strategy.map(Into::into),
            apply: req.apply.unwrap_or(true),
            fork: false,
            reuse: false,
            expected_revision: req.revision,
        }),
        direction: Direction::CollectionToProject,
        artifact_ids: vec![id],
        project_path: Some(project),
        collection,
        strategy: Strategy::Auto,
        dry_run: false,
        plan_job: None,
        trace_id: trace.id,
        parent_span_id: trace.span,
        idempotency_key: key,
    })
}

pub async fn find_job(state: &ApiState, id: i64) -> Result<Job, ApiError> {
    state
        .0
        .jobs
        .get(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("there is no job {id}")))
}

/// One job.
#[utoipa::path(
    get, path = "/api/v1/sync/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, body = JobView),
        (status = 401, body = super::types::ErrorBody), (status = 404, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(find_job(&state, id).await?.into()))
}

/// Jobs, newest first.
#[utoipa::path(
    get, path = "/api/v1/sync/jobs", tag = "jobs",
    params(JobQuery),
    responses(
        (status = 200, body = JobList),
        (status = 401, body = super::types::ErrorBody), (status = 422, body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> Result<Json<JobList>, ApiError> {
    job_list(&state, q).await.map(Json)
}

/// Jobs matching a query, newest first.
pub async fn job_list(state: &ApiState, q: JobQuery) -> Result<JobList, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("bad_limit", "limit must be 1–500"));
    }
    let filter = JobFilter {
        state: q.state.map(Into::into),
        artifact_id: q.artifact.as_deref().map(artifact_id).transpose()?,
        limit,
    };
    let jobs = state
        .0
        .jobs
        .list(&filter)
        .await
        .map_err(ApiError::internal)?;
    Ok(JobList {
        jobs: jobs.into_iter().map(JobView::from).collect(),
    })
}

/// Cancels a queued job, or stops a running one before its next phase.
#[utoipa::path(
    delete, path = "/api/v1/sync/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, body = Cancelled),
        (status = 401, body = super::types::ErrorBody), (status = 403, body = super::types::ErrorBody),
        (status = 404, body = super::types::ErrorBody), (status = 422, body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn cancel(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Cancelled>, ApiError> {
    let outcome = state
        .0
        .jobs
        .cancel(id, SystemTime::now())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("there is no job {id}")))?;
    let outcome = match outcome {
        CancelOutcome::Cancelled => "cancelled",
        CancelOutcome::Requested => "requested",
        CancelOutcome::AlreadyEnded => "already-ended",
    };
    Ok(Json(Cancelled {
        id,
        outcome: outcome.to_owned(),
        job: find_job(&state, id).await?.into(),
    }))
}

fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn job_event(e: JobEvent) -> Event {
    let id = e.id;
    Event::default()
        .event("job")
        .id(id.to_string())
        .json_data(EventView::from(e))
        .unwrap_or_else(|_| Event::default().comment("unencodable event"))
}

/// Where an SSE stream is.
struct Follow {
    store: Arc<dyn JobStore>,
    job: Option<i64>,
    after: i64,
    buffer: VecDeque<JobEvent>,
    ended: bool,
    done: bool,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                self.after = e.id;
                if self.job.is_some() && e.state.is_final() {
                    self.ended = true;
                    self.buffer.clear();
                }
                return Some((Ok(job_event(e)), self));
            }
            if self.done {
                return None;
            }
            if self.ended {
                // The last message of a job's stream: the job as it ended.
                self.done = true;
                let job = self.store.get(self.job.unwrap_or_default()).await.ok()??;
                let event = Event::default()
                    .event("end")
                    .json_data(JobView::from(job))
                    .ok()?;
                return Some((Ok(event), self));
            }
            let found = match self.job {
                Some(id) => self.store.events(id, self.after).await,
                None => self.store.all_events(self.after, 500).await,
            };
            match found {
                Ok(events) if !events.is_empty() => self.buffer.extend(events),
                // Nothing new for a job that already ended: the client resumed at or past its
                // last event (`Last-Event-ID`). It gets `end` at once, not a stream that waits
                // for events that will never come.
                Ok(_) if self.job_has_ended().await => {
                    // Its last events may have landed between the two reads: send them first.
                    let id = self.job.unwrap_or_default();
                    if let Ok(late) = self.store.events(id, self.after).await {
                        self.buffer.extend(late);
                    }
                    self.ended = true;
                }
                Ok(_) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!("event stream stopped: {e}");
                    return None;
                }
            }
        }
    }
}

impl Follow {
    async fn job_has_ended(&self) -> bool {
        match self.job {
            Some(id) => matches!(self.store.get(id).await, Ok(Some(job)) if job.state.is_final()),
            None => false,
        }
    }
}

fn stream(follow: Follow) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(follow, Follow::next)
}

/// A job's events as Server-Sent Events: `event: job` per state change or progress step (in
/// order, resumable with `Last-Event-ID`), then one `event: end` with the final job.
#[utoipa::path(
    get, path = "/api/v1/sync/jobs/{id}/events", tag = "jobs",
    params(
        ("id" = i64, Path, description = "The job's id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")
    ),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 401, body = super::types::ErrorBody), (status = 404, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn job_events(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    find_job(&state, id).await?;
    let follow = Follow {
        store: state.0.jobs.clone(),
        job: Some(id),
        after: last_event_id(&headers).unwrap_or(0),
        buffer: VecDeque::new(),
        ended: false,
        done: false,
    };
    Ok(Sse::new(stream(follow)).keep_alive(KeepAlive::default()))
}

/// Every job's events from now on (or after `Last-Event-ID`), as Server-Sent Events.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "jobs",
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 401, body = super::types::ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn all_events(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let after = match last_event_id(&headers) {
        Some(after) => after,
        None => state
            .0
            .jobs
            .latest_event()
            .await
            .map_err(ApiError::internal)?,
    };
    let follow = Follow {
        store: state.0.jobs.clone(),
        job: None,
        after,
        buffer: VecDeque::new(),
        ended: false,
        done: false,
    };
    Ok(Sse::new(stream(follow)).keep_alive(KeepAlive::default()))
}
