//! The routed pages, one module per route. Only `lib.rs` (the router) imports a page.

pub mod artifact;
pub mod artifacts;
pub mod jobs;
pub mod not_found;
pub mod plugins;
