//! Operations across tiers: adding an artifact from its upstream, deploying it into projects,
//! and reporting drift. These tie the lower modules together; the CLI and server call them.
//!
//! Every write puts the new content in a temporary folder beside its destination and renames it
//! into place, so a crash leaves the old artifact or the new one, never a mix. Nothing here ever
//! overwrites files SkillMeat does not manage, or a project copy with edits of its own.

pub mod conflicts;
pub mod export;
pub mod sides;
pub mod sync;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::engine::drift::{DriftStatus, classify};
use crate::model::artifact::{ArtifactId, ArtifactName, ArtifactType, IdError};
use crate::model::files::ArtifactFiles;
use crate::model::hash::{self, ContentHash, HashAlgorithm, HashError};
use crate::model::upstream::{SpecError, UpstreamSpec};
use crate::storage::apply::{self, ApplyError, ArtifactLock};
use crate::storage::atomic;
use crate::storage::collection::{Lock, LockEntry, Manifest, ManifestEntry};
use crate::storage::fetch::{FetchError, FetchSettings, UpstreamCache};
use crate::storage::home::{Home, HomeError};
use crate::storage::records::{DeploymentFile, DeploymentRecord, RecordedStatus};
use crate::storage::statcache::StatCache;
use crate::storage::tomlfile::TomlFileError;
use crate::storage::versions::{ChangeOrigin, NewVersion, Version, VersionError, Versions};

/// What an operation needs from its caller: the home, a clock and fetch settings.
#[derive(Debug, Clone)]
pub struct Context {
    /// The SkillMeat home.
    pub home: Home,
    /// The time to stamp records with (injected so tests and snapshots are deterministic).
    pub now: SystemTime,
    /// Retry policy and credentials for upstreams.
    pub fetch: FetchSettings,
    /// The folder relative local upstream paths are resolved against.
    pub cwd: PathBuf,
    /// How long to wait for another writer of the same artifact (see [`LOCK_TIMEOUT`]).
    pub lock_timeout: Duration,
}

