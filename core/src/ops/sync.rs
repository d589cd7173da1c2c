//! Sync between tiers (DESIGN §5): plan → (dry run stops here) → lock → snapshot the target
//! into the version store → build the result beside the target → atomic swap → record versions,
//! lineage and the new baseline → unlock.
//!
//! The *source* is the tier changes come from, the *target* the tier written; in merge terms the
//! target is "ours" and the source "theirs". The base is the version both last agreed on: the
//! lock's content hash for upstream↔collection, the deployment record's baseline for
//! collection↔project. After a sync the source's version is the new baseline, whether the target
//! took it whole (fast-forward, overwrite), merged it with its own edits, or kept its own
//! content by choice (`ours`) — so the next sync merges only what changed since.
//!
//! A merge with conflicts never touches the target: it becomes a pending merge
//! ([`conflicts`](crate::ops::conflicts)) that the user resolves and then applies.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use crate::engine::merge::{self, FileAction, FileOutcome, Labels};
use crate::model::artifact::ArtifactId;
use crate::model::files::ArtifactFiles;
use crate::model::hash::{ContentHash, HashAlgorithm};
use crate::model::upstream::UpstreamSpec;
use crate::ops::conflicts;
use crate::ops::{self, Context, OpsError, Recorder, Tier, artifact_path, rfc3339};
use crate::storage::apply::{self, ArtifactLock};
use crate::storage::collection::{Lock, LockEntry, Manifest};
use crate::storage::fetch::UpstreamCache;
use crate::storage::records::{DeploymentFile, RecordedStatus};
use crate::storage::versions::{ChangeOrigin, NewVersion, Versions};

/// Which way a sync goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Take the upstream's changes into the collection (alias `upstream`).
    UpstreamToCollection,
    /// Take the collection's changes into a project (alias `deploy`).
    CollectionToProject,
    /// Capture a project's edits into the collection (alias `project`).
    ProjectToCollection,
}

impl Direction {
    /// The full name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpstreamToCollection => "upstream-to-collection",
            Self::CollectionToProject => "collection-to-project",
            Self::ProjectToCollection => "project-to-collection",
        }
    }

    /// The tiers written ("ours") and read ("theirs"): `(target, source)`.
    pub fn tiers(self) -> (&'static str, &'static str) {
        match self {
            Self::UpstreamToCollection => ("collection", "upstream"),
            Self::CollectionToProject => ("project", "collection"),
            Self::ProjectToCollection => ("collection", "project"),
        }
    }

    /// Whether a project is involved.
    pub fn needs_project(self) -> bool {
        !matches!(self, Self::UpstreamToCollection)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "upstream-to-collection" | "upstream" => Ok(Self::UpstreamToCollection),
            "collection-to-project" | "deploy" => Ok(Self::CollectionToProject),
            "project-to-collection" | "project" => Ok(Self::ProjectToCollection),
            "project-to-upstream" => Err(
                "SkillMeat never writes to an upstream: export a patch with `skillmeat patch`"
                    .to_owned(),
            ),
            _ => Err(format!(
                "unknown direction `{s}`: use upstream, deploy, project (or their full names)"
            )),
        }
    }
}

/// How differences are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Fast-forward when only one side moved, three-way merge when both did; never merges a
    /// pair without a known base or a binary file.
    #[default]
    Auto,
    /// Keep the target as it is (the source's version becomes the baseline).
    Ours,
    /// Take the source's version for every file.
    Theirs,
    /// The source's version replaces the target whole (same as `theirs` for a whole artifact).
    Overwrite,
}

impl Strategy {
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Ours => "ours",
            Self::Theirs => "theirs",
            Self::Overwrite => "overwrite",
        }
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "ours" => Ok(Self::Ours),
            "theirs" => Ok(Self::Theirs),
            "overwrite" => Ok(Self::Overwrite),
            _ => Err(format!(
                "unknown strategy `{s}`: use auto, ours, theirs or overwrite"
            )),
        }
    }
}

