//! The Jobs page's list of recent jobs.

use leptos::prelude::*;

use crate::dto::JobList;

/// The most recent jobs, newest first.
#[server(prefix = "/_sm", endpoint = "jobs", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_jobs() -> Result<JobList, ServerFnError> {
    super::context::backend()?
        .jobs(50)
        .await
        .map_err(super::context::fail)
}