/// Why an operation failed. Nothing was changed unless the variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error(transparent)]
    File(#[from] TomlFileError),
    #[error(transparent)]
    Versions(#[from] VersionError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Merge(#[from] crate::engine::merge::MergeError),
    #[error(transparent)]
    Store(#[from] crate::storage::store::StoreError),
    /// A project direction without a project.
    #[error("{direction} needs a project: pass --project DIR")]
    ProjectRequired { direction: &'static str },
    /// A folder of the project's `.claude/` is a link out of the project, and the user has not
    /// allowed that for this project. Nothing was written.
    #[error(transparent)]
    LinkOutside(#[from] crate::storage::projects::LinkOutside),
    /// The folder is not a project SkillMeat deployed into.
    #[error("{project} is not a registered project (deploy into it first)")]
    NotRegistered { project: PathBuf },
    /// The artifact is not deployed in the project.
    #[error("{id} is not deployed in {project}")]
    NotDeployed { id: ArtifactId, project: PathBuf },
    /// The artifact has no upstream to sync from.
    #[error("{id} has no upstream (it was not added from one)")]
    NoUpstream { id: ArtifactId },
    /// The source tier no longer has the artifact.
    #[error("{id}: the source of {direction} no longer has it")]
    SourceMissing {
        id: ArtifactId,
        direction: &'static str,
    },
    /// The target changed between planning and applying.
    #[error("{path} changed while the sync was being prepared; nothing was written, run it again")]
    TargetChanged { id: ArtifactId, path: PathBuf },
    /// A merge of the artifact is pending.
    #[error("{id} has a pending merge in {path}: resolve it (skillmeat resolve) or abort it first")]
    PendingMerge { id: ArtifactId, path: PathBuf },
    /// The project copy has no edits against the upstream.
    #[error("{id} in the project has no changes against its upstream: nothing to export")]
    NothingToExport { id: ArtifactId },
    /// No pending merge to resolve.
    #[error("{id} has no pending merge")]
    NoPendingMerge { id: ArtifactId },
    /// Several pending merges match; a project must be named.
    #[error(
        "{id} has pending merges in several tiers: pass --project DIR (or none for the collection)"
    )]
    AmbiguousPending { id: ArtifactId },
    /// The pending merge is no longer the one the caller read (see [`PendingMerge::revision`]).
    ///
    /// [`PendingMerge::revision`]: crate::ops::conflicts::PendingMerge::revision
    #[error(
        "the pending merge of {id} changed since it was read (resolved elsewhere, or replaced by \
         a newer sync); nothing was written: read it again and choose again"
    )]
    MergeChanged { id: ArtifactId },
    /// A file of the pending merge is not part of it.
    #[error("{path} is not a file of the pending merge of {id} (files: {files})")]
    NotInMerge {
        id: ArtifactId,
        path: String,
        files: String,
    },
    /// Hunk choices that do not match a file's conflicts.
    #[error(
        "{path} of {id} has {conflicts} conflicting hunk(s) but {given} choice(s) were given; \
         choose ours, theirs or both for each"
    )]
    HunkChoices {
        id: ArtifactId,
        path: String,
        conflicts: usize,
        given: usize,
    },
    /// A resolution still holds conflict markers.
    #[error("{what} still holds conflict markers: {files}")]
    MarkersLeft { what: String, files: String },
    /// The artifact type cannot be told from the upstream path.
    #[error("cannot tell the type of `{path}`: pass --type skill|command|agent")]
    UnknownType { path: String },
    /// The upstream path has the wrong shape for the type.
    #[error("`{path}` is not a {kind}: {why}")]
    WrongShape {
        path: String,
        kind: ArtifactType,
        why: &'static str,
    },
    /// The artifact is already in the collection.
    #[error("{id} is already in collection `{collection}`")]
    AlreadyAdded { id: ArtifactId, collection: String },
    /// The artifact is not in the collection.
    #[error("{id} is not in collection `{collection}`")]
    NotInCollection { id: ArtifactId, collection: String },
    /// A file or folder SkillMeat does not manage is in the way.
    #[error("{path} already exists and is not managed by SkillMeat; move it away first")]
    Unmanaged { path: PathBuf },
    /// The project copy has edits that deploying would overwrite.
    #[error("{id} in {project} has local edits; deploying would overwrite them (sync instead)")]
    LocalEdits { id: ArtifactId, project: PathBuf },
    /// A file-system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A side of a diff that is no tier and no recorded version.
    #[error("`{side}` is not upstream, collection, project or a recorded version")]
    UnknownSide { side: String },
    /// The tier holds no copy of the artifact.
    #[error("{id} has no copy at {}", path.display())]
    NoCopy { id: ArtifactId, path: PathBuf },
    /// A job was cancelled before this phase; nothing of it was written.
    #[error("{id}: cancelled before {phase}; nothing was written")]
    Cancelled { id: ArtifactId, phase: &'static str },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> OpsError + 'a {
    move |source| OpsError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// What `add` did.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    /// The artifact's id.
    pub id: ArtifactId,
    /// Where it now lives in the collection.
    pub path: PathBuf,
    /// The upstream commit it came from.
    pub commit: String,
    /// Its content hash.
    pub content_hash: String,
    /// Problems that did not stop the operation (e.g. the version could not be recorded).
    pub warnings: Vec<String>,
}

/// Adds the artifact at `spec_text` to `collection`: fetches the upstream, resolves the ref,
/// and places the files atomically; then records the spec in `collection.toml` and what it
/// resolved to in `collection.lock`.
pub async fn add(
    ctx: &Context,
    spec_text: &str,
    kind: Option<ArtifactType>,
    name: Option<&str>,
    collection: &str,
) -> Result<Added, OpsError> {
    let mut spec = UpstreamSpec::parse(spec_text)?;
    let as_given = spec.clone();
    spec.absolutize(&ctx.cwd);
    let recorded_spec = if spec == as_given {
        spec_text.trim().to_owned()
    } else {
        spec.to_string()
    };
    let collection_dir = ctx.home.collection_dir(collection)?;
    let repo =
        UpstreamCache::new(ctx.home.root().join("cache/upstream")).fetch(&spec, &ctx.fetch)?;
    let commit = repo.resolve(&spec.reference)?;
    let info = repo.path_info(&commit, &spec.path)?;
    let kind = match kind {
        Some(k) => k,
        None => infer_type(&spec.path, info.is_dir)?,
    };
    if kind.is_dir() != info.is_dir {
        let why = if kind.is_dir() {
            "a skill is a folder"
        } else {
            "it must be one .md file"
        };
        return Err(OpsError::WrongShape {
            path: spec.path.clone(),
            kind,
            why,
        });
    }
    let name = ArtifactName::new(match name {
        Some(n) => n,
        None => default_name(&spec.path, kind),
    })?;
    let id = ArtifactId::new(kind, name);
    let manifest = Manifest::load(&collection_dir)?;
    if manifest.get(&id).is_some() {
        return Err(OpsError::AlreadyAdded {
            id,
            collection: collection.to_owned(),
        });
    }
    let dest = artifact_path(&collection_dir, &id);
    if fs::symlink_metadata(&dest).is_ok() {
        return Err(OpsError::Unmanaged { path: dest });
    }

    let parent = dest.parent().unwrap_or(&collection_dir).to_owned();
    fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
    let staging = staging_dir(&parent)?;
    // Staged under its final name: a single-file artifact's hash includes its file name.
    let staged = staging.path().join(final_name(&id));
    repo.export(&commit, &spec.path, &staged, &ctx.fetch.limits)?;
    if kind.is_dir() && !staged.join("SKILL.md").is_file() {
        return Err(OpsError::WrongShape {
            path: spec.path,
            kind,
            why: "it has no SKILL.md",
        });
    }
    let content_hash = hash::hash_path(&staged)?;
    fs::rename(&staged, &dest).map_err(io("cannot move into place", &dest))?;
    atomic::sync_dir(&parent).map_err(io("cannot sync", &parent))?;

    let stamp = rfc3339(ctx.now);
    // Both files as they are now (another add may have changed them since the checks above),
    // the manifest's lock taken before the lock file's, as everywhere.
    let _manifest_guard = shared_file_guard(
        ctx,
        &collection_dir.join(crate::storage::collection::MANIFEST_FILE),
    )?;
    let mut manifest = Manifest::load(&collection_dir)?;
    // Recorded as given, except that a relative local path is made absolute.
    manifest.artifacts.retain(|e| e.id != id);
    manifest.artifacts.push(ManifestEntry {
        id: id.clone(),
        upstream: Some(recorded_spec),
        added_at: Some(stamp.clone()),
    });
    let _lock_guard = shared_file_guard(
        ctx,
        &collection_dir.join(crate::storage::collection::LOCK_FILE),
    )?;
    let mut lock = Lock::load(&collection_dir)?;
    lock.upsert(LockEntry {
        id: id.clone(),
        location: repo.location().to_owned(),
        path: spec.path.clone(),
        reference: spec.reference.to_string(),
        commit: commit.clone(),
        tree: info.id,
        content_hash: content_hash.to_hex(),
        hash_algorithm: HashAlgorithm::V1,
        fetched_at: stamp,
    });
    lock.save(&collection_dir)?;
    manifest.save(&collection_dir)?;

    let mut recorder = Recorder::open(&ctx.home).await;
    recorder
        .record(NewVersion {
            artifact: &id,
            path: &dest,
            origin: ChangeOrigin::Sync,
            parents: Vec::new(),
            metadata: serde_json::json!({
                "source": "upstream",
                "upstream": spec_text.trim(),
                "reference": spec.reference.to_string(),
                "commit": commit,
            }),
            now: ctx.now,
        })
        .await;
    Ok(Added {
        id,
        path: dest,
        commit,
        content_hash: content_hash.to_hex(),
        warnings: recorder.finish().await,
    })
}

fn infer_type(path: &str, is_dir: bool) -> Result<ArtifactType, OpsError> {
    if is_dir {
        return Ok(ArtifactType::Skill);
    }
    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let last = parent.rsplit('/').next().unwrap_or("");
    match last {
        "commands" => Ok(ArtifactType::Command),
        "agents" => Ok(ArtifactType::Agent),
        _ => Err(OpsError::UnknownType {
            path: path.to_owned(),
        }),
    }
}

fn default_name(path: &str, kind: ArtifactType) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    if kind.is_dir() {
        last
    } else {
        last.strip_suffix(".md").unwrap_or(last)
    }
}

