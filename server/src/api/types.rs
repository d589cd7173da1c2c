//! What the API reads and writes. The OpenAPI document is generated from these types, so they
//! are the contract: change one, and the document changes with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use skillmeat_core::jobs::{FileChoice, Job, JobEvent, JobKind, JobState};
use skillmeat_core::sync::{Direction, Strategy};
use utoipa::{IntoParams, ToSchema};

/// A failed request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code, e.g. `unregistered_project`.
    pub error: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

/// Which way a sync goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DirectionName {
    UpstreamToCollection,
    CollectionToProject,
    ProjectToCollection,
}

impl From<DirectionName> for Direction {
    fn from(d: DirectionName) -> Self {
        match d {
            DirectionName::UpstreamToCollection => Direction::UpstreamToCollection,
            DirectionName::CollectionToProject => Direction::CollectionToProject,
            DirectionName::ProjectToCollection => Direction::ProjectToCollection,
        }
    }
}

impl From<Direction> for DirectionName {
    fn from(d: Direction) -> Self {
        match d {
            Direction::UpstreamToCollection => Self::UpstreamToCollection,
            Direction::CollectionToProject => Self::CollectionToProject,
            Direction::ProjectToCollection => Self::ProjectToCollection,
        }
    }
}

/// How differences are settled (`prompt` is CLI only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StrategyName {
    /// Fast-forward when one side moved, three-way merge when both did.
    #[default]
    Auto,
    /// Keep the target.
    Ours,
    /// Take the source.
    Theirs,
    /// Take the source for the whole artifact.
    Overwrite,
}

impl From<StrategyName> for Strategy {
    fn from(s: StrategyName) -> Self {
        match s {
            StrategyName::Auto => Strategy::Auto,
            StrategyName::Ours => Strategy::Ours,
            StrategyName::Theirs => Strategy::Theirs,
            StrategyName::Overwrite => Strategy::Overwrite,
        }
    }
}

impl From<Strategy> for StrategyName {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Auto => Self::Auto,
            Strategy::Ours => Self::Ours,
            Strategy::Theirs => Self::Theirs,
            Strategy::Overwrite => Self::Overwrite,
        }
    }
}

/// A sync job to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    pub direction: DirectionName,
    /// Artifact ids (`<type>:<name>`); every applicable artifact when left out.
    #[serde(default)]
    pub artifacts: Option<Vec<String>>,
    /// A registered project (absolute path); required for the project directions.
    #[serde(default)]
    pub project_path: Option<String>,
    /// The collection (`default` when left out).
    #[serde(default)]
    pub collection: Option<String>,
    #[serde(default)]
    pub strategy: Option<StrategyName>,
    /// Plan only, write nothing. Defaults to true: applying must be asked for.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    Queued,
    Running,
    Success,
    Conflict,
    Error,
    Cancelled,
}

impl From<JobState> for StateName {
    fn from(s: JobState) -> Self {
        match s {
            JobState::Queued => Self::Queued,
            JobState::Running => Self::Running,
            JobState::Success => Self::Success,
            JobState::Conflict => Self::Conflict,
            JobState::Error => Self::Error,
            JobState::Cancelled => Self::Cancelled,
        }
    }
}

impl From<StateName> for JobState {
    fn from(s: StateName) -> Self {
        match s {
            StateName::Queued => Self::Queued,
            StateName::Running => Self::Running,
            StateName::Success => Self::Success,
            StateName::Conflict => Self::Conflict,
            StateName::Error => Self::Error,
            StateName::Cancelled => Self::Cancelled,
        }
    }
}

/// A side of a conflicted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Ours,
    Theirs,
}

impl From<Side> for FileChoice {
    fn from(s: Side) -> Self {
        match s {
            Side::Ours => FileChoice::Ours,
            Side::Theirs => FileChoice::Theirs,
        }
    }
}