/// What a sync does (or did) to the artifact as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Nothing to take: the target already has the source's changes.
    UpToDate,
    /// Only the source moved: the target takes its version.
    FastForward,
    /// Both moved and merged cleanly.
    Merged,
    /// The source's version replaced the target's by choice.
    Overwritten,
    /// The target keeps its content by choice; the source's version becomes the baseline.
    KeptTarget,
    /// Both moved and some files conflict: a pending merge awaits resolution.
    Conflict,
    /// They differ and no base is known: only `ours` or `theirs` can settle it.
    Diverged,
}

impl Outcome {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpToDate => "up-to-date",
            Self::FastForward => "fast-forward",
            Self::Merged => "merged",
            Self::Overwritten => "overwritten",
            Self::KeptTarget => "kept-target",
            Self::Conflict => "conflict",
            Self::Diverged => "diverged",
        }
    }
}

/// A sync to plan or run.
#[derive(Debug, Clone)]
pub struct SyncRequest<'a> {
    /// The artifact.
    pub id: &'a ArtifactId,
    /// Which way.
    pub direction: Direction,
    /// The project, for the project directions.
    pub project: Option<&'a Path>,
    /// The collection.
    pub collection: &'a str,
    /// How to settle differences.
    pub strategy: Strategy,
    /// Plan only; write nothing.
    pub dry_run: bool,
    /// Told as each phase starts (the job runner turns these into progress).
    pub on_phase: Option<PhaseHook<'a>>,
}

/// The phases of a sync, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Reading the sides (fetching the upstream when it is one).
    Fetch,
    /// Planning: fast-forward, overwrite or three-way merge.
    Merge,
    /// Writing the target (or the pending merge) and recording versions.
    Apply,
}

impl Phase {
    /// The name used in spans and job events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fetch => "fetch",
            Self::Merge => "merge",
            Self::Apply => "apply",
        }
    }
}

/// A callback told when a phase starts; returning `false` stops the sync there (before
/// anything is written, unless the phase is past apply) with [`OpsError::Cancelled`].
#[derive(Clone, Copy)]
pub struct PhaseHook<'a>(pub &'a (dyn Fn(Phase) -> bool + Send + Sync));

impl fmt::Debug for PhaseHook<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhaseHook")
    }
}

impl SyncRequest<'_> {
    fn phase(&self, phase: Phase) -> Result<tracing::Span, OpsError> {
        if let Some(hook) = self.on_phase
            && !(hook.0)(phase)
        {
            return Err(OpsError::Cancelled {
                id: self.id.clone(),
                phase: phase.as_str(),
            });
        }
        Ok(tracing::info_span!(
            "phase",
            otel.name = phase.as_str(),
            phase = phase.as_str(),
            artifact_id = %self.id,
            direction = self.direction.as_str(),
            duration_ms = tracing::field::Empty
        ))
    }
}

/// Runs `fut` inside `span`, recording how long it took as `duration_ms`.
async fn timed<T>(span: tracing::Span, fut: impl std::future::Future<Output = T>) -> T {
    use tracing::Instrument as _;
    let started = std::time::Instant::now();
    let out = fut.instrument(span.clone()).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("duration_ms", ms);
    span.in_scope(|| tracing::debug!(duration_ms = ms, "phase done"));
    out
}

/// The plan of a sync, and what was done when it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The artifact.
    pub id: ArtifactId,
    /// Which way.
    pub direction: Direction,
    /// The project, for the project directions.
    pub project: Option<PathBuf>,
    /// The strategy used.
    pub strategy: Strategy,
    /// What happens to the artifact as a whole.
    pub outcome: Outcome,
    /// The base, source and target versions (64 hex), where known.
    pub base: Option<String>,
    pub source: String,
    pub target: Option<String>,
    /// The version the target holds afterwards (planned when not applied).
    pub result: Option<String>,
    /// Every file with what happens to it.
    pub files: Vec<FileOutcome>,
    /// Whether the target was written (false for a dry run, a plan, or nothing to do).
    pub applied: bool,
    /// Where the pending merge is kept, for a conflict.
    pub pending: Option<PathBuf>,
    /// Problems that did not stop the sync (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

