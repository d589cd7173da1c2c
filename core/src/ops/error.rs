//! Why an operation failed: one error type shared by the operations, with the path attached to
//! every I/O failure.

use std::path::PathBuf;

use crate::model::artifact::{ArtifactId, ArtifactType, IdError};
use crate::model::error::{ErrorKind, PathError};
use crate::model::hash::HashError;
use crate::model::upstream::SpecError;
use crate::storage::apply::ApplyError;
use crate::storage::fetch::FetchError;
use crate::storage::home::HomeError;
use crate::storage::tomlfile::TomlFileError;
use crate::storage::versions::VersionError;

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
    /// An apply that had to be exactly its preview's plan found something else.
    #[error(
        "{id} changed since its preview: {what}; nothing was written: preview again and apply \
         the new plan"
    )]
    PlanChanged { id: ArtifactId, what: String },
    /// An apply that had to follow a preview has none for this artifact.
    #[error(
        "{id} was not planned by the preview this apply names (its preview failed or left it \
         out); nothing was written: preview again"
    )]
    NotPlanned { id: ArtifactId },
    /// The kill-switch: the artifact's syncs failed too often in a row.
    #[error(
        "{id} is locked: its last {failures} syncs failed (locked at {since}; the last failure: \
         {last_error}); fix the cause, then `skillmeat unlock {id}` (sync.lock_after_failures \
         sets how many failures lock)"
    )]
    SyncLocked {
        id: ArtifactId,
        failures: u32,
        since: String,
        last_error: String,
    },
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
    #[error(
        "cannot tell the type of `{path}`: pass --type skill|command|agent|output-style|hook|mcp"
    )]
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
    /// Every name a fork of the artifact could take is taken.
    #[error(
        "{id} cannot be forked: `-fork` up to `-fork-{tries}` are all taken; remove old forks first"
    )]
    NoForkName { id: ArtifactId, tries: u32 },
    /// The artifact is not in the collection.
    #[error("{id} is not in collection `{collection}`")]
    NotInCollection { id: ArtifactId, collection: String },
    /// A file or folder SkillMeat does not manage is in the way.
    #[error("{path} already exists and is not managed by SkillMeat; move it away first")]
    Unmanaged { path: PathBuf },
    /// The project copy has edits that undeploying would lose.
    #[error(
        "{id} in {project} has local edits; undeploying would lose them (capture them with `sync --direction project`, or pass --force to record them in the version store and remove the copy)"
    )]
    UndeployEdits { id: ArtifactId, project: PathBuf },
    /// The artifact is still deployed.
    #[error("{id} is still deployed in {projects}; undeploy it there first, or pass --undeploy")]
    StillDeployed { id: ArtifactId, projects: String },
    /// The project copy has edits that deploying would overwrite.
    #[error("{id} in {project} has local edits; deploying would overwrite them (sync instead)")]
    LocalEdits { id: ArtifactId, project: PathBuf },
    /// A file-system operation failed.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] crate::storage::config::ConfigError),
    /// A side of a diff that is no tier and no recorded version.
    #[error("`{side}` is not upstream, collection, project or a recorded version")]
    UnknownSide { side: String },
    /// The tier holds no copy of the artifact.
    #[error("{id} has no copy at {}", path.display())]
    NoCopy { id: ArtifactId, path: PathBuf },
    /// A marketplace file or plugin manifest that cannot be used.
    #[error(transparent)]
    Marketplace(#[from] crate::model::marketplace::MarketplaceError),
    /// The upstream holds no marketplace where one was asked for.
    #[error(
        "{spec} is not a plugin marketplace: {problem} (a marketplace lists its plugins in .claude-plugin/marketplace.json)"
    )]
    NoMarketplace { spec: String, problem: String },
    /// The marketplace has no plugin of that name.
    #[error("marketplace `{marketplace}` has no plugin `{name}`; it has: {plugins}")]
    NoSuchPlugin {
        name: String,
        marketplace: String,
        plugins: String,
    },
    /// Two agents would share one frontmatter `name` in a scope (Claude Code keeps only one).
    #[error(
        "agent name `{name}` would be taken twice in this scope: by {first} and by {second}; Claude Code knows an agent by its frontmatter name and keeps only one (rename one, or deploy only one); nothing was written"
    )]
    DuplicateAgent {
        name: String,
        first: String,
        second: String,
    },
    /// `deploy --strict`: a check found errors; nothing was written.
    #[error(
        "the checks found problems (deploy without --strict to deploy anyway): {problems}; nothing was written"
    )]
    CheckFailed { problems: String },
    /// A shared JSON file (settings.json, .mcp.json, ~/.claude.json) that cannot be read or
    /// edited: not JSON (with line and column), a folder, a symlink, too large.
    #[error(transparent)]
    SharedFile(#[from] crate::storage::shared_json::SharedFileError),
    /// A hook or mcp artifact's file is not the shape Claude Code reads.
    #[error(transparent)]
    Fragment(#[from] crate::model::fragment::FragmentError),
    /// An entry SkillMeat would write is already in the shared file, different, and not one
    /// SkillMeat wrote.
    #[error(
        "{} already has {entry}, which SkillMeat did not write and which differs from {id}'s; \
         remove or rename it there (or make it equal) and deploy again; nothing was written",
        path.display()
    )]
    Unowned {
        id: ArtifactId,
        path: PathBuf,
        entry: String,
    },
    /// A hook or mcp artifact synced a way it cannot go.
    #[error(
        "{id} is entries in a file you share with Claude Code; it syncs from the collection into \
         projects only ({direction} would carry the project's values, secrets among them, into \
         the collection): edit the collection's copy and sync it out"
    )]
    FragmentDirection {
        id: ArtifactId,
        direction: &'static str,
    },
    /// A clash named that the pending merge does not have.
    #[error("{id}'s pending merge has no clash `{clash}`; its clashes: {open}")]
    NoSuchClash {
        id: ArtifactId,
        clash: String,
        open: String,
    },
    /// A job was cancelled before this phase; nothing of it was written.
    #[error("{id}: cancelled before {phase}; nothing was written")]
    Cancelled { id: ArtifactId, phase: &'static str },
}