/// Where an artifact lives below a tier root (a collection folder, or a project's `.claude/`).
pub fn artifact_path(tier_root: &Path, id: &ArtifactId) -> PathBuf {
    tier_root.join(id.kind.dir_name()).join(final_name(id))
}

/// The file or folder name of an artifact in any tier.
fn final_name(id: &ArtifactId) -> String {
    if id.kind.is_dir() {
        id.name.to_string()
    } else {
        format!("{}.md", id.name)
    }
}

fn staging_dir(parent: &Path) -> Result<tempfile::TempDir, OpsError> {
    tempfile::Builder::new()
        .prefix(".skillmeat-staging-")
        .tempdir_in(parent)
        .map_err(io("cannot create a staging folder in", parent))
}

/// What `deploy` did for one artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    /// The artifact's id.
    pub id: ArtifactId,
    /// Where it was written.
    pub path: PathBuf,
    /// The deployed version, now the project's baseline.
    pub content_hash: String,
    /// False when the project already had exactly this version.
    pub changed: bool,
    /// The deployed version's commit in the version store, when it could be recorded.
    pub snapshot_id: Option<String>,
}

/// What `deploy` did.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    /// The project, as registered (canonical path).
    pub project: PathBuf,
    /// One entry per artifact, in the order asked.
    pub deployed: Vec<Deployed>,
    /// Problems that did not stop the deployment (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

