//! Reads about artifacts (list, version cards, history, diff, file download, drift) and
//! rollback.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use skillmeat_core::engine::diff::{self, FileStatus};
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops::sides;
use skillmeat_core::ops::{self, OpsError, artifact_path, cards};
use skillmeat_core::storage::collection::Lock;

use super::extract::{ApiJson, ApiQuery, IdPath};
use super::types::{
    ArtifactList, ArtifactView, DiffQuery, DiffView, DriftProblemView, DriftQuery, DriftRowView,
    DriftView, ErrorBody, FileDiffView, FileQuery, HistoryEntry, HistoryEvent, HistoryView,
    RollbackRequest, RolledBackView, Scope, StaleUpstreamView, VersionCard, VersionCards,
};
use super::{ApiError, ApiState};
use skillmeat_app::format::encode;

/// The most unified diff text one response carries; later files get download links only.
pub const DIFF_RESPONSE_LIMIT: usize = 4 * 1024 * 1024;

/// How many lineage entries a version card shows.
const LINEAGE_HINTS: usize = 5;

/// Runs blocking file work (hashing, reading tiers) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

/// The artifacts of a collection.
#[utoipa::path(
    get, path = "/api/v1/artifacts", tag = "artifacts",
    params(Scope),
    responses(
        (status = 200, body = ArtifactList),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<ArtifactList>, ApiError> {
    artifact_list(&state, scope).await.map(Json)
}

/// The artifacts of a collection, as the API and the web UI show them.
pub async fn artifact_list(state: &ApiState, scope: Scope) -> Result<ArtifactList, ApiError> {
    let (collection, dir, manifest) = state.collection(scope.collection.as_deref())?;
    let list = blocking(move || {
        let lock = Lock::load(&dir).map_err(|e| ApiError::from(OpsError::from(e)))?;
        let mut out = Vec::with_capacity(manifest.artifacts.len());
        for entry in &manifest.artifacts {
            let path = artifact_path(&dir, &entry.id);
            let content_hash = if std::fs::symlink_metadata(&path).is_ok() {
                Some(hash::hash_path(&path).map_err(ApiError::internal)?.to_hex())
            } else {
                None
            };
            out.push(ArtifactView {
                id: entry.id.to_string(),
                kind: entry.id.kind.to_string(),
                name: entry.id.name.to_string(),
                upstream: entry.upstream.clone(),
                reference: lock.get(&entry.id).map(|l| l.reference.clone()),
                added_at: entry.added_at.clone(),
                content_hash,
                plugin: entry.plugin.clone(),
            });
        }
        Ok(out)
    })
    .await?;
    Ok(ArtifactList {
        collection,
        artifacts: list,
    })
}

/// The upstream, collection and project versions of an artifact, as cards.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/versions", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), Scope),
    responses(
        (status = 200, body = VersionCards),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn versions(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<VersionCards>, ApiError> {
    version_cards(&state, id, scope).await.map(Json)
}

fn stale_view(s: skillmeat_core::ops::drift::StaleUpstream) -> StaleUpstreamView {
    StaleUpstreamView {
        seen_at: s.seen_at,
        age_seconds: s.age_seconds,
        reason: s.reason,
    }
}

/// The three tiers' versions of an artifact.
pub async fn version_cards(
    state: &ApiState,
    id: ArtifactId,
    scope: Scope,
) -> Result<VersionCards, ApiError> {
    let (collection, _, _) = state.collection(scope.collection.as_deref())?;
    let project = state.project(scope.project_path.as_deref()).await?;
    let cards = cards::version_cards(&state.ctx(), &id, &collection, project.as_deref()).await?;
    let card = |tier: &str, c: cards::Card| VersionCard {
        tier: tier.to_owned(),
        hash: c.hash.map(|h| h.to_hex()),
        timestamp: c.timestamp,
        source: Some(c.source),
        reference: c.reference,
        commit: c.commit,
        lineage: c
            .lineage
            .iter()
            .take(LINEAGE_HINTS)
            .map(|h| hash::short(h).to_owned())
            .collect(),
        tag: c.tag,
        status: c.status.map(|s| s.as_str().to_owned()),
        live: c.live,
        stale: c.stale.map(stale_view),
    };
    Ok(VersionCards {
        id: id.to_string(),
        upstream: cards.upstream.map(|c| card("upstream", c)),
        collection: cards.collection.map(|c| card("collection", c)),
        project: cards.project.map(|c| card("project", c)),
    })
}

/// An artifact's recorded versions and rollbacks, newest first.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/history", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), Scope),
    responses(
        (status = 200, body = HistoryView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn history(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<HistoryView>, ApiError> {
    history_of(&state, id, scope).await.map(Json)
}

/// An artifact's recorded versions and rollbacks.
pub async fn history_of(
    state: &ApiState,
    id: ArtifactId,
    scope: Scope,
) -> Result<HistoryView, ApiError> {
    let (collection, _, _) = state.collection(scope.collection.as_deref())?;
    let h = ops::history(&state.ctx(), &id, &collection).await?;
    Ok(HistoryView {
        id: h.id.to_string(),
        versions: h
            .versions
            .iter()
            .map(|v| HistoryEntry {
                hash: v.content_hash.to_hex(),
                origin: v.change_origin.as_str().to_owned(),
                created_at: v.created_at.clone(),
                tag: v.version_tag.clone(),
                breaking: v.breaking,
                bump: h.changes.get(&v.content_hash.to_hex()).map(Into::into),
                parents: v.parent_hashes.clone(),
                current: h.current == Some(v.content_hash),
            })
            .collect(),
        events: h
            .events
            .iter()
            .map(|e| HistoryEvent {
                hash: e.content_hash.clone(),
                origin: e.origin.as_str().to_owned(),
                tier: e.tier.clone(),
                created_at: e.created_at.clone(),
            })
            .collect(),
        current: h.current.map(|c| c.to_hex()),
    })
}

fn file_url(id: &ArtifactId, side: &str, path: &str, q: &DiffQuery) -> String {
    let mut url = format!(
        "/api/v1/artifacts/{}/file?side={}&path={}",
        encode(&id.to_string()),
        encode(side),
        encode(path)
    );
    if let Some(c) = &q.collection {
        url.push_str(&format!("&collection={}", encode(c)));
    }
    if let Some(p) = &q.project_path {
        url.push_str(&format!("&project_path={}", encode(p)));
    }
    url
}

/// A unified diff between two sides, per file with stats; binary files, files over 1 MB and
/// text past the response limit come as download links.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/diff", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), DiffQuery),
    responses(
        (status = 200, body = DiffView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn diff(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<DiffView>, ApiError> {
    diff_view(&state, id, q).await.map(Json)
}

/// A diff between two sides; server errors count as diff render failures in the metrics.
pub async fn diff_view(
    state: &ApiState,
    id: ArtifactId,
    q: DiffQuery,
) -> Result<DiffView, ApiError> {
    let result = render_diff(state, id, q).await;
    if let Err(e) = &result
        && e.status().is_server_error()
    {
        state.metrics().diff_failed();
    }
    result
}

async fn render_diff(state: &ApiState, id: ArtifactId, q: DiffQuery) -> Result<DiffView, ApiError> {
    let (collection, _, manifest) = state.collection(q.collection.as_deref())?;
    if manifest.get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "{id} is not in the collection"
        )));
    }
    let project = state.project(q.project_path.as_deref()).await?;
    let ctx = state.ctx();
    let lhs = side(&ctx, &id, &collection, project.as_deref(), &q.lhs).await?;
    let rhs = side(&ctx, &id, &collection, project.as_deref(), &q.rhs).await?;
    let kind = id.kind;
    let limit = inline_limit(&ctx)?;
    let (d, bump) = blocking(move || {
        Ok((
            diff::diff_within(&lhs, &rhs, limit),
            skillmeat_core::engine::bump::suggest(kind, &lhs, &rhs),
        ))
    })
    .await?;
    let mut budget = DIFF_RESPONSE_LIMIT;
    let mut truncated = false;
    let files = d
        .files
        .into_iter()
        .map(|f| {
            let mut unified = f.unified;
            if let Some(text) = &unified {
                if text.len() > budget {
                    truncated = true;
                    unified = None;
                } else {
                    budget -= text.len();
                }
            }
            let linked = unified.is_none();
            let url = |side: &str, present: bool| {
                (linked && present).then(|| file_url(&id, side, &f.path, &q))
            };
            FileDiffView {
                lhs_url: url(&q.lhs, f.status != FileStatus::Added),
                rhs_url: url(&q.rhs, f.status != FileStatus::Deleted),
                status: match f.status {
                    FileStatus::Added => "added",
                    FileStatus::Deleted => "deleted",
                    FileStatus::Modified => "modified",
                    FileStatus::Mode => "mode",
                }
                .to_owned(),
                added: f.added as u64,
                removed: f.removed as u64,
                binary: f.binary,
                too_large: f.too_large,
                old_size: f.old_size,
                new_size: f.new_size,
                unified,
                path: f.path,
            }
        })
        .collect();
    Ok(DiffView {
        id: id.to_string(),
        lhs: q.lhs.clone(),
        rhs: q.rhs.clone(),
        files,
        added: d.added as u64,
        removed: d.removed as u64,
        truncated,
        bump: (&bump).into(),
    })
}

async fn side(
    ctx: &ops::Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&std::path::Path>,
    name: &str,
) -> Result<skillmeat_core::model::files::ArtifactFiles, ApiError> {
    sides::side_files(ctx, id, collection, project, name)
        .await
        .map_err(|e| match e {
            OpsError::UnknownSide { .. } => ApiError::invalid("bad_side", e.to_string()),
            OpsError::ProjectRequired { .. } => ApiError::invalid(
                "project_required",
                "a `project` side needs project_path (a registered project)",
            ),
            OpsError::NoCopy { .. } => ApiError::not_found(e.to_string()),
            e => e.into(),
        })
}

/// One file of one side, as bytes (for binary files and files too large to show).
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/file", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), FileQuery),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn file(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<FileQuery>,
) -> Result<Response, ApiError> {
    let name = q.path.rsplit('/').next().unwrap_or("file").to_owned();
    let bytes = file_bytes(&state, id, q).await?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut response = (StatusCode::OK, Body::from(bytes)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// One file of one side of an artifact, as `GET /artifacts/{id}/file` serves it.
pub async fn file_bytes(
    state: &ApiState,
    id: ArtifactId,
    q: FileQuery,
) -> Result<Vec<u8>, ApiError> {
    let (collection, _, manifest) = state.collection(q.collection.as_deref())?;
    if manifest.get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "{id} is not in the collection"
        )));
    }
    let project = state.project(q.project_path.as_deref()).await?;
    let files = side(&state.ctx(), &id, &collection, project.as_deref(), &q.side).await?;
    // Looked up by key among the artifact's own files: no path reaches the disk from here.
    let mut files = files;
    files.files.remove(&q.path).map(|c| c.bytes).ok_or_else(|| {
        ApiError::not_found(format!(
            "{id} has no file `{}` on the {} side",
            q.path, q.side
        ))
    })
}

/// Drift between the collection and projects (and, asked, the upstreams).
#[utoipa::path(
    get, path = "/api/v1/drift", tag = "artifacts",
    params(DriftQuery),
    responses(
        (status = 200, body = DriftView),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn drift(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<DriftQuery>,
) -> Result<Json<DriftView>, ApiError> {
    drift_view(&state, q).await.map(Json)
}

/// Drift between the collection, its projects and (asked) the upstreams.
pub async fn drift_view(state: &ApiState, q: DriftQuery) -> Result<DriftView, ApiError> {
    let (collection, _, _) = state.collection(q.collection.as_deref())?;
    let projects: Vec<PathBuf> = match state.project(q.project_path.as_deref()).await? {
        Some(p) => vec![p],
        None => state.registered_projects().await?,
    };
    let ctx = state.ctx();
    let check = q.check_upstream.unwrap_or(false);
    let name = collection.clone();
    let report = blocking(move || Ok(ops::drift(&ctx, &name, &projects, check)?)).await?;
    for took in &report.upstream_check_times {
        state.metrics().upstream_checked(*took);
    }
    Ok(DriftView {
        collection,
        upstream_checks_off: report.upstream_checks_off,
        pending_merges: report.pending_merges.into_iter().map(Into::into).collect(),
        problems: report
            .problems
            .into_iter()
            .map(|p| DriftProblemView {
                id: p.id.map(|id| id.to_string()),
                pair: p.pair.map(str::to_owned),
                project_path: p.project.map(|p| p.display().to_string()),
                message: p.message,
            })
            .collect(),
        rows: report
            .rows
            .into_iter()
            .map(|r| DriftRowView {
                id: r.id.to_string(),
                pair: r.pair.to_owned(),
                project_path: r.project.map(|p| p.display().to_string()),
                status: r.status.as_str().to_owned(),
                recommendation: r.recommendation.map(str::to_owned),
                // The API has always sent the short form here (the version cards carry the
                // full hashes).
                base: r.base.map(|h| h.short()),
                source: r.source.map(|h| h.short()),
                target: r.target.map(|h| h.short()),
                stale: r.stale.map(stale_view),
            })
            .collect(),
    })
}

/// Restores a recorded version in the collection or a project, atomically.
#[utoipa::path(
    post, path = "/api/v1/artifacts/{id}/rollback", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`")),
    request_body = RollbackRequest,
    responses(
        (status = 200, body = RolledBackView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn rollback(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> Result<Json<RolledBackView>, ApiError> {
    rollback_to(&state, id, req).await.map(Json)
}

/// Restores a recorded version (see [`rollback`]).
pub async fn rollback_to(
    state: &ApiState,
    id: ArtifactId,
    req: RollbackRequest,
) -> Result<RolledBackView, ApiError> {
    let (collection, _, manifest) = state.collection(req.collection.as_deref())?;
    if manifest.get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "{id} is not in the collection"
        )));
    }
    let project = state.project_to_write(req.project_path.as_deref()).await?;
    let done = ops::rollback(&state.ctx(), &id, &collection, project.as_deref(), &req.to).await?;
    Ok(RolledBackView {
        id: done.id.to_string(),
        project_path: done.project.map(|p| p.display().to_string()),
        from: done.from.map(|h| h.to_hex()),
        to: done.to.to_hex(),
        changed: done.changed,
        warnings: done.warnings,
    })
}

/// The `diff.inline_limit` setting, in bytes.
fn inline_limit(ctx: &skillmeat_core::ops::Context) -> Result<usize, ApiError> {
    let config = skillmeat_core::storage::config::Config::load(&ctx.home)
        .map_err(|e| ApiError::from(skillmeat_core::ops::OpsError::from(e)))?;
    Ok(usize::try_from(config.diff.inline_limit).unwrap_or(usize::MAX))
}
