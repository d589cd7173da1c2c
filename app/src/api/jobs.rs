use leptos::prelude::*;

use crate::dto::JobList;

/// The most recent jobs, newest first.
#[server(prefix = "/_sm", endpoint = "jobs")]
pub async fn get_jobs() -> Result<JobList, ServerFnError> {
    super::backend()?.jobs(50).await.map_err(super::fail)
}
