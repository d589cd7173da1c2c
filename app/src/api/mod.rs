//! Server functions: thin wrappers that take the server's state from Leptos context, call
//! `skillmeat-core`, and return a DTO from [`crate::dto`]. One module per area of the UI.
//!
//! They are served under [`SERVER_FN_PREFIX`], apart from the REST API's `/api/v1`.

mod artifact;
mod conflicts;
mod context;
mod debug;
mod diff;
mod jobs;
mod overview;
mod patch;
mod plugins;
mod remove;
mod status;
mod sync;
mod tags;

pub use artifact::*;
pub use conflicts::*;
pub use context::SERVER_FN_PREFIX;
#[cfg(feature = "ssr")]
pub use context::{Backend, Failure, ServerContext};
pub use debug::*;
pub use diff::*;
pub use jobs::*;
pub use overview::*;
pub use patch::*;
pub use plugins::*;
pub use remove::*;
pub use status::*;
pub use sync::*;
pub use tags::*;
