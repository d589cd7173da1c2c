//! Plain data exchanged between the server and the browser: the web UI's server functions and
//! the REST API (`/api/v1`) use the same types, so a page and a script see the same shapes.
//! Shared by SSR and wasm builds, so nothing here depends on `skillmeat-core` (the conversions
//! from core's types are in `convert`, built with `ssr` only). With `ssr`, each REST type also
//! derives its OpenAPI schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod convert;
mod wire;

/// What the server says about itself, shown in the footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The SkillMeat version the server runs.
    pub version: String,
    /// The `$SKILLMEAT_HOME` the server uses.
    pub home: String,
    /// Seconds since the server started.
    pub uptime_secs: u64,
}

// ---- The REST API's request and response bodies ----

/// A failed request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable code, e.g. `unregistered_project`.
    pub error: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

/// Which way a sync goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum DirectionName {
    UpstreamToCollection,
    CollectionToProject,
    ProjectToCollection,
}

impl DirectionName {
    /// The wire name (`upstream-to-collection`, …), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpstreamToCollection => "upstream-to-collection",
            Self::CollectionToProject => "collection-to-project",
            Self::ProjectToCollection => "project-to-collection",
        }
    }
}

/// How differences are settled (`prompt` is CLI only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Keep both: the target keeps its version, the source's becomes `<name>-fork`.
    Fork,
}

/// A sync job to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// For an apply: the finished dry-run job of the same request whose plan to apply. Each
    /// artifact is written only while its sides and outcome are still that plan's (else
    /// `plan_changed`, nothing written). Required while `sync.preview_required` is on (the
    /// default).
    #[serde(default)]
    pub plan_job: Option<i64>,
}

/// An update to queue ("Update everywhere", `POST /api/v1/update/jobs`): each artifact from its
/// upstream into the collection, then into every chosen project where it is deployed, as one job
/// whose result has a row per artifact with a step per project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateJob {
    /// Artifact ids (`<type>:<name>`); every artifact of the collection when left out.
    #[serde(default)]
    pub artifacts: Option<Vec<String>>,
    /// Registered projects (absolute paths) to bring the updates into. Left out: every
    /// registered project something is deployed in (the user scope included). An empty list:
    /// the collection only.
    #[serde(default)]
    pub projects: Option<Vec<String>>,
    /// The collection (`default` when left out).
    #[serde(default)]
    pub collection: Option<String>,
    #[serde(default)]
    pub strategy: Option<StrategyName>,
    /// Plan only, write nothing. Defaults to true: applying must be asked for.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// For an apply: the finished dry-run job of the same request whose plan to apply. Only the
    /// steps it planned run, each only while its sides and outcome are still that plan's (else
    /// that step fails with `plan_changed`, nothing written). Required while
    /// `sync.preview_required` is on (the default).
    #[serde(default)]
    pub plan_job: Option<i64>,
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    Queued,
    Running,
    Success,
    Conflict,
    Error,
    Cancelled,
}

impl StateName {
    /// Every state, in order.
    pub const ALL: [Self; 6] = [
        Self::Queued,
        Self::Running,
        Self::Success,
        Self::Conflict,
        Self::Error,
        Self::Cancelled,
    ];

    /// The wire name (`queued`, …), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Conflict => "conflict",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state of a wire name, for JSON read without serde (the browser's SSE events).
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A side of a conflicted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Ours,
    Theirs,
}

/// What to keep of one conflicting hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HunkSide {
    Ours,
    Theirs,
    /// Ours, then theirs.
    Both,
}

/// A merge waiting for the user: its conflicted files with every version of each.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConflictView {
    pub artifact: String,
    pub collection: String,
    /// The sync that conflicted.
    pub direction: String,
    /// The project, for the project directions.
    pub project_path: Option<String>,
    /// The tier being written ("ours") and the one its changes come from ("theirs").
    pub ours_tier: String,
    pub theirs_tier: String,
    pub detected_at: String,
    /// Changes whenever the merge does (a newer sync replaced it, a file was resolved): pass
    /// it back as `POST /sync/resolve`'s `revision` so choices made on this read are never
    /// applied to another.
    pub revision: String,
    pub files: Vec<ConflictFileView>,
    /// Conflicted files still undecided; the merge can be applied when this is empty.
    pub unresolved: Vec<String>,
}

