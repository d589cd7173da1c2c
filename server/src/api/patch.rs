//! Patch export (project → upstream as a bundle maintainers apply), rate limited per client.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::extract::{ApiJson, ApiPath, artifact_id};
use super::types::{ErrorBody, PatchCreated, PatchRequest};
use super::{ApiError, ApiState};

/// The rate limit's window; how many exports it allows is the `exports.per_minute` setting.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The quota patch exports count against. Every request is authorised by the server token
/// (directly, or through a browser session opened with it), so the limit is per token: a
/// client cannot get a fresh quota from another address (127.0.0.2) or another session.
pub const TOKEN_QUOTA: &str = "server-token";

fn exports_dir(state: &ApiState) -> PathBuf {
    state.0.ctx.home.root().join("exports")
}

/// How long an exported bundle stays downloadable.
pub const KEEP_EXPORTS: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Deletes the bundles under `home_root/exports/` written more than [`KEEP_EXPORTS`] before
/// `now` (only `*.tar.gz` files: nothing else there is SkillMeat's); how many went.
pub fn prune_exports(home_root: &std::path::Path, now: std::time::SystemTime) -> usize {
    let dir = home_root.join("exports");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let cutoff = now.checked_sub(KEEP_EXPORTS).unwrap_or(now);
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let bundle = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".tar.gz"));
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().is_ok_and(|m| m < cutoff);
        if bundle && meta.is_file() && old {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!("cannot remove the old bundle {}: {e}", path.display()),
            }
        }
    }
    removed
}

/// Counts an export for `client` against `limit` per [`WINDOW`], or says how long to wait.
fn admit(state: &ApiState, client: &str, limit: usize) -> Result<(), Duration> {
    let now = Instant::now();
    let mut seen = state
        .0
        .patch_exports
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let times = seen.entry(client.to_owned()).or_default();
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
    if times.len() >= limit {
        let oldest = times.front().copied().unwrap_or(now);
        return Err(WINDOW.saturating_sub(now.duration_since(oldest)));
    }
    times.push_back(now);
    Ok(())
}

/// Packs a project's edits of an artifact into a tar.gz patch bundle against its upstream.
#[utoipa::path(
    post, path = "/api/v1/sync/patch", tag = "sync",
    request_body = PatchRequest,
    responses(
        (status = 201, body = PatchCreated),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "Too many exports; see Retry-After", body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    ApiJson(req): ApiJson<PatchRequest>,
) -> Result<Response, ApiError> {
    match export(&state, req, TOKEN_QUOTA).await {
        Ok(created) => Ok((StatusCode::CREATED, Json(created)).into_response()),
        Err(Export::Limited { wait, limit }) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                limited_message(wait, limit),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
        Err(Export::Failed(e)) => Err(e),
    }
}

fn limited_message(wait: Duration, limit: usize) -> String {
    format!(
        "at most {limit} patch exports a minute (the `exports.per_minute` setting); try again in {} s",
        wait.as_secs().max(1)
    )
}

/// Why an export did not happen.
pub enum Export {
    /// The rate limit (`limit` a minute) is reached: wait this long.
    Limited {
        wait: Duration,
        limit: usize,
    },
    Failed(ApiError),
}

impl From<ApiError> for Export {
    fn from(e: ApiError) -> Self {
        Self::Failed(e)
    }
}

impl From<Export> for ApiError {
    fn from(e: Export) -> Self {
        match e {
            Export::Limited { wait, limit } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                limited_message(wait, limit),
            ),
            Export::Failed(e) => e,
        }
    }
}

/// Checks a patch request against the rate limit of `client`, and writes the bundle.
pub async fn export(
    state: &ApiState,
    req: PatchRequest,
    client: &str,
) -> Result<PatchCreated, Export> {
    let id = artifact_id(&req.artifact)?;
    let (collection, _, manifest) = state.collection(req.collection.as_deref())?;
    if manifest.get(&id).is_none() {
        return Err(Export::Failed(ApiError::not_found(format!(
            "{id} is not in the collection"
        ))));
    }
    let project = state
        .project(Some(&req.project_path))
        .await?
        .ok_or_else(|| ApiError::invalid("project_required", "project_path is required"))?;
    let limit = skillmeat_core::storage::config::Config::load(&state.ctx().home)
        .map_err(|e| ApiError::from(skillmeat_core::ops::OpsError::from(e)))?
        .exports
        .per_minute;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if let Err(wait) = admit(state, client, limit) {
        return Err(Export::Limited { wait, limit });
    }
    let dir = exports_dir(state);
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(ApiError::internal)?;
    let file = format!(
        "{}-{}-{}.tar.gz",
        id.kind,
        id.name,
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let output = dir.join(&file);
    let ctx = state.ctx();
    let bundle = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        skillmeat_core::ops::export::patch_bundle(&ctx, &id, &collection, &project, &output)
            .map_err(ApiError::from)
    })
    .await
    .map_err(ApiError::internal)??;
    let created = PatchCreated {
        url: format!("/api/v1/sync/patch/{file}"),
        sha256: bundle.sha256,
        size: bundle.size,
        github_url: bundle.github_url,
        patched: bundle.manifest.patched,
        whole_files: bundle.manifest.whole_files,
    };
    Ok(created)
}

/// Whether `name` is a bundle name this server makes: no separators, no dot-dot.
fn bundle_name(name: &str) -> bool {
    name.ends_with(".tar.gz")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.contains("..")
}

/// Downloads an exported patch bundle.
#[utoipa::path(
    get, path = "/api/v1/sync/patch/{file}", tag = "sync",
    params(("file" = String, Path, description = "The bundle's file name, from the export's url")),
    responses(
        (status = 200, description = "The bundle", content_type = "application/gzip", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn download(
    State(state): State<ApiState>,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    if !bundle_name(&file) {
        return Err(ApiError::not_found(format!("there is no bundle `{file}`")));
    }
    let path = exports_dir(&state).join(&file);
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found(format!("there is no bundle `{file}`")));
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let mut response = (StatusCode::OK, Body::from(bytes)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
