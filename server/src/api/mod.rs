//! The REST API under `/api/v1` (DESIGN §7): sync jobs and their event streams, artifacts,
//! versions, history, diffs, drift, resolve, patch export, rollback, health and metrics.
//!
//! Handlers are thin: they validate what a request names (artifact ids, registered projects,
//! collections), call `skillmeat-core`, and map its answer to the DTOs in [`types`], which the
//! OpenAPI document ([`openapi`]) is generated from. Every failure is an [`ApiError`]: a status
//! and a JSON `{error, message}` that never carries internals.

mod artifacts;
pub mod auth;
mod check;
mod conflicts;
mod error;
mod extract;
mod jobs;
mod locks;
mod log;
pub mod metrics;
pub mod openapi;
pub(crate) mod patch;
mod plugins;
mod remove;
mod tags;
pub(crate) mod trace;
pub mod types;
mod ui;
mod update;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use skillmeat_core::jobs::{JobStore, Runner};
use skillmeat_core::ops::Context;
use skillmeat_core::storage::collection::Manifest;
use skillmeat_core::storage::db::Database;
use skillmeat_core::storage::home::DEFAULT_COLLECTION;
use skillmeat_core::storage::projects;

pub use error::{ApiError, log_failures, method_not_allowed_as_json};
pub use trace::{TraceId, server_fn_layer};

/// The largest request body the API reads.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Everything the handlers share.
#[derive(Clone)]
pub struct ApiState(Arc<Inner>);

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

/// The shared parts of [`ApiState`].
pub struct Inner {
    /// The operations' context; its clock is refreshed per request.
    pub ctx: Context,
    /// The home's database (the one the job queue lives in), shared by every request.
    pub db: Database,
    /// Where jobs are queued and read; the runner takes them from here.
    pub jobs: Arc<dyn JobStore>,
    /// The runner working through it (woken when a job is queued).
    pub runner: Arc<Runner>,
    /// The bearer token every `/api/v1` request must carry.
    pub token: String,
    /// Prometheus metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Recent patch exports per client, for the rate limit.
    patch_exports: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// The most recent requests, newest last, for the debug drawer.
    requests: Mutex<VecDeque<types::RequestView>>,
}

/// How many requests the debug log keeps.
pub const REQUEST_LOG: usize = 100;

impl ApiState {
    /// State over `ctx`'s home with `jobs` worked through by `runner`.
    pub fn new(
        ctx: Context,
        db: Database,
        jobs: Arc<dyn JobStore>,
        runner: Arc<Runner>,
        token: String,
    ) -> Self {
        let metrics = Arc::new(metrics::Metrics::new());
        let observer = metrics.clone();
        runner.observe_ends(Box::new(move |state, took| observer.job_ended(state, took)));
        let observer = metrics.clone();
        runner.observe_syncs(Box::new(move |ended| observer.sync_ended(ended)));
        Self(Arc::new(Inner {
            ctx,
            db,
            jobs,
            runner,
            token,
            metrics,
            patch_exports: Mutex::new(HashMap::new()),
            requests: Mutex::new(VecDeque::with_capacity(REQUEST_LOG)),
        }))
    }

    /// A context stamped with the current time.
    fn ctx(&self) -> Context {
        Context {
            now: SystemTime::now(),
            ..self.0.ctx.clone()
        }
    }

    /// The SkillMeat home this server works on.
    pub fn home(&self) -> &skillmeat_core::storage::home::Home {
        &self.0.ctx.home
    }

    /// Where jobs are queued and read.
    pub fn jobs(&self) -> &Arc<dyn JobStore> {
        &self.0.jobs
    }

    /// Every registered project, from the server's own read pool.
    pub async fn registered_projects(&self) -> Result<Vec<PathBuf>, ApiError> {
        projects::list(&self.0.db).await.map_err(ApiError::internal)
    }

    /// The bearer token every `/api/v1` request must carry.
    pub fn token(&self) -> &str {
        &self.0.token
    }