/// One conflicted file. The texts are left out (null) for a side that lacks the file, and for
/// binary or over-large files, which can only be resolved whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConflictFileView {
    pub path: String,
    /// `content`, `add-add`, `deleted-by-ours`, `deleted-by-theirs`, `binary`, or `key` for one
    /// JSON key of a hook or MCP server (the path is then `<entry> › <key path>`).
    pub kind: String,
    /// Decided already (markers gone or a side chosen).
    pub resolved: bool,
    /// Binary or too large to show: choose a side.
    pub whole_only: bool,
    pub base: Option<String>,
    pub ours: Option<String>,
    pub theirs: Option<String>,
    /// The merged text, with conflict markers where the sides clash.
    pub merged: Option<String>,
    /// The merged text split into clean stretches and conflicts: one choice per conflict.
    #[serde(with = "wire::hunks")]
    pub hunks: Vec<HunkView>,
    /// Every conflict of this file was resolved before, byte for byte, there (a project's path,
    /// or `collection`): `reuse` takes that resolution.
    #[serde(default)]
    pub reusable_from: Option<String>,
}

/// A stretch of a conflicted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum HunkView {
    /// Text both sides agree on.
    Clean { text: String },
    /// Lines each side wrote here (with the base's, when known).
    Conflict {
        ours: String,
        base: Option<String>,
        theirs: String,
    },
}

/// A pending merge of an artifact, in short.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PendingView {
    pub direction: String,
    pub project_path: Option<String>,
    pub files: Vec<String>,
    pub unresolved: Vec<String>,
}

/// A pending merge still open, with its age: listed until it is resolved or aborted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OpenMergeView {
    /// `<type>:<name>`.
    pub artifact: String,
    pub collection: String,
    pub direction: String,
    pub project_path: Option<String>,
    /// When the conflict was found (RFC 3339).
    pub detected_at: String,
    pub age_seconds: u64,
    /// Older than the `conflicts.stale_after` setting (7 days by default): abandoned?
    pub stale: bool,
    /// The conflicted files.
    pub files: Vec<String>,
    /// Those not settled yet.
    pub unresolved: Vec<String>,
}

/// Every open pending merge, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OpenMergesView {
    pub merges: Vec<OpenMergeView>,
    /// The `conflicts.stale_after` setting, in seconds.
    pub stale_after_seconds: u64,
    /// How many merges are stale.
    pub stale: u64,
    pub oldest_age_seconds: Option<u64>,
}

/// An artifact whose applying syncs failed in a row: the kill-switch's count. At
/// `sync.lock_after_failures` it is locked and refuses applying syncs until unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FailingSyncView {
    pub artifact: String,
    pub collection: String,
    /// Failed applying syncs in a row.
    pub failures: u32,
    /// The last failure's message.
    pub last_error: String,
    /// When it failed (RFC 3339).
    pub last_at: String,
    /// When the artifact was locked (RFC 3339); absent while it is not.
    pub locked_at: Option<String>,
}

/// Every artifact with failed syncs in a row, locked ones first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FailingSyncsView {
    pub artifacts: Vec<FailingSyncView>,
    /// The `sync.lock_after_failures` setting (0: never locks).
    pub lock_after_failures: u32,
}

/// What unlocking an artifact ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnlockedView {
    pub artifact: String,
    /// Whether it was locked (false: nothing was refused yet, or there was nothing at all).
    pub was_locked: bool,
    /// The run of failures forgotten, if there was one.
    pub run: Option<FailingSyncView>,
}

/// A pending merge that was aborted: the target was never touched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AbortedView {
    pub artifact: String,
    /// Always `aborted`.
    pub resolution: String,
    pub warnings: Vec<String>,
}

