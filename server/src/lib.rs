//! The `skillmeat` binary's library: the command line ([`cli`]) and the web server ([`serve`]).
//!
//! The sync engine is `skillmeat-core`; the web UI's components and server functions are
//! `skillmeat-app`. This crate wires them to a terminal and to HTTP.

pub mod api;
pub mod cli;
pub mod error;
pub mod otel;
pub mod serve;
