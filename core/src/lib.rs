//! The SkillMeat sync engine.
//!
//! This crate knows artifacts, tiers, versions, drift and merges. It has no terminal, HTTP or
//! browser code: the `skillmeat` binary (`server/`) and the Leptos app (`app/`) call into it, and
//! it never reads `$HOME` or the environment on its own — callers pass paths in.
//!
//! The modules are layered; a layer uses the ones before it and never the ones after it
//! (`tests/layers.rs` fails on an import that points up, or on any cycle between modules):
//!
//! ```text
//! model     what things are: ids and types, content hashes, upstream specs, files in memory
//!   ↓
//! storage   where they live: $SKILLMEAT_HOME, atomic writes, TOML records, SQLite, the git
//!   ↓       version store, the stat cache, fetched upstreams
//! engine    pure decisions over versions: diffs, three-way merges, drift classification
//!   ↓
//! ops       the operations a user asks for (add, deploy, drift, sync, resolve, rollback, …),
//!   ↓       each a module, over a shared context and error
//! jobs      the sync job queue and its runner, which call the operations
//! ```
#![forbid(unsafe_code)]

pub mod engine;
pub mod jobs;
pub mod model;
pub mod ops;
pub mod storage;

/// The version of this crate, which is the version of SkillMeat.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