/// A sync or resolve job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: i64,
    /// `sync`, `resolve` or `update`.
    pub kind: String,
    pub state: StateName,
    pub direction: DirectionName,
    pub artifacts: Vec<String>,
    pub project_path: Option<String>,
    /// An update job's projects, in order (empty for the other kinds).
    #[serde(default)]
    pub projects: Vec<String>,
    pub collection: String,
    pub strategy: StrategyName,
    pub dry_run: bool,
    /// The dry-run job whose plan this job applies, if it names one.
    #[serde(default)]
    pub plan_job: Option<i64>,
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
    #[serde(default, with = "wire::json")]
    pub result: Option<serde_json::Value>,
    /// How many times it was started (more than one after a restart or retry).
    pub attempts: u32,
}

/// Jobs, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

/// What cancelling did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Cancelled {
    pub id: i64,
    /// `cancelled` (it was queued), `requested` (it stops before its next phase) or
    /// `already-ended`.
    pub outcome: String,
    pub job: JobView,
}

/// One step of a job's life, as sent over SSE (`event: job`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventView {
    /// Increasing over all events; the SSE id.
    pub id: i64,
    pub job_id: i64,
    pub at: String,
    pub state: StateName,
    pub pct: u8,
    pub message: String,
}

/// A pending merge to settle, as a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Per conflicted text file not named in `files`: ours, theirs or both for each of its
    /// conflicting hunks, in order (see `GET /artifacts/{id}/conflicts`). The settled text is
    /// written as the file's resolution.
    #[serde(default)]
    pub hunks: BTreeMap<String, Vec<HunkSide>>,
    /// The side to keep for every file not named in `files` or `hunks`.
    #[serde(default)]
    pub strategy: Option<Side>,
    /// Apply the merge once nothing is undecided (default true).
    #[serde(default)]
    pub apply: Option<bool>,
    /// The `revision` of the pending merge these choices were made on (from
    /// `GET /artifacts/{id}/conflicts`). When given and the merge has changed since, nothing
    /// is queued (409 `merge_changed`), and a job queued before the change fails without
    /// writing.
    #[serde(default)]
    pub revision: Option<String>,
    /// Keep both instead of choosing: the target keeps its version and the source's becomes a
    /// new artifact `<name>-fork` beside it (deployed beside the original when the merge is
    /// into a project). Excludes `files`, `hunks` and `strategy`; the result's `fork` names it.
    #[serde(default)]
    pub fork: bool,
    /// First take the resolutions recorded for byte-identical conflicts elsewhere (in another
    /// project, say): each undecided file whose conflicts all have one (its `reusable_from` in
    /// `GET /artifacts/{id}/conflicts`). Excludes `fork`.
    #[serde(default)]
    pub reuse: bool,
}

/// A patch bundle to export from a project's edits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    pub artifact: String,
    /// The registered project holding the edits.
    pub project_path: String,
    #[serde(default)]
    pub collection: Option<String>,
}

/// An exported patch bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RolledBackView {
    pub id: String,
    pub project_path: Option<String>,
    pub from: Option<String>,
    pub to: String,
    /// False when the tier already held that version.
    pub changed: bool,
    pub warnings: Vec<String>,
}

/// A copy taken out of a project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UndeployedView {
    pub id: String,
    pub project_path: String,
    /// The version the copy held (64 hex), when there was one.
    pub content_hash: Option<String>,
    /// Whether it had edits of its own, recorded in the version store before it went.
    pub local_edits: bool,
}

/// What taking copies out of a project did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UndeployView {
    pub undeployed: Vec<UndeployedView>,
    pub warnings: Vec<String>,
}

/// What taking an artifact out of its collection did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RemovedView {
    pub id: String,
    pub collection: String,
    /// The version the collection held (64 hex; still in the history).
    pub content_hash: Option<String>,
    /// The project copies taken out first.
    pub undeployed: Vec<UndeployedView>,
    pub warnings: Vec<String>,
}

/// One artifact of a collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// The Claude Code plugin it came with (`name@marketplace`), if added from a marketplace.
    pub plugin: Option<String>,
}

/// A collection's artifacts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactList {
    pub collection: String,
    pub artifacts: Vec<ArtifactView>,
}

