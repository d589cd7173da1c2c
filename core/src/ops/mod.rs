//! The operations a user asks for, one module per operation, over a shared [`Context`] and
//! [`OpsError`].
//!
//! Every write puts the new content in a temporary folder beside its destination and renames it
//! into place, so a crash leaves the old artifact or the new one, never a mix. Nothing here ever
//! overwrites files SkillMeat does not manage, or a project copy with edits of its own.
//!
//! The re-exports below are what the edges (CLI, REST API, pages, jobs) call. Inside the crate,
//! modules name each other by their full path (`crate::ops::tier::Tier`), so the layering test
//! sees every dependency between operations.

pub mod add;
pub mod cards;
pub mod check;
pub mod conflicts;
pub mod context;
pub mod deploy;
pub mod drift;
pub mod error;
pub mod export;
pub mod fragments;
pub mod history;
pub mod legacy;
pub mod links;
pub mod log;
pub mod marketplace;
pub mod migrate;
pub mod record;
pub mod remove;
pub mod rollback;
pub mod sides;
pub mod sync;
pub mod tier;
pub mod timeline;
pub mod update;

pub use add::{Added, add};
pub use context::Context;
pub use deploy::{DeployReport, Deployed, deploy, deploy_checked};
pub use drift::{DriftProblem, DriftReport, DriftRow, drift};
pub use error::OpsError;
pub use history::{
    ChangedFile, Changelog, ChangelogStep, History, NextTag, changelog, history, next_tag, tag,
};
pub use links::{ProjectLinks, registered_projects, set_project_links};
pub use log::{ConflictHistory, FileConflicts, LogPage, conflict_history, log};
pub use migrate::{MigrateReport, Migrated, migrate};
pub use remove::{Removed, UndeployReport, Undeployed, remove, undeploy};
pub use rollback::{RolledBack, rollback};
pub use tier::{LOCK_TIMEOUT, Tier, artifact_path, lock_tier};
pub use timeline::{Checked, Timeline, check_projects, timeline};
