//! What every server function stands on: the server's context and [`Backend`] (taken from
//! Leptos context on the server), and how an API error becomes a server-function error. The
//! server-function modules use it; it imports none of them.

/// The URL prefix of every server function.
pub const SERVER_FN_PREFIX: &str = "/_sm";

/// What the server hands to every render and server function through Leptos context.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct ServerContext {
    /// The home the server works on.
    pub home: skillmeat_core::storage::home::Home,
    /// When the server started, for uptime.
    pub started: std::time::Instant,
    /// The reads the pages show, answered by the same code as the REST API.
    pub backend: std::sync::Arc<dyn Backend>,
}

/// What the pages read, implemented by the server over the same functions as the REST API's
/// handlers, so a page and `/api/v1` never disagree. Errors are the API's `{error, message}`.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug + 'static {
    /// The default collection's artifacts.
    async fn artifacts(&self) -> Result<crate::dto::ArtifactList, Failure>;
    /// Drift of the default collection against every registered project (or one), and with
    /// `check_upstream` against the upstreams (asks the remotes).
    async fn drift(
        &self,
        project: Option<String>,
        check_upstream: bool,
    ) -> Result<crate::dto::DriftView, Failure>;
    /// The three version cards of an artifact.
    async fn versions(
        &self,
        id: String,
        project: Option<String>,
    ) -> Result<crate::dto::VersionCards, Failure>;
    /// An artifact's history.
    async fn history(&self, id: String) -> Result<crate::dto::HistoryView, Failure>;
    /// An artifact's latest events and its conflict history.
    async fn log(&self, id: String) -> Result<crate::dto::ArtifactLogView, Failure>;
    /// The next semver tag proposed for the collection's version of an artifact.
    async fn next_tag(&self, id: String) -> Result<crate::dto::NextTagView, Failure>;
    /// The changelog between two recorded versions of an artifact.
    async fn changelog(
        &self,
        id: String,
        from: String,
        to: String,
    ) -> Result<crate::dto::ChangelogView, Failure>;
    /// Tags a version, checked exactly as `POST /api/v1/artifacts/{id}/tags` checks it.
    async fn tag(
        &self,
        id: String,
        req: crate::dto::TagRequest,
    ) -> Result<crate::dto::TaggedView, Failure>;
    /// The modification timeline of an artifact's copy in a registered project.
    async fn timeline(
        &self,
        id: String,
        project: String,
    ) -> Result<crate::dto::TimelineView, Failure>;
    /// A diff between two sides of an artifact.
    async fn diff(
        &self,
        id: String,
        lhs: String,
        rhs: String,
        project: Option<String>,
    ) -> Result<crate::dto::DiffView, Failure>;
    /// Lines `from..=to` (1-based) of a text file of one side of an artifact.
    async fn file_lines(
        &self,
        id: String,
        side: String,
        path: String,
        project: Option<String>,
        lines: (u32, u32),
    ) -> Result<Vec<String>, Failure>;
    /// The registered projects an artifact is deployed in (absolute paths, sorted), from their
    /// deployment records.
    async fn deployed_in(&self, id: String) -> Result<Vec<String>, Failure>;
    /// The registered projects (absolute paths).
    async fn projects(&self) -> Result<Vec<String>, Failure>;
    /// The most recent jobs, newest first.
    async fn jobs(&self, limit: u32) -> Result<crate::dto::JobList, Failure>;
    /// Queues a sync job, checked exactly as `POST /api/v1/sync/jobs` checks it.
    async fn create_job(&self, req: crate::dto::CreateJob) -> Result<crate::dto::JobView, Failure>;
    /// Queues an update job, checked exactly as `POST /api/v1/sync/update` checks it.
    async fn create_update_job(
        &self,
        req: crate::dto::UpdateJob,
    ) -> Result<crate::dto::JobView, Failure>;
    /// One job.
    async fn job(&self, id: i64) -> Result<crate::dto::JobView, Failure>;
    /// Exports a project's edits as a patch bundle (rate limited like `POST /sync/patch`).
    async fn patch(
        &self,
        req: crate::dto::PatchRequest,
    ) -> Result<crate::dto::PatchCreated, Failure>;
    /// The pending merge of an artifact in a project (or the collection's own).
    async fn conflicts(
        &self,
        id: String,
        project: Option<String>,
    ) -> Result<crate::dto::ConflictView, Failure>;
    /// Every pending merge of an artifact, in short.
    async fn pending(&self, id: String) -> Result<Vec<crate::dto::PendingView>, Failure>;
    /// Queues a resolve job, checked exactly as `POST /api/v1/sync/resolve` checks it.
    async fn resolve(
        &self,
        req: crate::dto::ResolveRequest,
    ) -> Result<crate::dto::JobView, Failure>;
    /// The last requests the server answered, newest first.
    async fn requests(&self) -> Vec<crate::dto::RequestView>;
    /// Restores a recorded version in the collection or a project.
    async fn rollback(
        &self,
        id: String,
        req: crate::dto::RollbackRequest,
    ) -> Result<crate::dto::RolledBackView, Failure>;
    /// Drops a pending merge, as `DELETE /api/v1/artifacts/{id}/conflicts` does.
    async fn abort(
        &self,
        id: String,
        project: Option<String>,
    ) -> Result<crate::dto::AbortedView, Failure>;
    /// The artifacts whose syncs failed in a row, as `GET /api/v1/sync/failures` lists them.
    async fn failing(&self) -> Result<crate::dto::FailingSyncsView, Failure>;
    /// Unlocks an artifact the kill-switch locked, as `DELETE /api/v1/artifacts/{id}/lock`.
    async fn unlock(&self, id: String) -> Result<crate::dto::UnlockedView, Failure>;
    /// Takes an artifact out of the collection, as `DELETE /api/v1/artifacts/{id}` does.
    async fn remove(&self, id: String, undeploy: bool) -> Result<crate::dto::RemovedView, Failure>;
    /// Takes an artifact's copy out of a project, as `DELETE /api/v1/artifacts/{id}/deployments`.
    async fn undeploy(
        &self,
        id: String,
        project: String,
        force: bool,
    ) -> Result<crate::dto::UndeployView, Failure>;
    /// Checks artifacts, as `GET /api/v1/check` does (`ids` empty: every one).
    async fn check(
        &self,
        ids: Vec<String>,
        project: Option<String>,
    ) -> Result<crate::dto::CheckView, Failure>;
    /// Reads a plugin marketplace, as `GET /api/v1/marketplace?spec=` does.
    async fn marketplace(&self, spec: String) -> Result<crate::dto::MarketplaceView, Failure>;
    /// Adds plugins of a marketplace, as `POST /api/v1/plugins` does.
    async fn add_plugins(
        &self,
        req: crate::dto::AddPlugins,
    ) -> Result<crate::dto::PluginsAddedView, Failure>;
    /// Plans (`planned` none) or applies following the collection's plugins, as
    /// `GET` / `POST /api/v1/plugins/changes` do.
    async fn plugin_changes(
        &self,
        planned: Option<Vec<crate::dto::PluginChangeView>>,
    ) -> Result<crate::dto::PluginChangesView, Failure>;
}