/// One tier's version of an artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Against the tier it syncs from, DESIGN §4 (`in-sync`, `modified`, `outdated`, …); the
    /// collection's is against the upstream as it is now when the upstream card is `live`.
    pub status: Option<String>,
    /// Upstream card: the upstream was asked now, as the diff is (false: upstream checks are
    /// off, or it did not answer, and the card shows the lock or its last known state).
    pub live: bool,
    /// Upstream card: it did not answer (a rate limit, the network down); the card shows the
    /// state last seen.
    pub stale: Option<StaleUpstreamView>,
}

/// The three tiers' versions of an artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VersionCards {
    pub id: String,
    pub upstream: Option<VersionCard>,
    pub collection: Option<VersionCard>,
    pub project: Option<VersionCard>,
}

/// What a change means in semver terms: `major` (files removed, a skill's or agent's `name` or
/// required frontmatter changed, a frontmatter key removed), `minor` (files or frontmatter keys
/// added, an optional frontmatter value changed), `patch` (content edits only) or `none`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BumpView {
    pub bump: String,
    /// The bump and its weightiest reasons in one line.
    pub summary: String,
    /// Every reason, weightiest first.
    pub reasons: Vec<BumpReason>,
}

/// One reason for a bump suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BumpReason {
    /// The bump this reason alone calls for.
    pub bump: String,
    pub text: String,
}

/// Tag a version (`POST /artifacts/{id}/tags`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    /// The tag: letters, digits, `.`, `_`, `-`; at most 64 characters (e.g. `v1.3.0`).
    pub tag: String,
    /// The version (a hash prefix or another tag); the collection's current one when left out.
    #[serde(default)]
    pub version: Option<String>,
    /// Whether the version is a breaking change.
    #[serde(default)]
    pub breaking: bool,
    /// Move the tag if it names another version.
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub collection: Option<String>,
}

/// A tagged version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TaggedView {
    pub id: String,
    pub hash: String,
    pub tag: String,
    pub breaking: bool,
}

/// The next semver tag proposed for a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NextTagView {
    pub id: String,
    /// The version it would name (the collection's current one unless asked otherwise).
    pub version: String,
    /// The highest semver tag so far, and the version it names.
    pub last_tag: Option<String>,
    pub last_version: Option<String>,
    /// The tag proposed, in the last tag's style (`v1.3.0`).
    pub proposed: String,
    /// What changed since the last semver tag.
    pub bump: BumpView,
    /// Whether the change is major: the tag should mark a breaking change.
    pub breaking: bool,
}

/// One step of a changelog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangelogStepView {
    pub version: String,
    /// The version it is compared with: the previous step, or the changelog's `from`.
    pub parent: Option<String>,
    pub created_at: String,
    pub origin: String,
    pub tag: Option<String>,
    pub breaking: bool,
    pub files: Vec<ChangedFileView>,
    pub bump: BumpView,
}

/// A file changed in one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangedFileView {
    pub path: String,
    /// `added`, `deleted`, `modified` or `mode`.
    pub status: String,
    pub added: u64,
    pub removed: u64,
}

/// The releases between two versions (each tagged version after `from` up to `to`, and `to`),
/// newest first, each compared with the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangelogView {
    pub id: String,
    pub from: String,
    pub to: String,
    pub steps: Vec<ChangelogStepView>,
    /// False when `from` was recorded after `to` (then there are no steps).
    pub in_order: bool,
    /// What the whole change from `from` to `to` means.
    pub bump: BumpView,
}

/// One recorded version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub hash: String,
    pub origin: String,
    pub created_at: String,
    pub tag: Option<String>,
    /// Whether its tag marks a breaking change.
    pub breaking: bool,
    /// What the change from its first parent means, when that parent is recorded.
    pub bump: Option<BumpView>,
    pub parents: Vec<String>,
    /// Whether the collection holds it now.
    pub current: bool,
}

/// A version instated again (a rollback).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryEvent {
    pub hash: String,
    pub origin: String,
    /// `collection` or the project's path.
    pub tier: String,
    pub created_at: String,
}

/// An artifact's recorded versions, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryView {
    pub id: String,
    pub current: Option<String>,
    pub versions: Vec<HistoryEntry>,
    pub events: Vec<HistoryEvent>,
}

