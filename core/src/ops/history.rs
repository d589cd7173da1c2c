//! `history` and `tag`: an artifact's recorded versions, and names for them.

use std::fs;

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::model::hash::{self, ContentHash};
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::collection_version;
use crate::ops::tier::artifact_path;
use crate::storage::collection::{Lock, Manifest};
use crate::storage::events::{Event, EventKind};
use crate::storage::versions::{Version, Versions};

/// An artifact's recorded versions.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Whose history this is.
    pub id: ArtifactId,
    /// The content hash the collection holds now, if it holds the artifact.
    pub current: Option<ContentHash>,
    /// Every recorded version, newest first.
    pub versions: Vec<Version>,
    /// Versions instated again (rollbacks), newest first.
    pub events: Vec<crate::storage::versions::VersionEvent>,
}

/// The recorded versions of `id`, newest first. Read-only: opens nothing for writing and
/// records nothing (a version the collection holds but that was never recorded shows as
/// `current` without a row).
pub async fn history(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
) -> Result<History, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let (versions, events) = match Versions::open_read_only(&ctx.home).await? {
        Some(v) => {
            let history = v.history(id).await;
            let events = v.events(id).await;
            v.close().await;
            (history?, events?)
        }
        None => (Vec::new(), Vec::new()),
    };
    if manifest.get(id).is_none() && versions.is_empty() {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    }
    let path = artifact_path(&collection_dir, id);
    let current = if fs::symlink_metadata(&path).is_ok() {
        Some(hash::hash_path(&path)?)
    } else {
        None
    };
    Ok(History {
        id: id.clone(),
        current,
        versions,
        events,
    })
}

/// Names a version of `id` with `tag`: the version given (a tag or a hash prefix), else the one
/// the collection holds now (recorded first if it never was). `force` moves a tag that names
/// another version.
pub async fn tag(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    tag: &str,
    version: Option<&str>,
    force: bool,
) -> Result<Version, OpsError> {
    crate::storage::versions::check_tag(tag)?;
    let versions = Versions::open(&ctx.home).await?;
    let target = match version {
        Some(given) => versions.resolve(id, given).await?,
        None => {
            let collection_dir = ctx.home.collection_dir(collection)?;
            if Manifest::load(&collection_dir)?.get(id).is_none() {
                return Err(OpsError::NotInCollection {
                    id: id.clone(),
                    collection: collection.to_owned(),
                });
            }
            let path = artifact_path(&collection_dir, id);
            let current = hash::hash_path(&path)?;
            let lock = Lock::load(&collection_dir)?;
            versions
                .record(collection_version(ctx, id, &path, &current, lock.get(id)))
                .await?
                .version
        }
    };
    let mut event = Event::new(EventKind::Tag, id, collection, rfc3339(ctx.now));
    event.detail = serde_json::json!({ "tag": tag, "previous": target.version_tag });
    let tagged = versions
        .tag(id, &target.content_hash, tag, force, &event)
        .await;
    versions.close().await;
    Ok(tagged?)
}
