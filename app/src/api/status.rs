//! The footer's server status: version, home and uptime.

use leptos::prelude::*;

use crate::dto::ServerStatus;

/// The server's version, home and uptime.
#[server(prefix = "/_sm", endpoint = "status", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_server_status() -> Result<ServerStatus, ServerFnError> {
    let ctx = super::context::server_context()?;
    Ok(ServerStatus {
        version: skillmeat_core::VERSION.to_owned(),
        home: ctx.home.root().display().to_string(),
        uptime_secs: ctx.started.elapsed().as_secs(),
    })
}