/// Deploys artifacts of `collection` into `project/.claude/`, recording each deployed version as
/// the baseline for drift and in the version store, and registering the project. Refuses to
/// overwrite unmanaged files or a project copy with edits; checks every artifact before
/// writing any.
pub async fn deploy(
    ctx: &Context,
    ids: &[ArtifactId],
    project: &Path,
    collection: &str,
) -> Result<DeployReport, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let lock = Lock::load(&collection_dir)?;
    check_project_links(&ctx.home, project).await?;
    let records = DeploymentFile::load(project)?;
    let claude = project.join(".claude");
    let mut new_records = Vec::new();
    let mut out = Vec::new();
    // Check everything first, so a refusal for one artifact leaves the project untouched.
    let mut plan = Vec::new();
    for id in ids {
        if manifest.get(id).is_none() {
            return Err(OpsError::NotInCollection {
                id: id.clone(),
                collection: collection.to_owned(),
            });
        }
        let source = artifact_path(&collection_dir, id);
        let source_hash = hash::hash_path(&source)?;
        let dest = artifact_path(&claude, id);
        let existing = records.get(id).cloned();
        let present = fs::symlink_metadata(&dest).is_ok();
        let mut changed = true;
        if present {
            let current = hash::hash_path(&dest)?;
            match &existing {
                None if current != source_hash => return Err(OpsError::Unmanaged { path: dest }),
                Some(r) if !matches_baseline(r, &dest, &current)? => {
                    return Err(OpsError::LocalEdits {
                        id: id.clone(),
                        project: project.to_owned(),
                    });
                }
                _ => changed = current != source_hash,
            }
        }
        plan.push((id, source, source_hash, dest, existing, changed));
    }
    let mut recorder = Recorder::open(&ctx.home).await;
    let mut failure = None;
    for (id, source, source_hash, dest, existing, changed) in plan {
        if changed && let Err(e) = install_copy(ctx, id, &source, &dest, project) {
            // Keep the records of the artifacts already written true before reporting it.
            failure = Some(e);
            break;
        }
        let version = recorder
            .record(collection_version(
                ctx,
                id,
                &source,
                &source_hash,
                lock.get(id),
            ))
            .await;
        let stamp = rfc3339(ctx.now);
        let hex = source_hash.to_hex();
        let mut lineage = existing
            .as_ref()
            .map(|r| r.version_lineage.clone())
            .unwrap_or_default();
        if lineage.first() != Some(&hex) {
            lineage.insert(0, hex.clone());
        }
        let locked = lock.get(id);
        let record = DeploymentRecord {
            artifact_name: id.name.clone(),
            artifact_type: id.kind,
            from_collection: collection.to_owned(),
            deployed_at: Some(stamp.clone()),
            artifact_path: Some(format!(
                ".claude/{}",
                dest.strip_prefix(&claude).unwrap_or(&dest).display()
            )),
            content_hash: Some(hex.clone()),
            hash_algorithm: HashAlgorithm::V1,
            local_modifications: false,
            parent_hash: existing
                .as_ref()
                .and_then(|r| r.content_hash.clone())
                .filter(|h| h != &hex),
            version_lineage: lineage,
            sync_status: RecordedStatus::Synced,
            upstream_ref: locked.map(|l| l.reference.clone()),
            upstream_version: locked
                .map(|l| l.reference.clone())
                .filter(|r| r != "latest"),
            upstream_sha: locked.map(|l| l.commit.clone()),
            last_upstream_check: locked.map(|l| l.fetched_at.clone()),
            pending_conflicts: Vec::new(),
            last_modified_check: Some(stamp),
            modification_detected_at: None,
            merge_base_snapshot: Some(hex.clone()),
            snapshot_id: version.as_ref().map(|v| v.commit_id.to_string()),
            version_tag: version.as_ref().and_then(|v| v.version_tag.clone()),
        };
        new_records.push(record);
        out.push(Deployed {
            id: id.clone(),
            path: dest,
            content_hash: hex,
            changed,
            snapshot_id: version.map(|v| v.commit_id.to_string()),
        });
    }
    // Applied to the records as they are now: another writer may have changed other entries
    // since they were read above.
    {
        let _guard = shared_file_guard(ctx, &DeploymentFile::path_in(project))?;
        let mut current = DeploymentFile::load(project)?;
        for record in new_records {
            current.deployed.retain(|r| r.id() != record.id());
            current.deployed.push(record);
        }
        current.deployed.sort_by_key(DeploymentRecord::id);
        current.save(project)?;
    }
    if let Some(e) = failure {
        recorder.finish().await;
        return Err(e);
    }
    let project = recorder.register(project, ctx.now).await;
    Ok(DeployReport {
        project,
        deployed: out,
        warnings: recorder.finish().await,
    })
}