/// A deployed copy's modification timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineView {
    pub id: String,
    /// The project (absolute path).
    pub project_path: String,
    /// When its baseline was deployed or synced in (RFC 3339).
    pub deployed_at: Option<String>,
    /// When a local edit was first seen (by a sync or the server's scheduled check); cleared
    /// when the copy is back to its baseline.
    pub modified_since: Option<String>,
    /// When the copy was last compared with its baseline.
    pub last_checked: Option<String>,
    /// Whether the copy differs from its baseline now.
    pub modified_now: bool,
    /// The baseline and the version before it (64 hex).
    pub baseline: Option<String>,
    pub parent: Option<String>,
    /// How many versions of the artifact are recorded.
    pub versions: u64,
}

/// One event of the audit trail: a deploy, sync, conflict, resolution, abort, rollback or tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogEvent {
    /// Its id; ids grow with time (page with `before`).
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// `deploy`, `sync`, `conflict`, `resolve`, `abort`, `rollback` or `tag`.
    pub kind: String,
    /// `<type>:<name>`.
    pub artifact: String,
    pub collection: String,
    /// The project (absolute path); absent for the collection tier.
    pub project: Option<String>,
    /// A sync's or merge's direction (`collection-to-project`, …).
    pub direction: Option<String>,
    pub strategy: Option<String>,
    /// The pair's drift status before the change.
    pub status: Option<String>,
    /// What a sync did (`fast-forward`, `merged`, `kept-target`, …).
    pub outcome: Option<String>,
    /// Versions (64 hex): the merge base, the source ("theirs"), the target before ("ours"),
    /// and the result.
    pub base: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub result: Option<String>,
    /// Files merged from changes on both sides.
    pub merged: Vec<String>,
    /// Files that conflicted.
    pub conflicted: Vec<String>,
    /// How each conflicted file was settled: `ours`, `theirs`, `custom` or `hunks`.
    pub resolutions: BTreeMap<String, String>,
    /// A tag event's tag.
    pub tag: Option<String>,
    /// The conflict record of a conflict, resolve or abort.
    pub conflict_record: Option<i64>,
    /// The event in one line, as `skillmeat log` prints it.
    pub summary: String,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogPageView {
    pub events: Vec<LogEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// How often an artifact's merges conflicted, on which files, and how each was settled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConflictHistoryView {
    /// Conflicted merges found.
    pub conflicts: u32,
    pub resolved: u32,
    pub aborted: u32,
    /// Per file, most often conflicted first.
    pub files: Vec<FileConflictsView>,
}

/// One file's conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileConflictsView {
    pub path: String,
    /// How many conflicted merges it was part of.
    pub times: u32,
    /// How its resolved merges settled it (`ours`, `theirs`, `custom`, `hunks`) → count.
    pub settled: BTreeMap<String, u32>,
}

/// An artifact's audit trail: a page of its events and its whole conflict history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactLogView {
    pub id: String,
    pub events: Vec<LogEvent>,
    pub next_before: Option<i64>,
    pub conflicts: ConflictHistoryView,
}

/// One file of a diff.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffView {
    pub id: String,
    pub lhs: String,
    pub rhs: String,
    pub files: Vec<FileDiffView>,
    pub added: u64,
    pub removed: u64,
    /// Inline text stopped at the response limit; later files carry links only.
    pub truncated: bool,
    /// What the change from `lhs` to `rhs` means in semver terms.
    pub bump: BumpView,
}

/// One drift row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// For an upstream row: the upstream did not answer (a rate limit, the network down), and
    /// the row compares with the state last seen.
    pub stale: Option<StaleUpstreamView>,
}

/// An upstream row drawn from the last known state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StaleUpstreamView {
    /// When that state was seen (RFC 3339): the last check that reached it, or the last sync.
    pub seen_at: String,
    pub age_seconds: u64,
    /// Why the upstream could not be asked now.
    pub reason: String,
}