/// A sync or resolve job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    /// `sync` or `resolve`.
    pub kind: String,
    pub state: StateName,
    pub direction: DirectionName,
    pub artifacts: Vec<String>,
    pub project_path: Option<String>,
    pub collection: String,
    pub strategy: StrategyName,
    pub dry_run: bool,
    /// Progress, 0–100.
    pub pct: u8,
    pub created_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// The W3C trace id (32 hex) of the request that created it.
    pub trace_id: String,
    /// The last lines of its log.
    pub log_excerpt: String,
    /// Artifacts left with a pending merge.
    pub conflicts: Vec<String>,
    /// One report per artifact once it ran (a sync plan and what was done, or a resolve result).
    pub result: Option<serde_json::Value>,
    /// How many times it was started (more than one after a restart or retry).
    pub attempts: u32,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            kind: match j.kind {
                JobKind::Sync => "sync",
                JobKind::Resolve => "resolve",
            }
            .to_owned(),
            state: j.state.into(),
            direction: j.direction.into(),
            artifacts: j.artifact_ids.iter().map(ToString::to_string).collect(),
            project_path: j.project_path.map(|p| p.display().to_string()),
            collection: j.collection,
            strategy: j.strategy.into(),
            dry_run: j.dry_run,
            pct: j.pct,
            created_at: j.created_at,
            started_at: j.started_at,
            ended_at: j.ended_at,
            trace_id: j.trace_id,
            log_excerpt: j.log_excerpt,
            conflicts: j.conflicts.iter().map(ToString::to_string).collect(),
            result: j.result,
            attempts: j.attempts,
        }
    }
}

/// Jobs, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

/// Which jobs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only jobs in this state.
    pub state: Option<StateName>,
    /// Only jobs touching this artifact (`<type>:<name>`).
    pub artifact: Option<String>,
    /// At most this many (1–500, default 100).
    pub limit: Option<u32>,
}

/// What cancelling did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Cancelled {
    pub id: i64,
    /// `cancelled` (it was queued), `requested` (it stops before its next phase) or
    /// `already-ended`.
    pub outcome: String,
    pub job: JobView,
}

/// One step of a job's life, as sent over SSE (`event: job`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Increasing over all events; the SSE id.
    pub id: i64,
    pub job_id: i64,
    pub at: String,
    pub state: StateName,
    pub pct: u8,
    pub message: String,
}

impl From<JobEvent> for EventView {
    fn from(e: JobEvent) -> Self {
        Self {
            id: e.id,
            job_id: e.job_id,
            at: e.at,
            state: e.state.into(),
            pct: e.pct,
            message: e.message,
        }
    }
}

/// A pending merge to settle, as a job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The artifact (`<type>:<name>`).
    pub artifact: String,
    /// The project whose copy has the pending merge; the collection's when left out.
    #[serde(default)]
    pub project_path: Option<String>,
    #[serde(default)]
    pub collection: Option<String>,
    /// Per conflicted file (its path inside the artifact): which side to keep.
    #[serde(default)]
    pub files: BTreeMap<String, Side>,
    /// The side to keep for every file not named in `files`.
    #[serde(default)]
    pub strategy: Option<Side>,
    /// Apply the merge once nothing is undecided (default true).
    #[serde(default)]
    pub apply: Option<bool>,
}

/// A patch bundle to export from a project's edits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    pub artifact: String,
    /// The registered project holding the edits.
    pub project_path: String,
    #[serde(default)]
    pub collection: Option<String>,
}

/// An exported patch bundle.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PatchCreated {
    /// Where to download the tar.gz (needs the token, like every API route).
    pub url: String,
    pub sha256: String,
    pub size: u64,
    /// A GitHub compare page for the upstream, when it is on GitHub.
    pub github_url: Option<String>,
    /// Files patched, and files included whole (binary).
    pub patched: Vec<String>,
    pub whole_files: Vec<String>,
}

/// A version to restore.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// A version: a hash prefix (4+ hex) or a tag.
    pub to: String,
    /// Roll back the project's copy; the collection's when left out.
    #[serde(default)]
    pub project_path: Option<String>,
    #[serde(default)]
    pub collection: Option<String>,
}

/// What a rollback did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RolledBackView {
    pub id: String,
    pub project_path: Option<String>,
    pub from: Option<String>,
    pub to: String,
    /// False when the tier already held that version.
    pub changed: bool,
    pub warnings: Vec<String>,
}

/// Which collection (and project) a read is about.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Scope {
    /// The collection (`default` when left out).
    pub collection: Option<String>,
    /// A registered project (absolute path).
    pub project_path: Option<String>,
}