impl SyncReport {
    /// Whether the sync left a conflict to resolve.
    pub fn has_conflict(&self) -> bool {
        self.outcome == Outcome::Conflict
    }
}

/// Where the upstream was when its content was read, for the lock.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamPoint {
    pub commit: String,
    pub tree: String,
}

/// The three sides of a sync, read from disk and the store.
pub(crate) struct Sides {
    pub target_path: PathBuf,
    pub target_tier: Tier,
    pub source: ArtifactFiles,
    pub source_hash: ContentHash,
    pub target: Option<ArtifactFiles>,
    pub target_hash: Option<ContentHash>,
    pub base_hash: Option<ContentHash>,
    pub base: Option<ArtifactFiles>,
    pub upstream: Option<UpstreamPoint>,
}

/// How many times a sync is planned again when another writer changed its target between the
/// plan and the apply (each time it waited for that writer's lock, so each try sees its result).
const REPLANS: u32 = 8;

/// Plans a sync and, unless it is a dry run, applies it.
///
/// When another writer (a worker, a server job, another process) changes the target after this
/// sync read it, nothing of this plan is written: the sync reads all three sides again, after
/// that writer's lock is released, and plans against what is there now, so it waits its turn
/// instead of failing. After [`REPLANS`] such turns it gives up with [`OpsError::TargetChanged`].
pub async fn sync(ctx: &Context, req: &SyncRequest<'_>) -> Result<SyncReport, OpsError> {
    let mut replans = 0;
    loop {
        match sync_once(ctx, req).await {
            Err(OpsError::TargetChanged { .. }) if replans < REPLANS => {
                replans += 1;
                tracing::debug!(id = %req.id, replans, "target changed under the plan; planning again");
            }
            result => return result,
        }
    }
}

async fn sync_once(ctx: &Context, req: &SyncRequest<'_>) -> Result<SyncReport, OpsError> {
    if req.direction.needs_project() && req.project.is_none() {
        return Err(OpsError::ProjectRequired {
            direction: req.direction.as_str(),
        });
    }
    // A sync that writes holds its target's lock from before it reads anything until its
    // records are written: the three sides it plans from are then one consistent state (no
    // other writer's install without its baseline, or baseline without its install), and
    // writers of one artifact take turns. Dry runs only read.
    let held = if req.dry_run {
        None
    } else {
        let target = match req.direction {
            Direction::CollectionToProject => {
                Tier::Project(req.project.map(Path::to_owned).unwrap_or_default())
            }
            _ => Tier::Collection(req.collection.to_owned()),
        };
        Some(ops::lock_tier(ctx, &target, req.id)?)
    };
    if let Some(pending) = conflicts::blocking(
        &ctx.home,
        req.id,
        req.collection,
        req.direction,
        req.project,
    )? {
        return Err(OpsError::PendingMerge {
            id: req.id.clone(),
            path: pending.dir,
        });
    }
    let sides = timed(req.phase(Phase::Fetch)?, load_sides(ctx, req)).await?;
    let labels = labels(req.direction, &sides);
    let plan = timed(req.phase(Phase::Merge)?, async {
        plan(&sides, req.strategy, labels.as_labels())
    })
    .await?;
    let report = SyncReport {
        id: req.id.clone(),
        direction: req.direction,
        project: req.project.map(Path::to_owned),
        strategy: req.strategy,
        outcome: plan.outcome,
        base: sides.base_hash.map(|h| h.to_hex()),
        source: sides.source_hash.to_hex(),
        target: sides.target_hash.map(|h| h.to_hex()),
        result: plan.result.as_ref().map(|r| r.content_hash().to_hex()),
        files: plan.files.clone(),
        applied: false,
        pending: None,
        warnings: Vec::new(),
    };
    let Some(held) = held else {
        return Ok(report);
    };
    if plan.outcome == Outcome::UpToDate {
        // A sync killed after its install swapped the target in, but before the staging
        // folder went, is re-run up to date: clear that folder here, as no install will (the
        // lock held says no install of another writer is under way).
        apply::sweep_staging(&sides.target_path);
        // Killed after the install but before the baseline moved, the rerun finds the target
        // already equal to the source. The baseline must still move to it: left behind, the
        // next merge would use an older base and bring back what the upstream removed since.
        if sides.target_hash == Some(sides.source_hash) && sides.base_hash != sides.target_hash {
            let mut recorder = Recorder::open(&ctx.home).await;
            let c = Commit::of(req, &sides, sides.target.as_ref(), ChangeOrigin::Sync, None);
            commit(ctx, &mut recorder, &c, &held).await?;
            let mut report = report;
            report.base = Some(sides.source_hash.to_hex());
            report.warnings = recorder.finish().await;
            return Ok(report);
        }
    }
    if matches!(plan.outcome, Outcome::UpToDate | Outcome::Diverged) {
        return Ok(report);
    }

    timed(
        req.phase(Phase::Apply)?,
        apply_plan(ctx, req, &sides, plan, report, &held),
    )
    .await
}

