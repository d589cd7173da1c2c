//! Prometheus metrics (`GET /api/v1/metrics`) and the health check.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use skillmeat_core::jobs::JobState;

use super::types::{ErrorBody, Health, RequestLog};
use super::{ApiError, ApiState};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// One artifact's sync in a job: which way, applied or previewed, and how it ended (an
/// outcome such as `merged` or `conflict`, or `error`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SyncLabels {
    direction: String,
    mode: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    direction: String,
    mode: String,
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
}

type HistogramMaker = fn() -> Histogram;

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http: Family<RouteLabels, Histogram, HistogramMaker>,
    job_duration: Family<OutcomeLabels, Histogram, HistogramMaker>,
    jobs: Family<OutcomeLabels, Counter>,
    diff_failures: Counter,
    queue_depth: Gauge,
    pending_merges: Gauge,
    pending_stale: Gauge,
    pending_oldest: Gauge,
    syncs: Family<SyncLabels, Counter>,
    sync_errors: Family<ErrorLabels, Counter>,
    sync_phases: Family<PhaseLabels, Histogram, HistogramMaker>,
    upstream_checks: Histogram,
    locked: Gauge,
}

/// What `/metrics` reads at each scrape rather than counts as it goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Jobs waiting to run.
    pub queue_depth: u64,
    /// Open pending merges, how many of them are stale, and the oldest one's age in seconds.
    pub pending_merges: u64,
    pub pending_stale: u64,
    pub pending_oldest_seconds: u64,
    /// Artifacts the kill-switch locked.
    pub locked_artifacts: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("skillmeat");
        // 0.1 ms … ~3 s for requests; 1 ms … ~1 min for jobs.
        let http: Family<RouteLabels, Histogram, HistogramMaker> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0001, 2.0, 16)));
        let job_duration: Family<OutcomeLabels, Histogram, HistogramMaker> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 17)));
        let jobs = Family::<OutcomeLabels, Counter>::default();
        let diff_failures = Counter::default();
        let queue_depth = Gauge::default();
        let [pending_merges, pending_stale, pending_oldest, locked] =
            [(); 4].map(|()| Gauge::default());
        let syncs = Family::<SyncLabels, Counter>::default();
        let sync_errors = Family::<ErrorLabels, Counter>::default();
        // 1 ms … ~1 min per phase; 1 ms … ~30 s per upstream check.
        let sync_phases: Family<PhaseLabels, Histogram, HistogramMaker> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 17)));
        let upstream_checks = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "syncs",
            "Artifact syncs run by jobs, by direction, mode (apply or preview) and outcome \
             (merged vs conflict is the merge success rate)",
            syncs.clone(),
        );
        registry.register(
            "sync_errors",
            "Artifact syncs that failed, by direction, mode and error kind",
            sync_errors.clone(),
        );
        registry.register(
            "sync_phase_duration_seconds",
            "How long each phase of an artifact's sync took (fetch, merge, apply)",
            sync_phases.clone(),
        );
        registry.register(
            "upstream_check_duration_seconds",
            "How long asking one upstream for its state took (drift and the pages)",
            upstream_checks.clone(),
        );
        registry.register(
            "locked_artifacts",
            "Artifacts locked by the kill-switch (sync.lock_after_failures failed syncs in a row)",
            locked.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "How long sync jobs ran, by outcome",
            job_duration.clone(),
        );
        registry.register("jobs", "Jobs ended, by outcome", jobs.clone());
        registry.register(
            "diff_render_failures",
            "Diffs that could not be rendered",
            diff_failures.clone(),
        );
        registry.register("queue_depth", "Jobs waiting to run", queue_depth.clone());
        registry.register(
            "pending_merges",
            "Pending merges still open (resolve or abort them)",
            pending_merges.clone(),
        );
        registry.register(
            "pending_merges_stale",
            "Pending merges older than conflicts.stale_after",
            pending_stale.clone(),
        );
        registry.register(
            "pending_merge_oldest_age_seconds",
            "Age of the oldest open pending merge (0 when there is none)",
            pending_oldest.clone(),
        );
        Self {
            registry,
            http,
            job_duration,
            jobs,
            diff_failures,
            queue_depth,
            pending_merges,
            pending_stale,
            pending_oldest,
            syncs,
            sync_errors,
            sync_phases,
            upstream_checks,
            locked,
        }
    }

    /// Records one artifact's sync in a job.
    pub fn sync_ended(&self, ended: &skillmeat_core::jobs::SyncEnded) {
        let direction = ended.direction.as_str().to_owned();
        let mode = if ended.dry_run { "preview" } else { "apply" }.to_owned();
        let outcome = ended.outcome.map_or("error", |o| o.as_str()).to_owned();
        self.syncs
            .get_or_create(&SyncLabels {
                direction: direction.clone(),
                mode: mode.clone(),
                outcome,
            })
            .inc();
        if let Some(kind) = ended.error {
            self.sync_errors
                .get_or_create(&ErrorLabels {
                    direction,
                    mode,
                    kind: super::error::kind_code(kind).to_owned(),
                })
                .inc();
        }
        for (phase, took) in &ended.phases {
            self.sync_phases
                .get_or_create(&PhaseLabels {
                    phase: phase.as_str().to_owned(),
                })
                .observe(took.as_secs_f64());
        }
    }

    /// Records how long one upstream check took.
    pub fn upstream_checked(&self, took: Duration) {
        self.upstream_checks.observe(took.as_secs_f64());
    }

    /// Records one HTTP request.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .observe(took.as_secs_f64());
    }

    /// Records a job's end.
    pub fn job_ended(&self, state: JobState, took: Duration) {
        let labels = OutcomeLabels {
            outcome: state.as_str().to_owned(),
        };
        self.jobs.get_or_create(&labels).inc();
        self.job_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Records a diff that failed to render.
    pub fn diff_failed(&self) {
        self.diff_failures.inc();
    }

    /// The text exposition format.
    pub fn encode(&self, now: Snapshot) -> Result<String, std::fmt::Error> {
        let gauge = |g: &Gauge, v: u64| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        gauge(&self.queue_depth, now.queue_depth);
        gauge(&self.pending_merges, now.pending_merges);
        gauge(&self.pending_stale, now.pending_stale);
        gauge(&self.pending_oldest, now.pending_oldest_seconds);
        gauge(&self.locked, now.locked_artifacts);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Prometheus metrics.
#[utoipa::path(
    get, path = "/api/v1/metrics", tag = "server",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let depth = state
        .0
        .jobs
        .queue_depth()
        .await
        .map_err(ApiError::internal)?;
    let open = super::conflicts::open_merges(&state, None, false).await?;
    let locked = super::locks::failing(&state)
        .await?
        .artifacts
        .iter()
        .filter(|a| a.locked_at.is_some())
        .count() as u64;
    let text = state
        .metrics()
        .encode(Snapshot {
            queue_depth: depth,
            pending_merges: open.merges.len() as u64,
            pending_stale: open.stale,
            pending_oldest_seconds: open.oldest_age_seconds.unwrap_or(0),
            locked_artifacts: locked,
        })
        .map_err(ApiError::internal)?;
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// The last requests this server answered (API and web UI), newest first, with their trace
/// ids: what the web UI's debug drawer shows.
#[utoipa::path(
    get, path = "/api/v1/debug/requests", tag = "server",
    responses((status = 200, body = RequestLog), (status = 401, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn requests(State(state): State<ApiState>) -> Json<RequestLog> {
    Json(RequestLog {
        requests: state.recent_requests(),
    })
}

/// Whether the server and its database answer.
#[utoipa::path(
    get, path = "/api/v1/healthz", tag = "server",
    responses((status = 200, body = Health), (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn healthz(State(state): State<ApiState>) -> Result<Json<Health>, ApiError> {
    let depth = state
        .0
        .jobs
        .queue_depth()
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: skillmeat_core::VERSION.to_owned(),
        queue_depth: depth,
    }))
}
