//! Server functions: thin wrappers that take the server's state from Leptos context, call
//! `skillmeat-core`, and return a DTO from [`crate::dto`]. One function per file.
//!
//! They are served under [`SERVER_FN_PREFIX`], apart from the REST API's `/api/v1`.

mod collection;
mod status;

pub use collection::*;
pub use status::*;

/// The URL prefix of every server function.
pub const SERVER_FN_PREFIX: &str = "/_sm";

/// What the server hands to every render and server function through Leptos context.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct ServerContext {
    /// The home the server works on.
    pub home: skillmeat_core::home::Home,
    /// When the server started, for uptime.
    pub started: std::time::Instant,
}

#[cfg(feature = "ssr")]
fn server_context() -> Result<ServerContext, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<ServerContext>().ok_or_else(|| {
        // Only reachable if the server forgot to provide the context: a bug, logged, not a panic.
        leptos::logging::error!("ServerContext missing from Leptos context");
        leptos::prelude::ServerFnError::new("server is misconfigured")
    })
}
