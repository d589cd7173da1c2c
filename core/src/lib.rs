//! The SkillMeat sync engine.
//!
//! This crate knows artifacts, tiers and (as it grows) versions, drift and merges. It has no
//! terminal, HTTP or browser code: the `skillmeat` binary (`server/`) and the Leptos app (`app/`)
//! call into it, and it never reads `$HOME` or the environment on its own — callers pass paths in.
//!
//! Modules, lowest layer first:
//! - [`apply`]: atomic installs (staging + exchange) and per-artifact locks.
//! - [`artifact`]: artifact types, names and ids (`skill:code-review`).
//! - [`atomic`]: atomic file writes (temp file, fsync, rename), used for every record file.
//! - [`store`]: `store.git`, the content store: every version as a git tree, lineage as commits.
//! - [`db`]: the SQLite database `skillmeat.db` (WAL, embedded migrations).
//! - [`versions`]: recorded versions and lineage (`artifact_versions`), tags.
//! - [`projects`]: registered projects (`projects`).
//! - [`collection`]: `collection.toml` (what was asked) and `collection.lock` (what was resolved).
//! - [`diff`]: per-file diffs between versions (similar), binary detection, git patches.
//! - [`merge`]: three-way merges: trivial cases, line merge (libgit2 xdiff), tree level.
//! - [`sync`]: sync between tiers: plan, dry run, lock, snapshot, atomic swap, new baseline.
//! - [`conflicts`]: pending merges (kept aside until resolved), conflict records.
//! - [`jobs`]: the sync job queue (storage trait, SQLite store, runner).
//! - [`drift`]: the drift statuses of DESIGN §4 and how a pair is classified.
//! - [`export`]: patch bundles of project edits for an upstream (`project-to-upstream`).
//! - [`fetch`]: fetching upstream repositories (git2), ref resolution, subtree ids, export.
//! - [`files`]: an artifact version in memory (files, exec bits), as diffs and merges see it.
//! - [`hash`]: content hashes, the version ids of artifacts (the encoding spec lives there).
//! - [`home`]: the on-disk layout of `$SKILLMEAT_HOME` and what a collection holds.
//! - [`ops`]: operations across tiers — add, deploy, drift, migrate, history, tag.
//! - [`records`]: deployment records in a project's `.claude/.skillmeat-deployed.toml`.
//! - [`statcache`]: the stat cache that lets drift skip unchanged files (racy-git safe).
//! - [`tomlfile`]: loading and saving TOML files with precise errors.
//! - [`upstream`]: upstream specs (GitHub shorthand, git URLs, local repositories, refs).
//! - [`upstream_tree`]: what an upstream tree may bring: entry names (git's rules), sizes.
//! - [`display`]: names from outside escaped for printing (no forged rows or colours).
#![forbid(unsafe_code)]

pub mod apply;
pub mod artifact;
pub mod atomic;
pub mod collection;
pub mod conflicts;
pub mod db;
pub mod diff;
pub mod display;
pub mod drift;
pub mod export;
pub mod fetch;
pub mod files;
pub mod hash;
pub mod home;
pub mod jobs;
pub mod merge;
pub mod ops;
pub mod projects;
pub mod records;
pub mod sides;
pub mod ssh;
pub mod statcache;
pub mod store;
pub mod sync;
pub mod tomlfile;
pub mod upstream;
pub mod upstream_tree;
pub mod versions;

/// The version of this crate, which is the version of SkillMeat.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
