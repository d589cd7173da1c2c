//! The debug drawer's data: recent requests and jobs with their trace ids.

use leptos::prelude::*;

use crate::dto::DebugView;

/// The debug drawer's contents: the server's recent requests and jobs, with trace ids.
#[server(prefix = "/_sm", endpoint = "debug", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_debug() -> Result<DebugView, ServerFnError> {
    let backend = super::context::backend()?;
    let jobs = backend.jobs(20).await.map_err(super::context::fail)?.jobs;
    Ok(DebugView {
        requests: backend.requests().await,
        jobs,
    })
}
