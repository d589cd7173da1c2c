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
use crate::storage::events::Event;
use crate::storage::home::Home;
use crate::storage::versions::{ChangeOrigin, NewVersion, Version, Versions};

/// The collection copy of `id` as a version to record: a `sync` from its upstream when it still
/// has the locked content, else a `local_modification` of it; `deployment` when it has no
/// upstream at all (placed in the collection by hand).
///
/// An edit's parent is the collection's `previous` recorded version when that one already
/// descends from the locked version (the user edited on top of what SkillMeat last saw there),
/// else the locked version itself: so a line of hand edits, each tagged, reads as a line in the
/// history and the changelog, not as siblings of the upstream's version.
pub(crate) fn collection_version<'a>(
    ctx: &Context,
    id: &'a ArtifactId,
    path: &'a Path,
    current: &ContentHash,
    locked: Option<&LockEntry>,
    previous: Option<&Version>,
) -> NewVersion<'a> {
    let (origin, parents) = match locked {
        Some(l) if l.content_hash == current.to_hex() => (ChangeOrigin::Sync, Vec::new()),
        Some(l) => {
            let parent = match previous {
                Some(p)
                    if p.content_hash != *current
                        && p.version_lineage.contains(&l.content_hash) =>
                {
                    p.content_hash.to_hex()
                }
                _ => l.content_hash.clone(),
            };
            (ChangeOrigin::LocalModification, vec![parent])
        }
        None => (ChangeOrigin::Deployment, Vec::new()),
    };
    NewVersion {
        artifact: id,
        path,
        origin,
        parents,
        parents_of: None,
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
                warnings: vec![format!(
                    "versions are not being recorded, nor this change in the log: {e}"
                )],
            },
        }
    }

    pub(crate) async fn record(&mut self, new: NewVersion<'_>) -> Option<Version> {
        self.record_logged(new, &[]).await
    }

    /// Records a version and, in the same transaction, the events of the change it is part of.
    pub(crate) async fn record_logged(
        &mut self,
        new: NewVersion<'_>,
        events: &[Event],
    ) -> Option<Version> {
        // Without a database the warning from `open` says the log is missing this too.
        let versions = self.versions.as_ref()?;
        let artifact = new.artifact.clone();
        match versions.record_logged(new, events).await {
            Ok(recorded) => Some(recorded.version),
            Err(e) => {
                self.warnings
                    .push(format!("could not record the version of {artifact}: {e}"));
                None
            }
        }
    }

    /// Writes events of a change that has no other database row (one transaction).
    pub(crate) async fn log(&mut self, events: &[Event]) {
        let Some(versions) = self.versions.as_ref() else {
            return;
        };
        if let Err(e) = crate::storage::events::insert_all(versions.database(), events).await {
            self.warnings.push(format!(
                "could not record {} in the log: {e}",
                describe(events)
            ));
        }
    }

    /// The newest version recorded from the collection's copy of `id`, if any (see
    /// [`collection_version`]); a failure to read is a warning and `None`.
    pub(crate) async fn latest_in_collection(&mut self, id: &ArtifactId) -> Option<Version> {
        let versions = self.versions.as_ref()?;
        match versions.latest_in_tier(id, "collection").await {
            Ok(v) => v,
            Err(e) => {
                self.warnings
                    .push(format!("could not read the versions of {id}: {e}"));
                None
            }
        }
    }

    /// Makes sure the store holds `files` as the version `hash` of `id` before a baseline is
    /// moved to it: a baseline naming a version the store lacks makes the next sync of the pair
    /// `diverged` (no base to merge with). Recording it here covers a recording that failed
    /// earlier in the operation, or in a run killed before it finished. A failure is a warning
    /// that says what it costs.
    pub(crate) async fn ensure_recorded(
        &mut self,
        id: &ArtifactId,
        files: &crate::model::files::ArtifactFiles,
        hash: ContentHash,
        origin: ChangeOrigin,
        now: SystemTime,
    ) {
        let Some(versions) = self.versions.as_ref() else {
            return;
        };
        match versions.get(id, &hash.to_hex()).await {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => {
                self.warnings
                    .push(format!("could not read the versions of {id}: {e}"));
                return;
            }
        }
        let written = tempfile::tempdir().and_then(|dir| {
            let path = dir.path().join(crate::ops::tier::final_name(id));
            files.write_to(&path, id.kind.is_dir())?;
            Ok((dir, path))
        });
        let recorded = match written {
            Ok((_dir, path)) => self
                .record(NewVersion {
                    artifact: id,
                    path: &path,
                    origin,
                    parents: Vec::new(),
                    parents_of: None,
                    metadata: serde_json::json!({ "recorded": "when the baseline moved" }),
                    now,
                })
                .await
                .is_some(),
            Err(e) => {
                self.warnings.push(format!(
                    "could not stage {id} {} to record it: {e}",
                    hash.short()
                ));
                false
            }
        };
        if !recorded {
            self.warnings.push(format!(
                "the baseline of {id} names {}, which the version store lacks: the next sync of \
                 this pair will be `diverged` (settle it with ours or theirs)",
                hash.short()
            ));
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
    pub(crate) async fn record_conflict(
        &mut self,
        conflict: &NewConflict<'_>,
        event: &Event,
    ) -> Option<i64> {
        let versions = self.versions.as_ref()?;
        match conflict_records::insert(versions.database(), conflict, event).await {
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

    /// Marks a conflict record as resolved or aborted, and writes `event` (how it ended) in the
    /// same transaction; without a record (it could not be written when the conflict was
    /// found), the event alone.
    pub(crate) async fn finish_conflict(
        &mut self,
        id: Option<i64>,
        resolution: &str,
        resolved_hash: Option<&str>,
        now: SystemTime,
        event: &Event,
    ) {
        let events = std::slice::from_ref(event);
        let Some(versions) = &self.versions else {
            return;
        };
        let Some(id) = id else {
            self.log(events).await;
            return;
        };
        let at = rfc3339(now);
        if let Err(e) = conflict_records::close(
            versions.database(),
            id,
            resolution,
            resolved_hash,
            &at,
            events,
        )
        .await
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

/// "the sync of skill:a" (or "3 events") for warnings.
fn describe(events: &[Event]) -> String {
    match events {
        [one] => format!("the {} of {}", one.kind, one.artifact_id),
        many => format!("{} events", many.len()),
    }
}
