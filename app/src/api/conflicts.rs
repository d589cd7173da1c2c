//! A pending merge file by file, and the resolve job that settles it.

use leptos::prelude::*;

use crate::dto::{ConflictView, JobView, ResolveRequest};

/// The pending merge of an artifact in `project` (or the collection's own), file by file.
#[server(prefix = "/_sm", endpoint = "conflicts", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_conflicts(
    id: String,
    project: Option<String>,
) -> Result<ConflictView, ServerFnError> {
    super::context::backend()?
        .conflicts(id, project)
        .await
        .map_err(super::context::fail)
}

/// Drops the pending merge of an artifact in `project` (or the collection's own), exactly as
/// `DELETE /api/v1/artifacts/{id}/conflicts` does; the target was never touched.
#[server(prefix = "/_sm", endpoint = "abort_merge", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn abort_conflicts(id: String, project: Option<String>) -> Result<(), ServerFnError> {
    super::context::backend()?
        .abort(id, project)
        .await
        .map(drop)
        .map_err(super::context::fail)
}

/// Queues a resolve job, exactly as `POST /api/v1/sync/resolve` would.
#[server(prefix = "/_sm", endpoint = "resolve", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn resolve_conflicts(req: ResolveRequest) -> Result<JobView, ServerFnError> {
    super::context::backend()?
        .resolve(req)
        .await
        .map_err(super::context::fail)
}
