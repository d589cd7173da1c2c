//! Starting a sync or update job and reading one job's state.

use leptos::prelude::*;

use crate::dto::{CreateJob, JobView, UpdateJob};

/// Queues a sync job (a dry run unless `dry_run` is false), exactly as
/// `POST /api/v1/sync/jobs` would; the job runs in the background.
#[server(prefix = "/_sm", endpoint = "start_sync", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn start_sync(req: CreateJob) -> Result<JobView, ServerFnError> {
    super::context::backend()?
        .create_job(req)
        .await
        .map_err(super::context::fail)
}

/// Queues an update job ("Update everywhere"; a dry run unless `dry_run` is false), exactly as
/// `POST /api/v1/sync/update` would.
#[server(prefix = "/_sm", endpoint = "start_update", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn start_update(req: UpdateJob) -> Result<JobView, ServerFnError> {
    super::context::backend()?
        .create_update_job(req)
        .await
        .map_err(super::context::fail)
}

/// One job, as `GET /api/v1/sync/jobs/{id}` returns it.
#[server(prefix = "/_sm", endpoint = "job", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_job(id: i64) -> Result<JobView, ServerFnError> {
    super::context::backend()?
        .job(id)
        .await
        .map_err(super::context::fail)
}