/// The apply phase: the pending merge for a conflict, else the atomic write and its records.
async fn apply_plan(
    ctx: &Context,
    req: &SyncRequest<'_>,
    sides: &Sides,
    plan: Plan,
    mut report: SyncReport,
    held: &ArtifactLock,
) -> Result<SyncReport, OpsError> {
    let mut recorder = Recorder::open(&ctx.home).await;
    let target_version = record_sides(ctx, req, sides, &mut recorder).await;
    if plan.outcome == Outcome::Conflict {
        let merged = plan.result.unwrap_or_default();
        let pending =
            conflicts::create(ctx, &mut recorder, req, sides, &merged, &report.files).await?;
        report.pending = Some(pending);
        report.result = None;
        report.warnings = recorder.finish().await;
        return Ok(report);
    }
    let origin = match plan.outcome {
        Outcome::Merged => ChangeOrigin::Merge,
        _ => ChangeOrigin::Sync,
    };
    let c = Commit::of(req, sides, plan.result.as_ref(), origin, target_version);
    commit(ctx, &mut recorder, &c, held).await?;
    report.applied = true;
    report.warnings = recorder.finish().await;
    Ok(report)
}

/// Labels for conflict markers: which tier each side is.
struct MarkerLabels {
    ours: String,
    base: String,
    theirs: String,
}

impl MarkerLabels {
    fn as_labels(&self) -> Labels<'_> {
        Labels {
            ours: &self.ours,
            base: &self.base,
            theirs: &self.theirs,
        }
    }
}

fn labels(direction: Direction, sides: &Sides) -> MarkerLabels {
    let short = |h: Option<ContentHash>| h.map(|h| h.short()).unwrap_or_default();
    let (ours, theirs) = direction.tiers();
    MarkerLabels {
        ours: format!("{ours} {}", short(sides.target_hash)),
        base: format!("base {}", short(sides.base_hash)),
        theirs: format!("{theirs} {}", short(Some(sides.source_hash))),
    }
}

struct Plan {
    outcome: Outcome,
    /// What the target will hold; for a conflict, the merged files with markers.
    result: Option<ArtifactFiles>,
    files: Vec<FileOutcome>,
}

