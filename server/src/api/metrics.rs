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
        Self {
            registry,
            http,
            job_duration,
            jobs,
            diff_failures,
            queue_depth,
        }
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
    pub fn encode(&self, queue_depth: u64) -> Result<String, std::fmt::Error> {
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
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
    let text = state.metrics().encode(depth).map_err(ApiError::internal)?;
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