    /// Request and job counters and latencies, as `/metrics` exposes them.
    pub fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.0.metrics
    }

    /// Remembers an answered request for the debug log (the last [`REQUEST_LOG`]).
    fn record_request(&self, request: types::RequestView) {
        // A poisoned lock only means another request panicked mid-push: the log is still usable.
        let mut log = self.0.requests.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(request);
    }

    /// The recent requests, newest first.
    pub fn recent_requests(&self) -> Vec<types::RequestView> {
        let log = self.0.requests.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().rev().cloned().collect()
    }

    /// The collection a request names (`default` when it names none), checked to exist.
    fn collection(&self, name: Option<&str>) -> Result<(String, PathBuf, Manifest), ApiError> {
        let name = name.unwrap_or(DEFAULT_COLLECTION).to_owned();
        let dir = self
            .0
            .ctx
            .home
            .collection_dir(&name)
            .map_err(|e| ApiError::invalid("bad_collection", e.to_string()))?;
        if !dir.is_dir() {
            return Err(ApiError::invalid(
                "unknown_collection",
                format!("there is no collection `{name}`"),
            ));
        }
        let manifest = Manifest::load(&dir).map_err(ApiError::internal)?;
        Ok((name, dir, manifest))
    }

    /// [`Self::project`], for a request that writes into it: a project whose `.claude/` leads
    /// out of it through a symlink is refused with 422 `link_outside_project`, unless the user
    /// allowed it (`skillmeat project allow-links`).
    async fn project_to_write(&self, path: Option<&str>) -> Result<Option<PathBuf>, ApiError> {
        let project = self.project(path).await?;
        if let Some(p) = &project
            && let Err(outside) = projects::check_links(p)
            && !projects::allows_links_outside(&self.0.db, p)
                .await
                .map_err(ApiError::internal)?
        {
            return Err(skillmeat_core::ops::OpsError::from(outside).into());
        }
        Ok(project)
    }

    /// The registered project a request names, canonicalised; anything else is refused.
    async fn project(&self, path: Option<&str>) -> Result<Option<PathBuf>, ApiError> {
        let Some(path) = path else {
            return Ok(None);
        };
        registered_project(&self.0.db, Path::new(path))
            .await
            .map(Some)
    }
}

/// `path` canonicalised, if it is a registered project (symlinks resolved, so none leads a
/// write elsewhere).
async fn registered_project(db: &Database, path: &Path) -> Result<PathBuf, ApiError> {
    let refuse = || {
        ApiError::invalid(
            "unregistered_project",
            format!(
                "`{}` is not a registered project: deploy into it with `skillmeat deploy` first",
                path.display()
            ),
        )
    };
    if !path.is_absolute() {
        return Err(ApiError::invalid(
            "bad_project_path",
            "project_path must be an absolute path",
        ));
    }
    let canonical = std::fs::canonicalize(path).map_err(|_| refuse())?;
    // The server's own read pool: opening the database per request cost more than the rest.
    if projects::is_registered(db, &canonical)
        .await
        .map_err(ApiError::internal)?
    {
        Ok(canonical)
    } else {
        Err(refuse())
    }
}

/// The `/api/v1` routes, with their state, body limit and per-route trace and metrics layer.
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/sync/jobs", post(jobs::create).get(jobs::list))
        .route("/sync/jobs/{id}", get(jobs::get).delete(jobs::cancel))
        .route("/sync/jobs/{id}/events", get(jobs::job_events))
        .route("/events", get(jobs::all_events))
        .route("/sync/resolve", post(jobs::resolve))
        .route("/sync/update", post(update::create))
        .route("/sync/patch", post(patch::create))
        .route("/sync/patch/{file}", get(patch::download))
        .route("/artifacts", get(artifacts::list))
        .route("/artifacts/{id}/versions", get(artifacts::versions))
        .route("/artifacts/{id}/history", get(artifacts::history))
        .route("/artifacts/{id}/diff", get(artifacts::diff))
        .route("/artifacts/{id}/file", get(artifacts::file))
        .route("/artifacts/{id}", delete(remove::remove))
        .route("/artifacts/{id}/deployments", delete(remove::undeploy))
        .route("/artifacts/{id}/rollback", post(artifacts::rollback))
        .route(
            "/artifacts/{id}/conflicts",
            get(conflicts::get).delete(conflicts::abort),
        )
        .route("/conflicts", get(conflicts::list))
        .route("/check", get(check::check))
        .route("/marketplace", get(plugins::read))
        .route("/plugins", post(plugins::add))
        .route(
            "/plugins/changes",
            get(plugins::changes).post(plugins::apply),
        )
        .route("/artifacts/{id}/lock", delete(locks::unlock))
        .route("/sync/failures", get(locks::list))
        .route("/artifacts/{id}/events", get(log::of_artifact))
        .route("/artifacts/{id}/timeline", get(log::timeline))
        .route("/artifacts/{id}/changelog", get(tags::changelog))
        .route("/artifacts/{id}/tags", post(tags::create))
        .route("/artifacts/{id}/tags/next", get(tags::next))
        .route("/events/log", get(log::list))
        .route("/drift", get(artifacts::drift))
        .route("/healthz", get(metrics::healthz))
        .route("/debug/requests", get(metrics::requests))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.json", get(openapi::document))
        // A route, not a fallback: the UI's catch-all page route would otherwise answer.
        .route(
            "/{*rest}",
            axum::routing::any(|| async { ApiError::not_found("no such API route") }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            trace::layer,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