fn plan(sides: &Sides, strategy: Strategy, labels: Labels<'_>) -> Result<Plan, OpsError> {
    let whole = |target: &ArtifactFiles, result: &ArtifactFiles, action: FileAction| {
        let mut paths: Vec<&String> = target.files.keys().chain(result.files.keys()).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .map(|p| FileOutcome {
                path: p.clone(),
                action: if target.files.get(p) == result.files.get(p) {
                    FileAction::Unchanged
                } else {
                    action
                },
                conflict: None,
                renamed_from: None,
            })
            .collect()
    };
    let empty = ArtifactFiles::default();
    let Some(target) = &sides.target else {
        // Nothing there yet: the source's version is simply placed.
        return Ok(Plan {
            outcome: Outcome::FastForward,
            files: whole(&empty, &sides.source, FileAction::FastForward),
            result: Some(sides.source.clone()),
        });
    };
    if sides.target_hash == Some(sides.source_hash) {
        return Ok(Plan {
            outcome: Outcome::UpToDate,
            files: whole(target, target, FileAction::Unchanged),
            result: Some(target.clone()),
        });
    }
    match strategy {
        Strategy::Theirs | Strategy::Overwrite => {
            return Ok(Plan {
                outcome: Outcome::Overwritten,
                files: whole(target, &sides.source, FileAction::Overwrite),
                result: Some(sides.source.clone()),
            });
        }
        Strategy::Ours => {
            return Ok(Plan {
                outcome: Outcome::KeptTarget,
                files: whole(target, target, FileAction::Unchanged),
                result: Some(target.clone()),
            });
        }
        Strategy::Auto => {}
    }
    let Some(base) = &sides.base else {
        return Ok(Plan {
            outcome: Outcome::Diverged,
            files: whole(target, &sides.source, FileAction::Conflict),
            result: None,
        });
    };
    if sides.target_hash == sides.base_hash {
        return Ok(Plan {
            outcome: Outcome::FastForward,
            files: whole(target, &sides.source, FileAction::FastForward),
            result: Some(sides.source.clone()),
        });
    }
    if Some(sides.source_hash) == sides.base_hash {
        // Only the target moved: nothing to take in this direction.
        return Ok(Plan {
            outcome: Outcome::UpToDate,
            files: whole(target, target, FileAction::Unchanged),
            result: Some(target.clone()),
        });
    }
    let merged = merge::merge_trees(base, target, &sides.source, labels)?;
    let outcome = if merged.is_clean() {
        Outcome::Merged
    } else {
        Outcome::Conflict
    };
    Ok(Plan {
        outcome,
        files: merged.outcomes,
        result: Some(merged.files),
    })
}

/// The upstream's current version of an artifact (at its spec's ref), fetched and read.
pub async fn upstream_files(
    ctx: &Context,
    req: &SyncRequest<'_>,
) -> Result<ArtifactFiles, OpsError> {
    let req = SyncRequest {
        direction: Direction::UpstreamToCollection,
        project: None,
        on_phase: None,
        ..req.clone()
    };
    Ok(load_sides(ctx, &req).await?.source)
}

