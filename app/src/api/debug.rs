use leptos::prelude::*;

use crate::dto::DebugView;

/// The debug drawer's contents: the server's recent requests and jobs, with trace ids.
#[server(prefix = "/_sm", endpoint = "debug", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_debug() -> Result<DebugView, ServerFnError> {
    let backend = super::backend()?;
    let jobs = backend.jobs(20).await.map_err(super::fail)?.jobs;
    Ok(DebugView {
        requests: backend.requests().await,
        jobs,
    })
}