#[cfg(feature = "ssr")]
pub(super) fn backend() -> Result<std::sync::Arc<dyn Backend>, leptos::prelude::ServerFnError> {
    server_context().map(|c| c.backend)
}

/// A failed [`Backend`] read: the REST API's status for it and its `{error, message}` body. The
/// status comes with the answer, so the UI never keeps a second copy of the API's code → status
/// table.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct Failure {
    /// The HTTP status the REST API answers this failure with.
    pub status: u16,
    /// What failed, as the API says it.
    pub body: crate::dto::ErrorBody,
}

/// An API error as a server-function error: its message, which the pages show. Called over
/// HTTP (`/_sm/…`), the answer gets the status the REST API would give (an unknown id is a 4xx,
/// not a 500); inside a page render the page's own status is left alone.
#[cfg(feature = "ssr")]
pub(super) fn fail(e: Failure) -> leptos::prelude::ServerFnError {
    let over_http = leptos::prelude::use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.uri.path().starts_with(SERVER_FN_PREFIX));
    if over_http
        && let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
    {
        let status =
            http::StatusCode::from_u16(e.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        options.set_status(status);
    }
    leptos::prelude::ServerFnError::new(e.body.message)
}

#[cfg(feature = "ssr")]
pub(super) fn server_context() -> Result<ServerContext, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<ServerContext>().ok_or_else(|| {
        // Only reachable if the server forgot to provide the context: a bug, logged, not a panic.
        leptos::logging::error!("ServerContext missing from Leptos context");
        leptos::prelude::ServerFnError::new("server is misconfigured")
    })
}