/// Reads the source, target and base of a sync. Writes nothing (an upstream is fetched into
/// the cache, which is not a tier).
pub(crate) async fn load_sides(ctx: &Context, req: &SyncRequest<'_>) -> Result<Sides, OpsError> {
    let collection_dir = ctx.home.collection_dir(req.collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let entry = manifest
        .get(req.id)
        .ok_or_else(|| OpsError::NotInCollection {
            id: req.id.clone(),
            collection: req.collection.to_owned(),
        })?;
    let in_collection = artifact_path(&collection_dir, req.id);
    let read = |path: &Path| -> Result<Option<ArtifactFiles>, OpsError> {
        if fs::symlink_metadata(path).is_err() {
            return Ok(None);
        }
        Ok(Some(ArtifactFiles::read(path)?))
    };
    let versions = Versions::open_read_only(&ctx.home).await?;
    let mut sides = match req.direction {
        Direction::UpstreamToCollection => {
            let spec_text = entry
                .upstream
                .as_deref()
                .ok_or_else(|| OpsError::NoUpstream { id: req.id.clone() })?;
            let lock = Lock::load(&collection_dir)?;
            let spec = UpstreamSpec::parse(spec_text)?;
            let repo = UpstreamCache::new(ctx.home.root().join("cache/upstream"))
                .fetch(&spec, &ctx.fetch)?;
            let commit = repo.resolve(&spec.reference)?;
            let info = repo.path_info(&commit, &spec.path)?;
            let scratch = tempfile::tempdir().map_err(|source| OpsError::Io {
                action: "cannot create a temp folder",
                path: std::env::temp_dir(),
                source,
            })?;
            let out = scratch.path().join(final_name(req.id));
            repo.export(&commit, &spec.path, &out, &ctx.fetch.limits)?;
            let source = ArtifactFiles::read(&out)?;
            let target = read(&in_collection)?;
            Sides {
                target_path: in_collection,
                target_tier: Tier::Collection(req.collection.to_owned()),
                source_hash: source.content_hash(),
                source,
                target_hash: target.as_ref().map(ArtifactFiles::content_hash),
                target,
                base_hash: lock
                    .get(req.id)
                    .filter(|l| l.hash_algorithm == HashAlgorithm::V1)
                    .and_then(|l| l.content_hash.parse().ok()),
                base: None,
                upstream: Some(UpstreamPoint {
                    commit,
                    tree: info.id,
                }),
            }
        }
        Direction::CollectionToProject | Direction::ProjectToCollection => {
            let project = req.project.ok_or(OpsError::ProjectRequired {
                direction: req.direction.as_str(),
            })?;
            let registered = ops::registered_projects(&ctx.home).await?;
            let canonical = project.canonicalize().map_err(|source| OpsError::Io {
                action: "cannot open the project",
                path: project.to_owned(),
                source,
            })?;
            if !registered.contains(&canonical) {
                return Err(OpsError::NotRegistered {
                    project: project.to_owned(),
                });
            }
            if req.direction == Direction::CollectionToProject {
                ops::check_project_links(&ctx.home, project).await?;
            }
            let records = DeploymentFile::load(project)?;
            let record = records.get(req.id).ok_or_else(|| OpsError::NotDeployed {
                id: req.id.clone(),
                project: project.to_owned(),
            })?;
            let in_project = artifact_path(&project.join(".claude"), req.id);
            let collection_copy = read(&in_collection)?;
            let project_copy = read(&in_project)?;
            let base_hash = ops::baseline_in_v1(record, &[&in_project, &in_collection])?;
            let (source, target, target_path, target_tier) =
                if req.direction == Direction::CollectionToProject {
                    (
                        collection_copy,
                        project_copy,
                        in_project,
                        Tier::Project(project.to_owned()),
                    )
                } else {
                    (
                        project_copy,
                        collection_copy,
                        in_collection,
                        Tier::Collection(req.collection.to_owned()),
                    )
                };
            let source = source.ok_or_else(|| OpsError::SourceMissing {
                id: req.id.clone(),
                direction: req.direction.as_str(),
            })?;
            Sides {
                target_path,
                target_tier,
                source_hash: source.content_hash(),
                source,
                target_hash: target.as_ref().map(ArtifactFiles::content_hash),
                target,
                base_hash,
                base: None,
                upstream: None,
            }
        }
    };
    // The base's content: from the version store, or from a side that still is the base.
    if let Some(base_hash) = sides.base_hash {
        sides.base = if base_hash == sides.source_hash {
            Some(sides.source.clone())
        } else if Some(base_hash) == sides.target_hash {
            sides.target.clone()
        } else {
            match &versions {
                Some(v) => match v.get(req.id, &base_hash.to_hex()).await? {
                    Some(found) => Some(v.store().read_tree(&found.tree_id)?),
                    None => None,
                },
                None => None,
            }
        };
    }
    if let Some(v) = versions {
        v.close().await;
    }
    Ok(sides)
}

fn final_name(id: &ArtifactId) -> String {
    artifact_path(Path::new(""), id)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Records the target as it is now (the pre-sync snapshot) and the source; returns the
/// target's store commit.
async fn record_sides(
    ctx: &Context,
    req: &SyncRequest<'_>,
    sides: &Sides,
    recorder: &mut Recorder,
) -> Option<String> {
    let base: Vec<String> = sides.base_hash.iter().map(|h| h.to_hex()).collect();
    let scratch = tempfile::tempdir().ok()?;
    let mut record = async |files: &ArtifactFiles, hash: ContentHash, origin, metadata| {
        let path = scratch.path().join(hash.to_hex()).join(final_name(req.id));
        let parent = path.parent()?.to_owned();
        fs::create_dir_all(&parent).ok()?;
        files.write_to(&path, req.id.kind.is_dir()).ok()?;
        let parents = if Some(hash) == sides.base_hash {
            Vec::new()
        } else {
            base.clone()
        };
        recorder
            .record(NewVersion {
                artifact: req.id,
                path: &path,
                origin,
                parents,
                metadata,
                now: ctx.now,
            })
            .await
    };
    let source_origin = match req.direction {
        Direction::ProjectToCollection => ChangeOrigin::LocalModification,
        Direction::UpstreamToCollection => ChangeOrigin::Sync,
        // The collection's copy: from its upstream unless edited since the last fetch.
        Direction::CollectionToProject => {
            let locked = ctx
                .home
                .collection_dir(req.collection)
                .ok()
                .and_then(|d| Lock::load(&d).ok())
                .and_then(|l| l.get(req.id).map(|e| e.content_hash.clone()));
            if locked.as_deref() == Some(sides.source_hash.to_hex().as_str()) {
                ChangeOrigin::Sync
            } else {
                ChangeOrigin::LocalModification
            }
        }
    };
    let source_meta = match &sides.upstream {
        Some(u) => serde_json::json!({ "source": "upstream", "commit": u.commit }),
        None => serde_json::json!({ "tier": source_tier_name(req.direction) }),
    };
    record(&sides.source, sides.source_hash, source_origin, source_meta).await;
    let (target, hash) = (sides.target.as_ref()?, sides.target_hash?);
    let version = record(
        target,
        hash,
        ChangeOrigin::LocalModification,
        serde_json::json!({ "tier": target_tier_name(req.direction), "snapshot": "pre-sync" }),
    )
    .await?;
    Some(version.commit_id.to_string())
}

fn source_tier_name(direction: Direction) -> &'static str {
    match direction {
        Direction::UpstreamToCollection => "upstream",
        Direction::CollectionToProject => "collection",
        Direction::ProjectToCollection => "project",
    }
}

fn target_tier_name(direction: Direction) -> &'static str {
    match direction {
        Direction::UpstreamToCollection | Direction::ProjectToCollection => "collection",
        Direction::CollectionToProject => "project",
    }
}