impl OpsError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Spec(e) => e.kind(),
            Self::Id(e) => e.kind(),
            Self::Fetch(e) => e.kind(),
            Self::Hash(e) => e.kind(),
            Self::Home(e) => e.kind(),
            Self::File(e) => e.kind(),
            Self::Versions(e) => e.kind(),
            Self::Apply(e) => e.kind(),
            Self::Merge(e) => e.kind(),
            Self::Store(e) => e.kind(),
            Self::ProjectRequired { .. } => ErrorKind::Usage,
            Self::LinkOutside(_) => ErrorKind::LinkOutside,
            Self::NotRegistered { .. } => ErrorKind::NotRegistered,
            Self::NotDeployed { .. } => ErrorKind::NotDeployed,
            Self::NoUpstream { .. }
            | Self::NotInMerge { .. }
            | Self::HunkChoices { .. }
            | Self::UnknownSide { .. } => ErrorKind::Invalid,
            Self::SourceMissing { .. } | Self::NoCopy { .. } => ErrorKind::NotFound,
            Self::TargetChanged { .. } => ErrorKind::Changed,
            Self::PendingMerge { .. } => ErrorKind::PendingMerge,
            Self::NothingToExport { .. } => ErrorKind::NothingToExport,
            Self::NoPendingMerge { .. } => ErrorKind::NoPendingMerge,
            Self::AmbiguousPending { .. } => ErrorKind::AmbiguousPending,
            Self::MergeChanged { .. } => ErrorKind::MergeChanged,
            Self::PlanChanged { .. } | Self::NotPlanned { .. } => ErrorKind::PlanChanged,
            Self::SyncLocked { .. } => ErrorKind::SyncLocked,
            Self::MarkersLeft { .. } => ErrorKind::Unresolved,
            Self::UnknownType { .. } | Self::WrongShape { .. } => ErrorKind::UnknownType,
            Self::AlreadyAdded { .. } | Self::NoForkName { .. } => ErrorKind::AlreadyAdded,
            Self::NotInCollection { .. } => ErrorKind::NotInCollection,
            Self::Unmanaged { .. } => ErrorKind::Unmanaged,
            Self::LocalEdits { .. } | Self::UndeployEdits { .. } => ErrorKind::LocalEdits,
            Self::StillDeployed { .. } => ErrorKind::StillDeployed,
            Self::Io(_) => ErrorKind::Internal,
            Self::Config(e) => e.kind(),
            Self::Cancelled { .. } => ErrorKind::Cancelled,
            Self::Marketplace(_) => ErrorKind::UpstreamRefused,
            Self::NoMarketplace { .. } | Self::NoSuchPlugin { .. } => ErrorKind::NotFound,
            Self::DuplicateAgent { .. } | Self::CheckFailed { .. } => ErrorKind::Invalid,
            Self::SharedFile(crate::storage::shared_json::SharedFileError::Io { .. }) => {
                ErrorKind::Internal
            }
            Self::SharedFile(_) | Self::Fragment(_) => ErrorKind::Invalid,
            Self::Unowned { .. } => ErrorKind::Unmanaged,
            Self::FragmentDirection { .. } => ErrorKind::Usage,
            Self::NoSuchClash { .. } => ErrorKind::NoPendingMerge,
        }
    }
}
