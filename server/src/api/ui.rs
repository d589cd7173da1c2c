//! What the web UI reads and does ([`Backend`]), answered by the REST API's own functions.

use skillmeat_app::api::{Backend, Failure};

use super::extract::artifact_id;
use super::types::{
    AbortedView, ArtifactList, ArtifactLogView, ChangelogView, ConflictView, CreateJob, DiffQuery,
    DiffView, DriftQuery, DriftView, FileQuery, HistoryView, JobList, JobQuery, JobView, LogQuery,
    NextTagView, PatchCreated, PatchRequest, PendingView, RemovedView, RequestView, ResolveRequest,
    RollbackRequest, RolledBackView, Scope, TagRequest, TaggedView, TimelineView, UndeployView,
    UpdateJob, VersionCards,
};
use super::{ApiError, ApiState, TraceId, artifacts, conflicts, jobs, patch, tags};

/// How many of an artifact's events its page shows (the rest through `skillmeat log` or the API).
const ARTIFACT_PAGE_EVENTS: u32 = 30;

fn scope(project: Option<String>) -> Scope {
    Scope {
        collection: None,
        project_path: project,
    }
}

/// The UI's edge for a failure: what the page is told, with the status the REST API gives it. A
/// server failure's detail is logged here (the REST API's are logged by its trace middleware),
/// since server functions answer through leptos rather than as our own responses.
fn body(e: ApiError) -> Failure {
    if let Some(detail) = e.detail() {
        tracing::error!("request failed: {detail}");
    }
    Failure {
        status: e.status().as_u16(),
        body: e.body(),
    }
}

/// A home without a default collection yet has no artifacts: the pages show their empty state.
fn missing_collection(e: &Failure) -> bool {
    e.body.error == "unknown_collection"
}

#[async_trait::async_trait]
impl Backend for ApiState {
    async fn artifacts(&self) -> Result<ArtifactList, Failure> {
        match artifacts::artifact_list(self, scope(None))
            .await
            .map_err(body)
        {
            Err(e) if missing_collection(&e) => Ok(ArtifactList {
                collection: skillmeat_core::storage::home::DEFAULT_COLLECTION.to_owned(),
                artifacts: Vec::new(),
            }),
            other => other,
        }
    }

    async fn drift(
        &self,
        project: Option<String>,
        check_upstream: bool,
    ) -> Result<DriftView, Failure> {
        let q = DriftQuery {
            collection: None,
            project_path: project,
            check_upstream: Some(check_upstream),
        };
        match artifacts::drift_view(self, q).await.map_err(body) {
            Err(e) if missing_collection(&e) => Ok(DriftView {
                collection: skillmeat_core::storage::home::DEFAULT_COLLECTION.to_owned(),
                rows: Vec::new(),
                problems: Vec::new(),
                upstream_checks_off: false,
                pending_merges: Vec::new(),
            }),
            other => other,
        }
    }