/// Everything needed to put a result in place and record it.
pub(crate) struct Commit<'a> {
    pub id: &'a ArtifactId,
    pub direction: Direction,
    pub collection: &'a str,
    pub project: Option<&'a Path>,
    pub sides: &'a Sides,
    /// What the target will hold; `None` or equal to the target means it is not rewritten.
    pub result: Option<&'a ArtifactFiles>,
    pub origin: ChangeOrigin,
    /// The store commit of the pre-sync target.
    pub snapshot: Option<String>,
}

impl<'a> Commit<'a> {
    /// The commit of what `req` planned on `sides`.
    fn of(
        req: &'a SyncRequest<'a>,
        sides: &'a Sides,
        result: Option<&'a ArtifactFiles>,
        origin: ChangeOrigin,
        snapshot: Option<String>,
    ) -> Self {
        Self {
            id: req.id,
            direction: req.direction,
            collection: req.collection,
            project: req.project,
            sides,
            result,
            origin,
            snapshot,
        }
    }
}

/// Under the target's lock (`_held`, taken by the caller before it read the sides): checks the
/// target is still what was planned against (an editor may have written it), installs the
/// result atomically, records it, and moves the baseline to the source's version.
pub(crate) async fn commit(
    ctx: &Context,
    recorder: &mut Recorder,
    c: &Commit<'_>,
    _held: &ArtifactLock,
) -> Result<ContentHash, OpsError> {
    let now_on_disk = if fs::symlink_metadata(&c.sides.target_path).is_ok() {
        Some(crate::model::hash::hash_path(&c.sides.target_path)?)
    } else {
        None
    };
    if now_on_disk != c.sides.target_hash {
        return Err(OpsError::TargetChanged {
            id: c.id.clone(),
            path: c.sides.target_path.clone(),
        });
    }
    let result_hash = match c.result {
        Some(result) if Some(result.content_hash()) != c.sides.target_hash => {
            apply::install(
                result,
                c.id.kind.is_dir(),
                &c.sides.target_path,
                &mut |_| Ok(()),
            )?;
            let hash = result.content_hash();
            if hash != c.sides.source_hash {
                let parents = [c.sides.target_hash, Some(c.sides.source_hash)]
                    .into_iter()
                    .flatten()
                    .map(|h| h.to_hex())
                    .collect();
                recorder
                    .record(NewVersion {
                        artifact: c.id,
                        path: &c.sides.target_path,
                        origin: c.origin,
                        parents,
                        metadata: serde_json::json!({ "direction": c.direction.as_str() }),
                        now: ctx.now,
                    })
                    .await;
            }
            hash
        }
        _ => c.sides.target_hash.unwrap_or(c.sides.source_hash),
    };
    let source_tag = match c.direction {
        Direction::CollectionToProject => {
            recorder.tag_of(c.id, &c.sides.source_hash.to_hex()).await
        }
        _ => None,
    };
    update_baseline(ctx, c, result_hash, source_tag)?;
    Ok(result_hash)
}

