//! Tiers as places to write: where an artifact lives below a tier root, staging folders beside
//! it, and the per-artifact and shared-file locks every writer takes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::artifact::ArtifactId;
use crate::model::error::IoResultExt as _;
use crate::model::hash;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::storage::apply::ArtifactLock;

/// Where an artifact lives below a tier root (a collection folder, or a project's `.claude/`).
pub fn artifact_path(tier_root: &Path, id: &ArtifactId) -> PathBuf {
    tier_root.join(id.kind.dir_name()).join(final_name(id))
}

/// The file or folder name of an artifact in any tier.
pub(crate) fn final_name(id: &ArtifactId) -> String {
    if id.kind.is_dir() {
        id.name.to_string()
    } else {
        format!("{}.{}", id.name, id.kind.file_extension())
    }
}

pub(crate) fn staging_dir(parent: &Path) -> Result<tempfile::TempDir, OpsError> {
    Ok(tempfile::Builder::new()
        .prefix(".skillmeat-staging-")
        .tempdir_in(parent)
        .context("create a staging folder in", parent)?)
}

/// Where an artifact copy lives, for locking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tier {
    /// A collection, by name.
    Collection(String),
    /// A project folder.
    Project(PathBuf),
}

/// How long a writer waits for another writer of the same artifact before giving up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Takes the lock of `id` in `tier` (see [`apply::ArtifactLock`]).
pub fn lock_tier(ctx: &Context, tier: &Tier, id: &ArtifactId) -> Result<ArtifactLock, OpsError> {
    let (key, what) = tier_key(tier, id);
    Ok(ArtifactLock::acquire(
        &ctx.home.root().join("locks"),
        &key,
        &what,
        ctx.lock_timeout,
        ctx.now,
    )?)
}

/// A file-name-safe key for `id` in `tier`, and how to name it to a user.
pub(crate) fn tier_key(tier: &Tier, id: &ArtifactId) -> (String, String) {
    match tier {
        Tier::Collection(name) => (
            format!("collection-{name}-{}-{}", id.kind, id.name),
            format!("{id} in collection `{name}`"),
        ),
        Tier::Project(path) => {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            let digest =
                hash::digest_bytes(String::new(), false, canonical.to_string_lossy().as_bytes());
            (
                format!(
                    "project-{}-{}-{}",
                    &digest.digest.to_hex()[..16],
                    id.kind,
                    id.name
                ),
                format!("{id} in {}", path.display()),
            )
        }
    }
}

/// The lock that serialises load → change → save of `file` (see [`apply::lock_shared_file`]).
pub(crate) fn shared_file_guard(
    ctx: &Context,
    file: &Path,
) -> Result<crate::storage::apply::ArtifactLock, OpsError> {
    Ok(crate::storage::apply::lock_shared_file(
        &ctx.home.root().join("locks"),
        file,
        ctx.lock_timeout,
        ctx.now,
    )?)
}
