//! Pending merges as the conflict modal reads them: every conflicted file with its base, ours,
//! theirs and merged text, and the merged text split into hunks to choose between.

use axum::Json;
use axum::extract::State;
use skillmeat_core::engine::diff::is_binary;
use skillmeat_core::engine::json_merge::Pick;
use skillmeat_core::engine::merge::Hunk;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::files::ArtifactFiles;
use skillmeat_core::ops::conflicts::{self, MergePart, PendingMerge};
use skillmeat_core::ops::fragments;
use skillmeat_core::ops::sync::Direction;

use super::extract::{ApiQuery, IdPath};
use super::types::{
    AbortedView, ConflictFileView, ConflictView, ConflictsQuery, ErrorBody, HunkView,
    OpenMergesView, PendingView, Scope,
};
use super::{ApiError, ApiState};

/// The largest file whose text a conflict view carries; larger ones are resolved whole.
pub const CONFLICT_TEXT_LIMIT: usize = 1024 * 1024;

/// The pending merge of an artifact, file by file.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/conflicts", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), Scope),
    responses(
        (status = 200, body = ConflictView),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No pending merge there", body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<ConflictView>, ApiError> {
    conflict_view(&state, id, scope).await.map(Json)
}

/// The pending merge of `id` in the scope's project (or the collection's own), as the API and
/// the web UI show it.
pub async fn conflict_view(
    state: &ApiState,
    id: ArtifactId,
    scope: Scope,
) -> Result<ConflictView, ApiError> {
    let (collection, _, _) = state.collection(scope.collection.as_deref())?;
    let project = state.project(scope.project_path.as_deref()).await?;
    if id.kind.is_fragment() {
        let ctx = state.ctx();
        return tokio::task::spawn_blocking(move || fragment_view(&ctx, id, project))
            .await
            .map_err(ApiError::internal)?;
    }
    let ctx = state.ctx();
    tokio::task::spawn_blocking(move || {
        let merge = conflicts::find(&ctx.home, &id, &collection, project.as_deref())?
            .ok_or(skillmeat_core::ops::OpsError::NoPendingMerge { id: id.clone() })?;
        view(&ctx, &merge)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Every pending merge still open, oldest first, with its age; those older than the
/// `conflicts.stale_after` setting (7 days by default) are flagged `stale`.
#[utoipa::path(
    get, path = "/api/v1/conflicts", tag = "artifacts",
    params(ConflictsQuery),
    responses(
        (status = 200, body = OpenMergesView),
        (status = 401, body = ErrorBody),
        (status = 500, description = "`bad_config`: the config file cannot be used", body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<ConflictsQuery>,
) -> Result<Json<OpenMergesView>, ApiError> {
    open_merges(&state, q.collection, q.stale).await.map(Json)
}

/// The open pending merges (of one collection, or all), as the API and the pages list them.
pub async fn open_merges(
    state: &ApiState,
    collection: Option<String>,
    only_stale: bool,
) -> Result<OpenMergesView, ApiError> {
    let ctx = state.ctx();
    let projects = state.registered_projects().await?;
    let mut open = tokio::task::spawn_blocking(move || {
        let fragments = fragments::open_merges(&ctx, collection.as_deref(), &projects);
        conflicts::open_merges(&ctx, collection.as_deref(), fragments).map_err(ApiError::from)
    })
    .await
    .map_err(ApiError::internal)??;
    if only_stale {
        open.merges.retain(|m| m.stale);
    }
    Ok(open.into())
}

/// Drops the pending merge of an artifact (of `project_path`'s copy, or the collection's own):
/// the target was never touched, so nothing else changes; the audit trail records the abort.
#[utoipa::path(
    delete, path = "/api/v1/artifacts/{id}/conflicts", tag = "artifacts",
    params(("id" = String, Path, description = "`<type>:<name>`"), Scope),
    responses(
        (status = 200, body = AbortedView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No pending merge there", body = ErrorBody),
        (status = 422, description = "Several pending merges: name the project", body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn abort(
    State(state): State<ApiState>,
    IdPath(id): IdPath,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<AbortedView>, ApiError> {
    abort_merge(&state, id, scope).await.map(Json)
}

/// Aborts a pending merge (see [`abort`]).
pub async fn abort_merge(
    state: &ApiState,
    id: ArtifactId,
    scope: Scope,
) -> Result<AbortedView, ApiError> {
    let (collection, _, _) = state.collection(scope.collection.as_deref())?;
    let project = state.project(scope.project_path.as_deref()).await?;
    if id.kind.is_fragment() {
        let project = project.ok_or_else(|| {
            ApiError::invalid(
                "project_required",
                format!("{id} merges into a project's file: pass `project_path`"),
            )
        })?;
        fragments::abort(&state.ctx(), &id, &project)?;
        return Ok(AbortedView {
            artifact: id.to_string(),
            resolution: "aborted".to_owned(),
            warnings: Vec::new(),
        });
    }
    let done = conflicts::abort_merge(&state.ctx(), &id, &collection, project.as_deref()).await?;
    Ok(AbortedView {
        artifact: done.id.to_string(),
        resolution: done.resolution.to_owned(),
        warnings: done.warnings,
    })
}

fn view(
    ctx: &skillmeat_core::ops::context::Context,
    merge: &PendingMerge,
) -> Result<ConflictView, ApiError> {
    let (ours_tier, theirs_tier) = merge.direction.tiers();
    let [merged, base, ours, theirs] = [
        MergePart::Merged,
        MergePart::Base,
        MergePart::Ours,
        MergePart::Theirs,
    ]
    .map(|part| merge.part(part));
    let (merged, base, ours, theirs) = (merged?, base?, ours?, theirs?);
    let unresolved = merge.unresolved()?;
    let files = merge
        .files
        .iter()
        .map(|f| {
            let whole_only = [&merged, &base, &ours, &theirs]
                .iter()
                .any(|side| side.files.get(&f.path).is_some_and(|c| !shown(&c.bytes)));
            let text = |side: &ArtifactFiles| {
                side.files
                    .get(&f.path)
                    .filter(|_| !whole_only)
                    .and_then(|c| String::from_utf8(c.bytes.clone()).ok())
            };
            let merged_text = text(&merged);
            let conflict_hunks = merged_text
                .as_deref()
                .map(skillmeat_core::engine::merge::conflict_hunks)
                .unwrap_or_default();
            // Resolved the same way before, somewhere: every conflict has a recording.
            let open = unresolved.contains(&f.path)
                && conflict_hunks
                    .iter()
                    .any(|h| matches!(h, Hunk::Conflict { .. }));
            let reusable_from = open
                .then(|| conflicts::rerere::reusable(ctx, &conflict_hunks))
                .flatten()
                .map(|(_, r)| {
                    r.project
                        .map_or_else(|| "collection".to_owned(), |p| p.display().to_string())
                });
            let hunks = conflict_hunks.into_iter().map(hunk_view).collect();
            ConflictFileView {
                path: f.path.clone(),
                kind: kind_name(f.kind),
                resolved: !unresolved.contains(&f.path),
                whole_only,
                base: text(&base),
                ours: text(&ours),
                theirs: text(&theirs),
                merged: merged_text,
                hunks,
                reusable_from,
            }
        })
        .collect();
    Ok(ConflictView {
        artifact: merge.id.to_string(),
        collection: merge.collection.clone(),
        direction: merge.direction.as_str().to_owned(),
        project_path: merge.project.as_ref().map(|p| p.display().to_string()),
        ours_tier: ours_tier.to_owned(),
        theirs_tier: theirs_tier.to_owned(),
        detected_at: merge.detected_at.clone(),
        revision: merge.revision()?,
        files,
        unresolved,
    })
}

/// The pending merge of a hook or MCP server: one "file" per clashing key, named by its label
/// (`mcpServers.github › command`), with the three values as JSON (secrets masked), chosen
/// ours / theirs whole.
fn fragment_view(
    ctx: &skillmeat_core::ops::context::Context,
    id: ArtifactId,
    project: Option<std::path::PathBuf>,
) -> Result<ConflictView, ApiError> {
    let project = project.ok_or_else(|| {
        ApiError::invalid(
            "project_required",
            format!("{id} merges into a project's file: pass `project_path`"),
        )
    })?;
    let merge = fragments::pending_merge(ctx, &id, &project)?
        .ok_or(skillmeat_core::ops::OpsError::NoPendingMerge { id: id.clone() })?;
    let json = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
    };
    let files = merge
        .clashes
        .iter()
        .map(|(c, pick)| ConflictFileView {
            path: c.label(),
            kind: "key".to_owned(),
            resolved: pick.is_some(),
            whole_only: false,
            base: json(&c.base),
            ours: json(&c.ours),
            theirs: json(&c.theirs),
            merged: json(match pick {
                Some(Pick::Theirs) => &c.theirs,
                _ => &c.ours,
            }),
            hunks: Vec::new(),
            reusable_from: None,
        })
        .collect();
    let (ours_tier, theirs_tier) = Direction::CollectionToProject.tiers();
    Ok(ConflictView {
        artifact: merge.id.to_string(),
        collection: merge.collection.clone(),
        direction: Direction::CollectionToProject.as_str().to_owned(),
        project_path: Some(merge.project.display().to_string()),
        ours_tier: ours_tier.to_owned(),
        theirs_tier: theirs_tier.to_owned(),
        detected_at: merge.detected_at.clone(),
        revision: merge.revision.clone(),
        unresolved: merge.unresolved(),
        files,
    })
}

/// Whether a file's text can be shown and chosen by hunk.
fn shown(bytes: &[u8]) -> bool {
    bytes.len() <= CONFLICT_TEXT_LIMIT && !is_binary(bytes)
}

fn kind_name(kind: skillmeat_core::engine::merge::ConflictKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{kind:?}"))
}

fn hunk_view(h: Hunk) -> HunkView {
    match h {
        Hunk::Clean { text } => HunkView::Clean { text },
        Hunk::Conflict { ours, base, theirs } => HunkView::Conflict { ours, base, theirs },
    }
}

/// Every pending merge of `id` in the default collection, in short (none when there is no
/// collection yet).
pub async fn pending_of(state: &ApiState, id: ArtifactId) -> Result<Vec<PendingView>, ApiError> {
    let Ok((collection, _, _)) = state.collection(None) else {
        return Ok(Vec::new());
    };
    if id.kind.is_fragment() {
        let projects = state.registered_projects().await?;
        let ctx = state.ctx();
        return tokio::task::spawn_blocking(move || {
            fragments::open_merges(&ctx, Some(&collection), &projects)
                .into_iter()
                .filter(|m| m.id == id)
                .map(|m| PendingView {
                    direction: Direction::CollectionToProject.as_str().to_owned(),
                    project_path: Some(m.project.display().to_string()),
                    files: m.clashes.iter().map(|(c, _)| c.label()).collect(),
                    unresolved: m.unresolved(),
                })
                .collect()
        })
        .await
        .map_err(ApiError::internal);
    }
    let home = state.home().clone();
    tokio::task::spawn_blocking(move || {
        conflicts::list(&home, &id, &collection)?
            .iter()
            .map(|m| {
                Ok(PendingView {
                    direction: m.direction.as_str().to_owned(),
                    project_path: m.project.as_ref().map(|p| p.display().to_string()),
                    files: m.files.iter().map(|f| f.path.clone()).collect(),
                    unresolved: m.unresolved()?,
                })
            })
            .collect::<Result<Vec<_>, skillmeat_core::ops::OpsError>>()
            .map_err(ApiError::from)
    })
    .await
    .map_err(ApiError::internal)?
}