/// Records the source's version as the pair's new baseline. Into a project, the record also
/// takes what the collection's copy came from (the lock's ref, commit and fetch time) and the
/// deployed version's tag, as a deploy writes them.
fn update_baseline(
    ctx: &Context,
    c: &Commit<'_>,
    result: ContentHash,
    source_tag: Option<String>,
) -> Result<(), OpsError> {
    let source = c.sides.source_hash.to_hex();
    let stamp = rfc3339(ctx.now);
    match c.direction {
        Direction::UpstreamToCollection => {
            let dir = ctx.home.collection_dir(c.collection)?;
            let _guard =
                ops::shared_file_guard(ctx, &dir.join(crate::storage::collection::LOCK_FILE))?;
            let mut lock = Lock::load(&dir)?;
            let Some(upstream) = &c.sides.upstream else {
                return Ok(());
            };
            let Some(old) = lock.get(c.id).cloned() else {
                return Ok(());
            };
            lock.upsert(LockEntry {
                commit: upstream.commit.clone(),
                tree: upstream.tree.clone(),
                content_hash: source,
                hash_algorithm: HashAlgorithm::V1,
                fetched_at: stamp,
                ..old
            });
            lock.save(&dir)?;
        }
        Direction::CollectionToProject | Direction::ProjectToCollection => {
            let Some(project) = c.project else {
                return Ok(());
            };
            let _guard = ops::shared_file_guard(ctx, &DeploymentFile::path_in(project))?;
            let mut records = DeploymentFile::load(project)?;
            let Some(record) = records.deployed.iter_mut().find(|r| &r.id() == c.id) else {
                return Ok(());
            };
            let project_hash = if c.direction == Direction::CollectionToProject {
                result
            } else {
                c.sides.source_hash
            };
            if record.content_hash.as_deref() != Some(source.as_str()) {
                record.parent_hash = record.content_hash.take();
            }
            record.content_hash = Some(source.clone());
            record.hash_algorithm = HashAlgorithm::V1;
            record.merge_base_snapshot = Some(source.clone());
            if record.version_lineage.first() != Some(&source) {
                record.version_lineage.insert(0, source.clone());
            }
            record.local_modifications = project_hash != c.sides.source_hash;
            record.sync_status = if record.local_modifications {
                RecordedStatus::Modified
            } else {
                RecordedStatus::Synced
            };
            if record.local_modifications && record.modification_detected_at.is_none() {
                record.modification_detected_at = Some(stamp.clone());
            } else if !record.local_modifications {
                record.modification_detected_at = None;
            }
            record.pending_conflicts.clear();
            record.last_modified_check = Some(stamp.clone());
            if c.direction == Direction::CollectionToProject {
                record.deployed_at = Some(stamp);
                let lock = Lock::load(&ctx.home.collection_dir(c.collection)?)?;
                let locked = lock.get(c.id);
                record.upstream_ref = locked.map(|l| l.reference.clone());
                record.upstream_version = locked
                    .map(|l| l.reference.clone())
                    .filter(|r| r != "latest");
                record.upstream_sha = locked.map(|l| l.commit.clone());
                record.last_upstream_check = locked.map(|l| l.fetched_at.clone());
                record.version_tag = source_tag;
            }
            if let Some(snapshot) = &c.snapshot {
                record.snapshot_id = Some(snapshot.clone());
            }
            records.save(project)?;
        }
    }
    Ok(())
}
