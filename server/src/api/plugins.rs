//! Claude Code plugin marketplaces over HTTP: reading one, adding its plugins, and following
//! the collection's plugins (what they gained, lost, moved or were renamed to), planned first.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use skillmeat_core::ops::marketplace::{self, Selection};
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery};
use super::types::{
    AddPlugins, ApplyPluginChanges, ErrorBody, MarketplaceView, PluginAddedView,
    PluginArtifactAddedView, PluginArtifactView, PluginChangeView, PluginChangesView, PluginView,
    PluginsAddedView, RenameView, Scope,
};
use super::{ApiError, ApiState};

/// Which marketplace to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MarketplaceQuery {
    /// Where it is: `owner/repo`, a git URL, or an absolute local path (`#path`, `@ref`).
    pub spec: String,
}

/// Runs blocking work (upstream fetches) off the async workers.
async fn off_workers<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

fn relative_refused(spec: &str) -> Result<(), ApiError> {
    // The server's working folder is nobody's business: a local marketplace is named absolutely.
    if spec.trim_start().starts_with("./") || spec.trim_start().starts_with("../") {
        return Err(ApiError::invalid(
            "bad_spec",
            format!("`{spec}`: name a local marketplace by its absolute path"),
        ));
    }
    Ok(())
}

/// A marketplace's plugins, with what each holds; nothing is added.
#[utoipa::path(
    get, path = "/api/v1/marketplace", tag = "plugins",
    params(MarketplaceQuery),
    responses(
        (status = 200, body = MarketplaceView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn read(
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<MarketplaceQuery>,
) -> Result<Json<MarketplaceView>, ApiError> {
    read_marketplace(&state, q.spec).await.map(Json)
}

/// Reads a marketplace (see [`read`]).
pub async fn read_marketplace(state: &ApiState, spec: String) -> Result<MarketplaceView, ApiError> {
    relative_refused(&spec)?;
    let ctx = state.ctx();
    let view = off_workers(move || marketplace::read(&ctx, &spec).map_err(ApiError::from)).await?;
    Ok(MarketplaceView {
        name: view.name,
        spec: view.spec,
        commit: view.commit,
        description: view.description,
        owner: view.owner,
        plugins: view
            .plugins
            .into_iter()
            .map(|p| PluginView {
                name: p.name,
                description: p.description,
                version: p.version,
                source: p.source,
                artifacts: p
                    .artifacts
                    .into_iter()
                    .map(|a| PluginArtifactView {
                        id: a.id.to_string(),
                        spec: a.spec,
                    })
                    .collect(),
                problem: p.problem,
                skipped: p.skipped,
            })
            .collect(),
        renames: view
            .renames
            .into_iter()
            .map(|(from, to)| RenameView { from, to })
            .collect(),
    })
}

/// Adds plugins of a marketplace: each skill, command and agent an artifact of its own,
/// grouped under the plugin. Per artifact `added`, `present` (already there from this plugin)
/// or `failed`, with why; a plugin that cannot be added says why in `problem`.
#[utoipa::path(
    post, path = "/api/v1/plugins", tag = "plugins",
    request_body = AddPlugins,
    responses(
        (status = 200, body = PluginsAddedView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn add(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<AddPlugins>,
) -> Result<Json<PluginsAddedView>, ApiError> {
    add_plugins(&state, body).await.map(Json)
}

/// Adds plugins (see [`add`]).
pub async fn add_plugins(state: &ApiState, body: AddPlugins) -> Result<PluginsAddedView, ApiError> {
    relative_refused(&body.spec)?;
    let selection = match (body.all, body.plugins.is_empty()) {
        (true, true) => Selection::All,
        (false, false) => Selection::Named(body.plugins),
        _ => {
            return Err(ApiError::invalid(
                "bad_request",
                "name the plugins to add in `plugins`, or set `all`, not both",
            ));
        }
    };
    let (collection, _, _) = state.collection(body.collection.as_deref())?;
    let ctx = state.ctx();
    let handle = tokio::runtime::Handle::current();
    let spec = body.spec;
    let done = off_workers(move || {
        handle
            .block_on(marketplace::add_plugins(
                &ctx,
                &spec,
                &selection,
                &collection,
            ))
            .map_err(ApiError::from)
    })
    .await?;
    Ok(PluginsAddedView {
        marketplace: done.marketplace,
        plugins: done
            .plugins
            .into_iter()
            .map(|p| PluginAddedView {
                plugin: p.plugin,
                artifacts: p
                    .artifacts
                    .into_iter()
                    .map(|a| PluginArtifactAddedView {
                        id: a.id.to_string(),
                        spec: a.spec,
                        result: a.result.to_owned(),
                        detail: a.detail,
                    })
                    .collect(),
                problem: p.problem,
                skipped: p.skipped,
            })
            .collect(),
    })
}

/// What following the collection's plugins would do now: each marketplace read again.
#[utoipa::path(
    get, path = "/api/v1/plugins/changes", tag = "plugins",
    params(Scope),
    responses(
        (status = 200, body = PluginChangesView),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn changes(
    State(state): State<ApiState>,
    ApiQuery(scope): ApiQuery<Scope>,
) -> Result<Json<PluginChangesView>, ApiError> {
    follow(&state, scope.collection, None).await.map(Json)
}

/// Applies the plan [`changes`] gave, if it is still the plan: otherwise 409 `plan_changed`
/// and nothing is done. Artifacts a plugin lost are removed only when their copy has no local
/// edits and no project has them (`kept`, with why, otherwise).
#[utoipa::path(
    post, path = "/api/v1/plugins/changes", tag = "plugins",
    request_body = ApplyPluginChanges,
    responses(
        (status = 200, body = PluginChangesView),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ),
    security(("token" = []))
)]
pub async fn apply(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<ApplyPluginChanges>,
) -> Result<Json<PluginChangesView>, ApiError> {
    follow(&state, body.collection, Some(body.planned))
        .await
        .map(Json)
}

/// Plans (`planned` none) or applies following the plugins of a collection.
pub async fn follow(
    state: &ApiState,
    collection: Option<String>,
    planned: Option<Vec<PluginChangeView>>,
) -> Result<PluginChangesView, ApiError> {
    let (collection, _, _) = state.collection(collection.as_deref())?;
    let ctx = state.ctx();
    let handle = tokio::runtime::Handle::current();
    let name = collection.clone();
    let changes = off_workers(move || {
        let plan = handle
            .block_on(marketplace::follow_plugins(&ctx, &name, false))
            .map_err(ApiError::from)?;
        let Some(planned) = planned else {
            return Ok(plan);
        };
        // What the caller saw is what is applied: the same changes, or nothing.
        let key = |c: &PluginChangeView| {
            (
                c.plugin.clone(),
                c.artifact.clone(),
                c.change.clone(),
                c.spec.clone(),
            )
        };
        let mut now: Vec<_> = plan.iter().map(view).map(|c| key(&c)).collect();
        let mut then: Vec<_> = planned.iter().map(key).collect();
        now.sort();
        then.sort();
        if now != then {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "plan_changed",
                "the plugins' marketplaces or the collection changed since this plan was made: \
                 nothing was done; get the plan again",
            ));
        }
        handle
            .block_on(marketplace::follow_plugins(&ctx, &name, true))
            .map_err(ApiError::from)
    })
    .await?;
    Ok(PluginChangesView {
        collection,
        changes: changes.iter().map(view).collect(),
    })
}

fn view(c: &marketplace::PluginChange) -> PluginChangeView {
    PluginChangeView {
        plugin: c.plugin.clone(),
        artifact: c.id.as_ref().map(ToString::to_string),
        change: c.change.to_owned(),
        detail: c.detail.clone(),
        spec: c.spec.clone(),
        applied: c.applied,
    }
}
