//! Recording versions and registering projects on behalf of an operation: a failure to record is
//! a warning on the report, never a failed operation.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::model::artifact::ArtifactId;
use crate::model::hash::ContentHash;
use crate::model::time::rfc3339;
use crate::ops::context::Context;
use crate::storage::collection::LockEntry;
use crate::storage::conflict_records::{self, NewConflict};
use crate::storage::home::Home;
use crate::storage::versions::{ChangeOrigin, NewVersion, Version, Versions};

/// The collection copy of `id` as a version to record: a `sync` from its upstream when it still
/// has the locked content, else a `local_modification` of it; `deployment` when it has no
/// upstream at all (placed in the collection by hand).
pub(crate) fn collection_version<'a>(
    ctx: &Context,
    id: &'a ArtifactId,
    path: &'a Path,
    current: &ContentHash,
    locked: Option<&LockEntry>,
) -> NewVersion<'a> {
    let (origin, parents) = match locked {
        Some(l) if l.content_hash == current.to_hex() => (ChangeOrigin::Sync, Vec::new()),
        Some(l) => (
            ChangeOrigin::LocalModification,
            vec![l.content_hash.clone()],
        ),
        None => (ChangeOrigin::Deployment, Vec::new()),
    };
    NewVersion {
        artifact: id,
        path,
        origin,
        parents,
        metadata: serde_json::json!({ "tier": "collection" }),
        now: ctx.now,
    }
}

/// Records versions and registers projects on behalf of an operation, turning every failure
/// into a warning: recording never fails the user's operation, but it is never silent either.
pub(crate) struct Recorder {
    pub(crate) versions: Option<Versions>,
    pub(crate) warnings: Vec<String>,
}

impl Recorder {
    pub(crate) async fn open(home: &Home) -> Self {
        match Versions::open(home).await {
            Ok(v) => Self {
                versions: Some(v),
                warnings: Vec::new(),
            },
            Err(e) => Self {
                versions: None,
                warnings: vec![format!("versions are not being recorded: {e}")],
            },
        }
    }

    pub(crate) async fn record(&mut self, new: NewVersion<'_>) -> Option<Version> {
        let versions = self.versions.as_ref()?;
        let artifact = new.artifact.clone();
        match versions.record(new).await {
            Ok(recorded) => Some(recorded.version),
            Err(e) => {
                self.warnings
                    .push(format!("could not record the version of {artifact}: {e}"));
                None
            }
        }
    }

    /// The tag of the recorded version of `id` with this content hash, if it has one.
    pub(crate) async fn tag_of(&mut self, id: &ArtifactId, content_hash: &str) -> Option<String> {
        let versions = self.versions.as_ref()?;
        match versions.get(id, content_hash).await {
            Ok(v) => v.and_then(|v| v.version_tag),
            Err(e) => {
                self.warnings
                    .push(format!("could not read the versions of {id}: {e}"));
                None
            }
        }
    }

    /// Closes the store and hands back the warnings.
    pub(crate) async fn finish(self) -> Vec<String> {
        if let Some(v) = self.versions {
            v.close().await;
        }
        self.warnings
    }

    /// Records a new pending merge in `conflict_records`; its row id.
    pub(crate) async fn record_conflict(&mut self, conflict: &NewConflict<'_>) -> Option<i64> {
        let versions = self.versions.as_ref()?;
        match conflict_records::insert(versions.database(), conflict).await {
            Ok(id) => Some(id),
            Err(e) => {
                self.warnings.push(format!(
                    "could not record the conflict of {}: {e}",
                    conflict.artifact
                ));
                None
            }
        }
    }

    /// Marks a conflict record as resolved or aborted.
    pub(crate) async fn finish_conflict(
        &mut self,
        id: Option<i64>,
        resolution: &str,
        resolved_hash: Option<&str>,
        now: SystemTime,
    ) {
        let (Some(versions), Some(id)) = (&self.versions, id) else {
            return;
        };
        let at = rfc3339(now);
        if let Err(e) =
            conflict_records::close(versions.database(), id, resolution, resolved_hash, &at).await
        {
            self.warnings
                .push(format!("could not update conflict record {id}: {e}"));
        }
    }

    /// Registers the project; returns its canonical path (the given one if that fails).
    pub(crate) async fn register(&mut self, project: &Path, now: SystemTime) -> PathBuf {
        let Some(versions) = &self.versions else {
            return project.to_owned();
        };
        match crate::storage::projects::register(versions.database(), project, now).await {
            Ok(path) => path,
            Err(e) => {
                self.warnings.push(format!(
                    "could not register project {}: {e}",
                    project.display()
                ));
                project.to_owned()
            }
        }
    }
}