/// Drift across tiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftView {
    pub collection: String,
    pub rows: Vec<DriftRowView>,
    /// What could not be checked; every other row is still right.
    pub problems: Vec<DriftProblemView>,
    /// `check_upstream` was asked but the `upstream.checks` setting is off: no upstream was
    /// asked, and upstream rows compare with the lock.
    pub upstream_checks_off: bool,
    /// The collection's pending merges still open, oldest first.
    pub pending_merges: Vec<OpenMergeView>,
}

/// Something a drift check could not check (an unreadable records file, a symlink or FIFO in a
/// copy, an unreachable upstream), and what to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftProblemView {
    /// The artifact, when the problem is one artifact's.
    pub id: Option<String>,
    /// The pair it stopped, when it is one artifact's.
    pub pair: Option<String>,
    pub project_path: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

/// The server's health.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Jobs waiting to run.
    pub queue_depth: u64,
}

// ---- The web UI's pages ----

/// One project's status for an artifact (collection↔project).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectStatus {
    /// The project's path.
    pub project: String,
    /// Its folder name, for display.
    pub name: String,
    /// DESIGN §4 status.
    pub status: String,
}

/// One artifact on the artifacts page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// The ref or pin its upstream spec asks for.
    pub reference: Option<String>,
    /// The Claude Code plugin it came with (`name@marketplace`).
    pub plugin: Option<String>,
    /// Upstream↔collection status, when the upstreams were checked.
    pub upstream_status: Option<String>,
    /// The upstream did not answer (a rate limit, the network down): the status is its last
    /// known state, this old.
    pub upstream_stale: Option<StaleUpstreamView>,
    /// Collection↔project status per project it is deployed in.
    pub projects: Vec<ProjectStatus>,
    /// What `check` finds in the collection's copy.
    pub findings: Vec<FindingView>,
}

/// The artifacts page: every artifact with its statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub collection: String,
    pub rows: Vec<OverviewRow>,
    /// Whether the upstreams were asked.
    pub upstream_checked: bool,
    /// Why the upstream check failed, if it did (the rest is still shown).
    pub upstream_error: Option<String>,
    /// What could not be checked, each with what to do (the cells it stopped say `error`).
    pub problems: Vec<String>,
    /// The pending merges still open, oldest first, stale ones flagged.
    pub pending_merges: Vec<OpenMergeView>,
}

/// The artifact page's data: version cards, where it is deployed, and its history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactDetail {
    pub cards: VersionCards,
    /// The projects it is deployed in (paths).
    pub deployed_in: Vec<String>,
    /// The project the cards and diffs are about.
    pub project: Option<String>,
    pub history: HistoryView,
    /// Its audit trail (the latest events) and conflict history.
    pub log: ArtifactLogView,
    /// The next semver tag proposed for the collection's version; absent when there is no
    /// version to tag.
    pub next_tag: Option<NextTagView>,
    /// The changelog between the two versions compared (`?from=&to=`), when asked.
    pub changelog: Option<ChangelogView>,
    /// The modification timeline of the copy in `project`, when there is one.
    pub timeline: Option<TimelineView>,
    /// Merges of it waiting for the user, anywhere.
    pub pending: Vec<PendingView>,
    /// Its run of failed syncs, when it has one (locked or not yet), with the threshold.
    pub failing: Option<(FailingSyncView, u32)>,
    /// What `check` finds in the collection's copy (and in `project`'s, as a scope).
    pub findings: Vec<FindingView>,
}

/// A request the server answered, as the debug drawer lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestView {
    /// When it was answered (RFC 3339).
    pub at: String,
    pub method: String,
    /// The matched route (`/api/v1/artifacts/{id}/diff`, `/_sm/artifact`).
    pub route: String,
    pub status: u16,
    pub duration_ms: f64,
    /// Its trace id (32 hex), also sent back as `x-trace-id`.
    pub trace_id: String,
}

/// The most recent requests, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestLog {
    pub requests: Vec<RequestView>,
}

/// What the debug drawer shows: recent requests and jobs, with their trace ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DebugView {
    pub requests: Vec<RequestView>,
    pub jobs: Vec<JobView>,
}

#[cfg(test)]
mod tests {
    use crate::dto::DirectionName;

