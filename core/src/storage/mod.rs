//! Storage: where versions, records and upstreams live, and how each is written safely.
//!
//! Every file write here is atomic (temp file, fsync, rename) or an exchange of folders; every
//! shared file is written under a lock. This layer knows the model, never the merge engine or
//! the operations that call it.

pub mod apply;
pub mod atomic;
pub mod collection;
pub mod config;
pub mod conflict_records;
pub mod db;
pub mod events;
pub mod fetch;
pub mod home;
pub mod projects;
pub mod records;
pub mod shared_json;
pub mod ssh;
pub mod statcache;
pub mod store;
pub mod sync_failures;
pub mod tomlfile;
pub mod upstream_state;
pub mod upstream_tree;
pub mod versions;
