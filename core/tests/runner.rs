//! The one integration-test binary of `skillmeat-core`: tests on real temp dirs.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod audit;
mod bumps;
mod concurrency;
mod configuring;
mod diffing;
mod fetching;
mod forking;
mod hashing;
mod jobs;
mod killswitch;
mod layers;
mod marketplaces;
mod merging;
mod outside_input;
mod removing;
mod scenarios;
mod syncing;
mod timeline;
mod upstream_limits;
mod versions;