    #[test]
    fn direction_names_are_the_wire_names() {
        for d in [
            DirectionName::UpstreamToCollection,
            DirectionName::CollectionToProject,
            DirectionName::ProjectToCollection,
        ] {
            assert_eq!(
                serde_json::to_value(d).ok(),
                Some(serde_json::Value::from(d.as_str()))
            );
        }
    }

    #[test]
    fn state_names_are_the_wire_names() {
        for s in crate::dto::StateName::ALL {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
            assert_eq!(crate::dto::StateName::from_wire(s.as_str()), Some(s));
        }
        assert_eq!(crate::dto::StateName::from_wire("Success"), None);
    }
}

/// A Claude Code plugin marketplace, read (`GET /marketplace?spec=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MarketplaceView {
    /// The marketplace's `name` (plugins are `plugin@name`).
    pub name: String,
    /// The spec it was read from (a relative local path made absolute).
    pub spec: String,
    /// The commit of its repository that was read.
    pub commit: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub plugins: Vec<PluginView>,
    /// Old plugin names and the names they became.
    pub renames: Vec<RenameView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenameView {
    pub from: String,
    pub to: String,
}

/// One plugin of a marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginView {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    /// `relative`, `github`, `url`, `git-subdir`, or the unsupported kind.
    pub source: String,
    /// Its skills, commands and agents with the upstream spec each is added with.
    pub artifacts: Vec<PluginArtifactView>,
    /// Why it cannot be added (an unsupported source, an upstream that failed).
    pub problem: Option<String>,
    /// Files of the plugin that are not taken, with why.
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginArtifactView {
    pub id: String,
    pub spec: String,
}

/// Adds plugins of a marketplace (`POST /plugins`): `plugins` by name, or `all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AddPlugins {
    /// Where the marketplace is (`owner/repo`, a git URL, or an absolute local path).
    pub spec: String,
    #[serde(default)]
    pub plugins: Vec<String>,
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub collection: Option<String>,
}

/// What adding plugins did, artifact by artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginsAddedView {
    pub marketplace: String,
    pub plugins: Vec<PluginAddedView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginAddedView {
    /// `name@marketplace`.
    pub plugin: String,
    pub artifacts: Vec<PluginArtifactAddedView>,
    /// Why the plugin could not be added at all.
    pub problem: Option<String>,
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginArtifactAddedView {
    pub id: String,
    pub spec: String,
    /// `added`, `present` (already there from this plugin) or `failed`.
    pub result: String,
    pub detail: Option<String>,
}

/// One change following a plugin brings (or brought).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginChangeView {
    /// `name@marketplace` as recorded before (a rename changes it).
    pub plugin: String,
    /// The artifact; none for a change of the whole plugin.
    pub artifact: Option<String>,
    /// `added`, `removed`, `moved`, `renamed`, `kept`, `gone` or `error`.
    pub change: String,
    pub detail: String,
    /// The artifact's upstream spec from now on (`added`, `moved`).
    pub spec: Option<String>,
    pub applied: bool,
}

/// What following the collection's plugins brings (`GET /plugins/changes`) or brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PluginChangesView {
    pub collection: String,
    pub changes: Vec<PluginChangeView>,
}

/// Applies the plan `GET /plugins/changes` gave (`POST /plugins/changes`): refused with 409
/// `plan_changed` when following the plugins now would do anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApplyPluginChanges {
    #[serde(default)]
    pub collection: Option<String>,
    pub planned: Vec<PluginChangeView>,
}

/// One thing `check` found (see `skillmeat check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingView {
    /// `error` (Claude Code or the format refuses or skips it) or `warning`.
    pub severity: String,
    /// `bad-name`, `no-frontmatter`, `upload-key`, `agent-skipped`, `duplicate-agent`, …
    pub code: String,
    pub message: String,
}

/// The checks of one artifact's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CheckedView {
    pub id: String,
    pub path: String,
    pub findings: Vec<FindingView>,
}

/// What `GET /check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CheckView {
    /// `collection`, or the project checked.
    pub scope: String,
    pub artifacts: Vec<CheckedView>,
}
