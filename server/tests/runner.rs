//! The one integration-test binary of the `skillmeat` crate (one link, not one per file).
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod abandoned;
mod alerting;
mod api;
mod audit;
mod checking;
mod cli;
mod configuring;
mod fleet;
mod forking;
mod fragments;
mod hostile;
mod http;
mod killswitch;
mod logging;
mod otel;
mod plugins;
mod previewing;
mod pruning;
mod removing;
mod restart;
mod ssh;
mod stress;
mod sync;
mod terminal;
mod upstream_limits;
mod user_scope;