/// Copies the collection's `source` to the project's `dest` under the project tier's lock.
fn install_copy(
    ctx: &Context,
    id: &ArtifactId,
    source: &Path,
    dest: &Path,
    project: &Path,
) -> Result<(), OpsError> {
    let files = ArtifactFiles::read(source)?;
    let _lock = lock_tier(ctx, &Tier::Project(project.to_owned()), id)?;
    apply::install(&files, id.kind.is_dir(), dest, &mut |_| Ok(()))?;
    Ok(())
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

/// The collection copy of `id` as a version to record: a `sync` from its upstream when it still
/// has the locked content, else a `local_modification` of it; `deployment` when it has no
/// upstream at all (placed in the collection by hand).
fn collection_version<'a>(
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
    versions: Option<Versions>,
    warnings: Vec<String>,
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
    pub(crate) async fn record_conflict(
        &mut self,
        merge: &crate::ops::conflicts::PendingMerge,
        unresolved: &[String],
    ) -> Option<i64> {
        let versions = self.versions.as_ref()?;
        match crate::ops::conflicts::insert_record(versions.database(), merge, unresolved).await {
            Ok(id) => Some(id),
            Err(e) => {
                self.warnings.push(format!(
                    "could not record the conflict of {}: {e}",
                    merge.id
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
        if let Err(e) = crate::ops::conflicts::close_record(
            versions.database(),
            id,
            resolution,
            resolved_hash,
            &at,
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

/// Whether the project copy still equals the version recorded as deployed, honouring the
/// algorithm the record was written with.
fn matches_baseline(
    record: &DeploymentRecord,
    path: &Path,
    current_v1: &ContentHash,
) -> Result<bool, OpsError> {
    let Some(base) = record.content_hash.as_deref() else {
        return Ok(false);
    };
    Ok(match record.hash_algorithm {
        HashAlgorithm::V1 => base == current_v1.to_hex(),
        HashAlgorithm::Legacy => base == hash::legacy_hash_path(path)?.to_hex(),
    })
}

/// One row of a drift report.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRow {
    /// The artifact.
    pub id: ArtifactId,
    /// `upstream-collection` or `collection-project`.
    pub pair: &'static str,
    /// The project, for `collection-project` rows.
    pub project: Option<PathBuf>,
    /// The status.
    pub status: DriftStatus,
    /// What to do about it.
    pub recommendation: Option<&'static str>,
    /// Short hashes of base, source and target, where known.
    pub base: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
}

/// Something drift could not check; the rest of the report stands.
#[derive(Debug, Clone, Serialize)]
pub struct DriftProblem {
    /// The artifact, when the problem is one artifact's (else the project's or the upstream's).
    pub id: Option<ArtifactId>,
    /// The pair it stopped, when it is one artifact's.
    pub pair: Option<&'static str>,
    /// The project, when the problem is in one.
    pub project: Option<PathBuf>,
    /// What is wrong and what to do, in one line.
    pub message: String,
}

/// A drift report: the pairs that could be checked, and what could not be.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftReport {
    /// One row per pair checked.
    pub rows: Vec<DriftRow>,
    /// What could not be checked, and why. A problem in one project, artifact or upstream
    /// never hides the rows of the others.
    pub problems: Vec<DriftProblem>,
}

impl DriftReport {
    /// Whether any row drifted.
    pub fn drifted(&self) -> bool {
        self.rows.iter().any(|r| r.status.is_drift())
    }

    fn problem(
        &mut self,
        id: Option<&ArtifactId>,
        pair: Option<&'static str>,
        project: Option<&Path>,
        message: impl std::fmt::Display,
    ) {
        self.problems.push(DriftProblem {
            id: id.cloned(),
            pair,
            project: project.map(Path::to_owned),
            message: crate::model::display::escaped(&message.to_string()).into_owned(),
        });
    }
}

/// Computes drift between the collection and `projects` (and, with `check_upstream`, between
/// each upstream and the collection). Writes nothing but the stat cache under `cache/`.
///
/// Fails as a whole only when the collection itself cannot be read. A project whose records
/// are unreadable, an artifact copy that holds a symlink or a FIFO, an upstream that cannot be
/// reached: each becomes a [`DriftProblem`] and the other rows are still computed.
pub fn drift(
    ctx: &Context,
    collection: &str,
    projects: &[PathBuf],
    check_upstream: bool,
) -> Result<DriftReport, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let lock = Lock::load(&collection_dir)?;
    let cache_path = ctx.home.root().join("cache/stat-cache.json");
    let mut cache = StatCache::load(&cache_path, ctx.now);
    let mut report = DriftReport::default();
    let mut records = Vec::new();
    for project in projects {
        if !project.is_dir() {
            report.problem(
                None,
                None,
                Some(project),
                format_args!(
                    "the project {} no longer exists (moved or deleted): deploy into its new place to check it again",
                    project.display()
                ),
            );
            continue;
        }
        match DeploymentFile::load(project) {
            Ok(file) => {
                for r in &file.deployed {
                    if manifest.get(&r.id()).is_none() {
                        report.problem(
                            Some(&r.id()),
                            Some("collection-project"),
                            Some(project),
                            format_args!(
                                "{} is deployed in {} but not in the collection `{collection}` \
                                 (its collection.toml lists {} artifacts): add it again, or check \
                                 that collection.toml was not emptied",
                                r.id(),
                                project.display(),
                                manifest.artifacts.len()
                            ),
                        );
                    }
                }
                records.push((project, file));
            }
            Err(e) => report.problem(None, None, Some(project), e),
        }
    }
    let mut hash_tier = |path: &Path| -> Result<Option<ContentHash>, OpsError> {
        if fs::symlink_metadata(path).is_err() {
            return Ok(None);
        }
        Ok(Some(cache.hash_path(path)?))
    };

    for entry in &manifest.artifacts {
        let id = &entry.id;
        let source_path = artifact_path(&collection_dir, id);
        let collection_hash = match hash_tier(&source_path) {
            Ok(h) => h,
            Err(e) => {
                report.problem(Some(id), None, None, e);
                continue;
            }
        };
        if check_upstream && let (Some(spec_text), Some(locked)) = (&entry.upstream, lock.get(id)) {
            let pair = "upstream-collection";
            // Lock::load checked the hash's shape: this parse cannot fail.
            let base: Option<ContentHash> = locked.content_hash.parse().ok();
            match upstream_hash(ctx, spec_text, locked) {
                Ok(upstream) => {
                    if let Some(status) =
                        classify(base.as_ref(), upstream.as_ref(), collection_hash.as_ref())
                    {
                        report.rows.push(row(
                            id,
                            pair,
                            None,
                            status,
                            base,
                            upstream,
                            collection_hash,
                        ));
                    }
                }
                Err(e) => report.problem(Some(id), Some(pair), None, e),
            }
        }
        for (project, records) in &records {
            let Some(record) = records.get(id) else {
                continue;
            };
            let pair = "collection-project";
            let target_path = artifact_path(&project.join(".claude"), id);
            let checked = hash_tier(&target_path).and_then(|target| {
                let base = baseline_in_v1(record, &[&target_path, &source_path])?;
                Ok((target, base))
            });
            match checked {
                Ok((target, base)) => {
                    if let Some(status) =
                        classify(base.as_ref(), collection_hash.as_ref(), target.as_ref())
                    {
                        report.rows.push(row(
                            id,
                            pair,
                            Some((*project).clone()),
                            status,
                            base,
                            collection_hash,
                            target,
                        ));
                    }
                }
                Err(e) => report.problem(Some(id), Some(pair), Some(project), e),
            }
        }
    }
    // The cache is an accelerator: failing to save it never fails the drift check.
    let _ = cache.save(&cache_path);
    Ok(report)
}

/// The record's baseline as a `v1` hash. A `legacy` baseline is translated by finding a copy
/// that still has it — the project copy, else the collection copy (old tools deployed the
/// collection's content) — and hashing that copy with `v1`; when neither has it, it is unknown.
pub(crate) fn baseline_in_v1(
    record: &DeploymentRecord,
    candidates: &[&Path],
) -> Result<Option<ContentHash>, OpsError> {
    let recorded = record
        .merge_base_snapshot
        .as_deref()
        .or(record.content_hash.as_deref());
    let Some(recorded) = recorded else {
        return Ok(None);
    };
    match record.hash_algorithm {
        HashAlgorithm::V1 => Ok(recorded.parse().ok()),
        HashAlgorithm::Legacy => Ok(translate_legacy(recorded, candidates)?.map(|(h, _)| h)),
    }
}

/// The `v1` hash of the first candidate whose `legacy` hash is `legacy`, and that candidate.
fn translate_legacy<'a>(
    legacy: &str,
    candidates: &[&'a Path],
) -> Result<Option<(ContentHash, &'a Path)>, OpsError> {
    for path in candidates {
        if fs::symlink_metadata(path).is_ok() && hash::legacy_hash_path(path)?.to_hex() == legacy {
            return Ok(Some((hash::hash_path(path)?, path)));
        }
    }
    Ok(None)
}

/// The upstream's current content hash for a locked artifact: unchanged when its subtree id is.
fn upstream_hash(
    ctx: &Context,
    spec_text: &str,
    locked: &LockEntry,
) -> Result<Option<ContentHash>, OpsError> {
    let spec = UpstreamSpec::parse(spec_text)?;
    // First the cheap check: the remote's ref listing. If the ref still names the locked commit
    // (or is a commit sha, which never moves), nothing is fetched.
    match crate::storage::fetch::remote_commit(&spec, &ctx.fetch)? {
        Some(commit) if commit == locked.commit => return Ok(locked.content_hash.parse().ok()),
        None if is_sha(&locked.reference) => {
            return Ok(locked.content_hash.parse().ok());
        }
        _ => {}
    }
    let repo =
        UpstreamCache::new(ctx.home.root().join("cache/upstream")).fetch(&spec, &ctx.fetch)?;
    let commit = repo.resolve(&spec.reference)?;
    let info = match repo.path_info(&commit, &spec.path) {
        Ok(info) => info,
        Err(FetchError::MissingPath { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if info.id == locked.tree {
        return Ok(locked.content_hash.parse().ok());
    }
    let scratch =
        tempfile::tempdir().map_err(io("cannot create a temp folder in", &std::env::temp_dir()))?;
    let out = scratch.path().join(final_name(&locked.id));
    repo.export(&commit, &spec.path, &out, &ctx.fetch.limits)?;
    Ok(Some(hash::hash_path(&out)?))
}

fn is_sha(reference: &str) -> bool {
    (4..=40).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

fn row(
    id: &ArtifactId,
    pair: &'static str,
    project: Option<PathBuf>,
    status: DriftStatus,
    base: Option<ContentHash>,
    source: Option<ContentHash>,
    target: Option<ContentHash>,
) -> DriftRow {
    DriftRow {
        id: id.clone(),
        pair,
        project,
        status,
        recommendation: status.recommendation(),
        base: base.map(|h| h.short()),
        source: source.map(|h| h.short()),
        target: target.map(|h| h.short()),
    }
}

/// `t` as RFC 3339 in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// What `migrate` did to one record.
#[derive(Debug, Clone, Serialize)]
pub struct Migrated {
    /// The artifact.
    pub id: ArtifactId,
    /// `upgraded`, `current` (nothing to do) or `kept-legacy`.
    pub outcome: &'static str,
    /// Why, for `kept-legacy`.
    pub note: Option<&'static str>,
}

/// What `migrate` did to a project's records.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    /// One entry per record.
    pub records: Vec<Migrated>,
    /// Problems that did not stop the migration (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

/// Upgrades a project's deployment records to the current format: missing fields get their
/// defaults, a `legacy` baseline becomes a `v1` hash when the project or collection copy still
/// has that version, and
/// an empty lineage is backfilled with the baseline as its root. A legacy baseline that no copy
/// has any more cannot be translated and is kept, so drift reports exactly what it did
/// before. A translated baseline is recorded in the version store (its content is the copy
/// that still has it), so it can serve as a merge base. Idempotent: a second run writes nothing.
pub async fn migrate(ctx: &Context, project: &Path) -> Result<MigrateReport, OpsError> {
    let home = &ctx.home;
    let path = DeploymentFile::path_in(project);
    // Read, translated and saved as one change: a sync or deploy meanwhile waits.
    let _guard = shared_file_guard(ctx, &path)?;
    let before = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(MigrateReport {
                records: Vec::new(),
                warnings: Vec::new(),
            });
        }
        Err(e) => return Err(io("cannot read", &path)(e)),
    };
    let mut file = DeploymentFile::load(project)?;
    let claude = project.join(".claude");
    let mut out = Vec::new();
    let mut recorder = None;
    if file
        .deployed
        .iter()
        .any(|r| r.hash_algorithm == HashAlgorithm::Legacy)
    {
        recorder = Some(Recorder::open(home).await);
    }
    for record in &mut file.deployed {
        let id = record.id();
        let (outcome, note) = if record.hash_algorithm == HashAlgorithm::V1 {
            ("current", None)
        } else {
            let copy = artifact_path(&claude, &id);
            let in_collection = home
                .collection_dir(&record.from_collection)
                .ok()
                .map(|d| artifact_path(&d, &id));
            let mut candidates = vec![copy.as_path()];
            candidates.extend(in_collection.as_deref());
            let translated = match &record.content_hash {
                Some(h) => translate_legacy(h, &candidates)?,
                None => None,
            };
            if let Some((v1, holder)) = translated {
                if let Some(recorder) = &mut recorder {
                    let version = recorder
                        .record(NewVersion {
                            artifact: &id,
                            path: holder,
                            origin: ChangeOrigin::Deployment,
                            parents: Vec::new(),
                            metadata: serde_json::json!({
                                "migrated_from": "legacy",
                                "legacy_hash": record.content_hash,
                            }),
                            now: ctx.now,
                        })
                        .await;
                    if let Some(v) = version {
                        record.snapshot_id = Some(v.commit_id.to_string());
                    }
                }
                let v1 = v1.to_hex();
                record.content_hash = Some(v1.clone());
                record.merge_base_snapshot = Some(v1);
                record.hash_algorithm = HashAlgorithm::V1;
                ("upgraded", None)
            } else {
                (
                    "kept-legacy",
                    Some(
                        "no copy still has the deployed version, so its legacy baseline cannot be translated",
                    ),
                )
            }
        };
        if record.version_lineage.is_empty()
            && let Some(h) = &record.content_hash
        {
            record.version_lineage.push(h.clone());
        }
        out.push(Migrated { id, outcome, note });
    }
    file.format = Some(crate::storage::records::RECORDS_FORMAT);
    // Write only when something changes, so a second run leaves the file untouched.
    let reparsed: Option<DeploymentFile> = std::str::from_utf8(&before)
        .ok()
        .and_then(|t| crate::storage::tomlfile::parse_toml(&path, t).ok());
    if reparsed.as_ref().map(|r| (r.format, &r.deployed)) != Some((file.format, &file.deployed)) {
        file.save(project)?;
    }
    Ok(MigrateReport {
        records: out,
        warnings: match recorder {
            Some(r) => r.finish().await,
            None => Vec::new(),
        },
    })
}

/// An artifact's recorded versions.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The artifact.
    pub id: ArtifactId,
    /// The content hash the collection holds now, if it holds the artifact.
    pub current: Option<String>,
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
        Some(hash::hash_path(&path)?.to_hex())
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
    let tagged = versions.tag(id, &target.content_hash, tag, force).await;
    versions.close().await;
    Ok(tagged?)
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

/// Refuses to write into `project` when a folder of its `.claude/` leads out of it through a
/// symlink, unless the user allowed that for this project (`skillmeat project allow-links`).
pub(crate) async fn check_project_links(home: &Home, project: &Path) -> Result<(), OpsError> {
    let Err(outside) = crate::storage::projects::check_links(project) else {
        return Ok(());
    };
    // Only on this rare path: open for writing, which migrates a database older than the
    // setting's column.
    let v = Versions::open(home).await?;
    let allowed =
        crate::storage::projects::allows_links_outside(v.database(), &outside.project).await;
    v.close().await;
    if allowed.map_err(VersionError::from)? {
        Ok(())
    } else {
        Err(outside.into())
    }
}

/// A project's setting for writes through links out of it, as `project allow-links` left it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectLinks {
    /// The project (canonical).
    pub project: PathBuf,
    /// Whether writes through links out of it are allowed.
    pub allow_links_outside: bool,
    /// A folder of its `.claude/` that leads out of it now, and where it leads.
    pub link_outside: Option<(PathBuf, PathBuf)>,
}

/// Allows (or, with `allow` false, refuses again) writes into `project` through folders of its
/// `.claude/` that are symlinks out of it, registering the project if needed.
pub async fn set_project_links(
    ctx: &Context,
    project: &Path,
    allow: bool,
) -> Result<ProjectLinks, OpsError> {
    if !project.is_dir() {
        return Err(io("cannot open the project", project)(
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    let v = Versions::open(&ctx.home).await?;
    let set =
        crate::storage::projects::set_links_outside(v.database(), project, allow, ctx.now).await;
    v.close().await;
    let canonical = set.map_err(VersionError::from)?;
    Ok(ProjectLinks {
        link_outside: crate::storage::projects::check_links(&canonical)
            .err()
            .map(|e| (e.link, e.resolved)),
        project: canonical,
        allow_links_outside: allow,
    })
}

/// The projects deployments were made into (registered by `deploy`), without writing anything.
pub async fn registered_projects(home: &Home) -> Result<Vec<PathBuf>, OpsError> {
    match Versions::open_read_only(home).await? {
        Some(v) => {
            let listed = crate::storage::projects::list(v.database()).await;
            v.close().await;
            Ok(listed.map_err(VersionError::from)?)
        }
        None => Ok(Vec::new()),
    }
}

/// What `rollback` did.
#[derive(Debug, Clone, Serialize)]
pub struct RolledBack {
    /// The artifact.
    pub id: ArtifactId,
    /// Where: the project, or `None` for the collection.
    pub project: Option<PathBuf>,
    /// The version replaced (64 hex).
    pub from: Option<String>,
    /// The version restored (64 hex).
    pub to: String,
    /// False when the tier already held that version.
    pub changed: bool,
    /// Problems that did not stop it.
    pub warnings: Vec<String>,
}

/// Restores a recorded version of `id` (a hash prefix or tag) in the collection, or in
/// `project`, atomically and under the tier's lock. The version replaced is recorded first, so
/// a rollback can itself be rolled back; the rollback is recorded as an event with origin
/// `rollback`. Baselines are left as they are: drift then shows the rolled-back copy against
/// what the other tier has.
pub async fn rollback(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    to: &str,
) -> Result<RolledBack, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    if Manifest::load(&collection_dir)?.get(id).is_none() {
        return Err(OpsError::NotInCollection {
            id: id.clone(),
            collection: collection.to_owned(),
        });
    }
    if let Some(pending) = crate::ops::conflicts::into_tier(&ctx.home, id, collection, project)? {
        return Err(OpsError::PendingMerge {
            id: id.clone(),
            path: pending.dir,
        });
    }
    let (path, tier, tier_name) = match project {
        Some(p) => {
            let registered = registered_projects(&ctx.home).await?;
            let canonical = p.canonicalize().map_err(io("cannot open the project", p))?;
            if !registered.contains(&canonical) {
                return Err(OpsError::NotRegistered {
                    project: p.to_owned(),
                });
            }
            if DeploymentFile::load(p)?.get(id).is_none() {
                return Err(OpsError::NotDeployed {
                    id: id.clone(),
                    project: p.to_owned(),
                });
            }
            check_project_links(&ctx.home, p).await?;
            (
                artifact_path(&p.join(".claude"), id),
                Tier::Project(p.to_owned()),
                canonical.to_string_lossy().into_owned(),
            )
        }
        None => (
            artifact_path(&collection_dir, id),
            Tier::Collection(collection.to_owned()),
            "collection".to_owned(),
        ),
    };
    let versions = Versions::open(&ctx.home).await?;
    let target = versions.resolve(id, to).await?;
    let files = versions.store().read_tree(&target.tree_id)?;
    let mut recorder = Recorder {
        versions: Some(versions.clone()),
        warnings: Vec::new(),
    };
    let _lock = lock_tier(ctx, &tier, id)?;
    let current = if fs::symlink_metadata(&path).is_ok() {
        Some(hash::hash_path(&path)?)
    } else {
        None
    };
    let changed = current != Some(target.content_hash);
    if changed {
        let replaced = match current {
            Some(_) => {
                recorder
                    .record(NewVersion {
                        artifact: id,
                        path: &path,
                        origin: ChangeOrigin::LocalModification,
                        parents: Vec::new(),
                        metadata: serde_json::json!({ "snapshot": "pre-rollback" }),
                        now: ctx.now,
                    })
                    .await
            }
            None => None,
        };
        apply::install(&files, id.kind.is_dir(), &path, &mut |_| Ok(()))?;
        if let Err(e) = versions
            .record_event(
                &target,
                replaced.as_ref(),
                ChangeOrigin::Rollback,
                &tier_name,
                ctx.now,
            )
            .await
        {
            recorder
                .warnings
                .push(format!("could not record the rollback of {id}: {e}"));
        }
    }
    Ok(RolledBack {
        id: id.clone(),
        project: project.map(Path::to_owned),
        from: current.map(|h| h.to_hex()),
        to: target.content_hash.to_hex(),
        changed,
        warnings: recorder.finish().await,
    })
}