/// One artifact of a collection.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArtifactView {
    pub id: String,
    /// `skill`, `command` or `agent`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The upstream spec as written (pin included), for artifacts that have one.
    pub upstream: Option<String>,
    /// The ref the upstream spec asks for (`latest`, a tag, a branch, a sha).
    pub reference: Option<String>,
    pub added_at: Option<String>,
    /// What the collection holds (64 hex), if its copy exists.
    pub content_hash: Option<String>,
}

/// A collection's artifacts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArtifactList {
    pub collection: String,
    pub artifacts: Vec<ArtifactView>,
}

/// One tier's version of an artifact.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionCard {
    /// `upstream`, `collection` or `project`.
    pub tier: String,
    /// Content hash (64 hex); none when the tier has no copy.
    pub hash: Option<String>,
    /// When this version was fetched, recorded or deployed (RFC 3339).
    pub timestamp: Option<String>,
    /// Where it came from: the upstream location, the collection, the project path.
    pub source: Option<String>,
    /// The ref or pin (upstream), or the commit it resolved to.
    pub reference: Option<String>,
    pub commit: Option<String>,
    /// Recent hashes along its lineage, newest first (short).
    pub lineage: Vec<String>,
    /// A tag the user gave this version.
    pub tag: Option<String>,
    /// Against the tier it syncs from, DESIGN §4 (`in-sync`, `modified`, `outdated`, …).
    pub status: Option<String>,
}

/// The three tiers' versions of an artifact.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionCards {
    pub id: String,
    pub upstream: Option<VersionCard>,
    pub collection: Option<VersionCard>,
    pub project: Option<VersionCard>,
}

/// One recorded version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub hash: String,
    pub origin: String,
    pub created_at: String,
    pub tag: Option<String>,
    pub parents: Vec<String>,
    /// Whether the collection holds it now.
    pub current: bool,
}

/// A version instated again (a rollback).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEvent {
    pub hash: String,
    pub origin: String,
    /// `collection` or the project's path.
    pub tier: String,
    pub created_at: String,
}

/// An artifact's recorded versions, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryView {
    pub id: String,
    pub current: Option<String>,
    pub versions: Vec<HistoryEntry>,
    pub events: Vec<HistoryEvent>,
}

/// The two sides of a diff.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// `upstream`, `collection`, `project`, or a recorded version (hash prefix or tag).
    pub lhs: String,
    /// Same choices as `lhs`.
    pub rhs: String,
    pub collection: Option<String>,
    /// Needed when a side is `project`.
    pub project_path: Option<String>,
}

/// One file of a diff.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FileDiffView {
    pub path: String,
    /// `added`, `deleted`, `modified` or `mode`.
    pub status: String,
    pub added: u64,
    pub removed: u64,
    pub binary: bool,
    /// Over the inline limit (1 MB): summarised, with download links instead.
    pub too_large: bool,
    pub old_size: u64,
    pub new_size: u64,
    /// Unified diff text (`@@` hunks), for text files within the limit.
    pub unified: Option<String>,
    /// Where to download each side's file, when it is not shown inline.
    pub lhs_url: Option<String>,
    pub rhs_url: Option<String>,
}

/// A diff between two sides of an artifact.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DiffView {
    pub id: String,
    pub lhs: String,
    pub rhs: String,
    pub files: Vec<FileDiffView>,
    pub added: u64,
    pub removed: u64,
    /// Inline text stopped at the response limit; later files carry links only.
    pub truncated: bool,
}

/// One file of one side, to download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `upstream`, `collection`, `project`, or a recorded version.
    pub side: String,
    /// The file's path inside the artifact.
    pub path: String,
    pub collection: Option<String>,
    pub project_path: Option<String>,
}

/// Which drift to compute.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriftQuery {
    pub collection: Option<String>,
    /// One registered project; every registered project when left out.
    pub project_path: Option<String>,
    /// Also compare each upstream with the collection (asks the remotes).
    pub check_upstream: Option<bool>,
}

/// One drift row.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DriftRowView {
    pub id: String,
    /// `upstream-collection` or `collection-project`.
    pub pair: String,
    pub project_path: Option<String>,
    pub status: String,
    pub recommendation: Option<String>,
    pub base: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
}

/// Drift across tiers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DriftView {
    pub collection: String,
    pub rows: Vec<DriftRowView>,
}

/// The server's health.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Jobs waiting to run.
    pub queue_depth: u64,
}