    async fn versions(&self, id: String, project: Option<String>) -> Result<VersionCards, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        artifacts::version_cards(self, id, scope(project))
            .await
            .map_err(body)
    }

    async fn history(&self, id: String) -> Result<HistoryView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        artifacts::history_of(self, id, scope(None))
            .await
            .map_err(body)
    }

    async fn log(&self, id: String) -> Result<ArtifactLogView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        let q = LogQuery {
            artifact: None,
            kind: None,
            project_path: None,
            since: None,
            before: None,
            limit: Some(ARTIFACT_PAGE_EVENTS),
        };
        super::log::artifact_log(self, id, &q).await.map_err(body)
    }

    async fn timeline(&self, id: String, project: String) -> Result<TimelineView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        super::log::timeline_of(self, id, &project)
            .await
            .map_err(body)
    }

    async fn next_tag(&self, id: String) -> Result<NextTagView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        tags::next_of(self, id, None, None).await.map_err(body)
    }

    async fn changelog(
        &self,
        id: String,
        from: String,
        to: String,
    ) -> Result<ChangelogView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        tags::changelog_of(self, id, Some(&from), Some(&to))
            .await
            .map_err(body)
    }

    async fn tag(&self, id: String, req: TagRequest) -> Result<TaggedView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        tags::tag_version(self, id, req).await.map_err(body)
    }

    async fn diff(
        &self,
        id: String,
        lhs: String,
        rhs: String,
        project: Option<String>,
    ) -> Result<DiffView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        let q = DiffQuery {
            lhs,
            rhs,
            collection: None,
            project_path: project,
        };
        artifacts::diff_view(self, id, q).await.map_err(body)
    }

    async fn file_lines(
        &self,
        id: String,
        side: String,
        path: String,
        project: Option<String>,
        (from, to): (u32, u32),
    ) -> Result<Vec<String>, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        if from == 0 || to < from || to - from >= 100_000 {
            return Err(body(ApiError::invalid(
                "bad_range",
                format!("lines {from}–{to} is not a range of lines (1-based, at most 100,000)"),
            )));
        }
        let q = FileQuery {
            side,
            path,
            collection: None,
            project_path: project,
        };
        let bytes = artifacts::file_bytes(self, id, q).await.map_err(body)?;
        if skillmeat_core::engine::diff::is_binary(&bytes) {
            return Err(body(ApiError::invalid(
                "not_text",
                "this file is binary: download it instead",
            )));
        }
        let text = String::from_utf8_lossy(&bytes);
        Ok(text
            .lines()
            .skip(from as usize - 1)
            .take((to - from + 1) as usize)
            .map(str::to_owned)
            .collect())
    }

    async fn deployed_in(&self, id: String) -> Result<Vec<String>, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        let projects = self.registered_projects().await.map_err(body)?;
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for project in projects {
                // A project whose records cannot be read (moved away, malformed) is left out
                // here; the drift views report it.
                let records = match skillmeat_core::storage::records::DeploymentFile::load(&project) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(project = %project.display(), "cannot read deployment records: {e}");
                        continue;
                    }
                };
                if records.get(&id).is_some() {
                    out.push(project.display().to_string());
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|e| body(ApiError::internal(e)))?
    }

    async fn projects(&self) -> Result<Vec<String>, Failure> {
        self.registered_projects()
            .await
            .map(|ps| ps.iter().map(|p| p.display().to_string()).collect())
            .map_err(body)
    }

    async fn jobs(&self, limit: u32) -> Result<JobList, Failure> {
        let q = JobQuery {
            state: None,
            artifact: None,
            limit: Some(limit),
        };
        jobs::job_list(self, q).await.map_err(body)
    }

    async fn create_job(&self, req: CreateJob) -> Result<JobView, Failure> {
        let trace = TraceId {
            id: super::trace::new_trace_id(),
            span: None,
        };
        let job = jobs::new_sync_job(self, req, None, trace)
            .await
            .map_err(body)?;
        let (stored, _) = jobs::enqueue(self, job).await.map_err(body)?;
        Ok(stored.into())
    }

    async fn create_update_job(&self, req: UpdateJob) -> Result<JobView, Failure> {
        let trace = TraceId {
            id: super::trace::new_trace_id(),
            span: None,
        };
        let job = super::update::new_update_job(self, req, None, trace)
            .await
            .map_err(body)?;
        let (stored, _) = jobs::enqueue(self, job).await.map_err(body)?;
        Ok(stored.into())
    }

    async fn job(&self, id: i64) -> Result<JobView, Failure> {
        jobs::find_job(self, id).await.map(Into::into).map_err(body)
    }

    async fn patch(&self, req: PatchRequest) -> Result<PatchCreated, Failure> {
        // Every page shares one client slot of the export rate limit.
        patch::export(self, req, patch::TOKEN_QUOTA)
            .await
            .map_err(|e| body(e.into()))
    }

    async fn conflicts(
        &self,
        id: String,
        project: Option<String>,
    ) -> Result<ConflictView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        conflicts::conflict_view(self, id, scope(project))
            .await
            .map_err(body)
    }

    async fn pending(&self, id: String) -> Result<Vec<PendingView>, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        conflicts::pending_of(self, id).await.map_err(body)
    }

    async fn resolve(&self, req: ResolveRequest) -> Result<JobView, Failure> {
        let trace = TraceId {
            id: super::trace::new_trace_id(),
            span: None,
        };
        let job = jobs::new_resolve_job(self, req, None, trace)
            .await
            .map_err(body)?;
        let (stored, _) = jobs::enqueue(self, job).await.map_err(body)?;
        Ok(stored.into())
    }

    async fn requests(&self) -> Vec<RequestView> {
        self.recent_requests()
    }

    async fn rollback(&self, id: String, req: RollbackRequest) -> Result<RolledBackView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        artifacts::rollback_to(self, id, req).await.map_err(body)
    }

    async fn abort(&self, id: String, project: Option<String>) -> Result<AbortedView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        conflicts::abort_merge(self, id, scope(project))
            .await
            .map_err(body)
    }

    async fn failing(&self) -> Result<skillmeat_app::dto::FailingSyncsView, Failure> {
        super::locks::failing(self).await.map_err(body)
    }

    async fn check(
        &self,
        ids: Vec<String>,
        project: Option<String>,
    ) -> Result<skillmeat_app::dto::CheckView, Failure> {
        super::check::check_view(self, ids, project, None)
            .await
            .map_err(body)
    }

    async fn marketplace(
        &self,
        spec: String,
    ) -> Result<skillmeat_app::dto::MarketplaceView, Failure> {
        super::plugins::read_marketplace(self, spec)
            .await
            .map_err(body)
    }

    async fn add_plugins(
        &self,
        req: skillmeat_app::dto::AddPlugins,
    ) -> Result<skillmeat_app::dto::PluginsAddedView, Failure> {
        super::plugins::add_plugins(self, req).await.map_err(body)
    }

    async fn plugin_changes(
        &self,
        planned: Option<Vec<skillmeat_app::dto::PluginChangeView>>,
    ) -> Result<skillmeat_app::dto::PluginChangesView, Failure> {
        super::plugins::follow(self, None, planned)
            .await
            .map_err(body)
    }

    async fn unlock(&self, id: String) -> Result<skillmeat_app::dto::UnlockedView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        super::locks::unlock_artifact(self, id, None)
            .await
            .map_err(body)
    }

    async fn remove(&self, id: String, undeploy: bool) -> Result<RemovedView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        super::remove::remove_artifact(self, id, None, undeploy, false)
            .await
            .map_err(body)
    }

    async fn undeploy(
        &self,
        id: String,
        project: String,
        force: bool,
    ) -> Result<UndeployView, Failure> {
        let id = artifact_id(&id).map_err(body)?;
        super::remove::undeploy_copy(self, id, &project, None, force)
            .await
            .map_err(body)
    }
}
