//! What a sync is asked to do and what it reports: directions, strategies, outcomes, phases.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::engine::bump::Suggestion;
use crate::engine::merge::FileOutcome;
use crate::model::artifact::ArtifactId;
use crate::model::hash::ContentHash;
use crate::ops::error::OpsError;

/// Which way a sync goes (read back from a pending merge's `merge.toml` by its full name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// As the CLI, the API and `merge.toml` spell it (`upstream-to-collection`, …).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
    /// Keep both where both moved (or no base is known): the target keeps its version (as with
    /// `ours`), and the source's version lands beside it in the collection as a new artifact
    /// `<name>-fork` (deployed beside the original when the target is a project). Where only
    /// the source moved, the target takes it, as with `auto`.
    Fork,
}

impl Strategy {
    /// As the CLI, the API and `merge.toml` spell it (`auto`, `ours`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Ours => "ours",
            Self::Theirs => "theirs",
            Self::Overwrite => "overwrite",
            Self::Fork => "fork",
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
            "fork" => Ok(Self::Fork),
            _ => Err(format!(
                "unknown strategy `{s}`: use auto, ours, theirs, overwrite or fork"
            )),
        }
    }
}

/// What a sync does (or did) to the artifact as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The target keeps its content and the source's version became a new artifact beside it
    /// ([`SyncReport::fork`]); the source's version becomes the baseline.
    Forked,
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
            Self::Forked => "forked",
            Self::Conflict => "conflict",
            Self::Diverged => "diverged",
        }
    }
}

/// A sync to plan or run.
#[derive(Debug, Clone)]
pub struct SyncRequest<'a> {
    /// Which artifact to sync.
    pub id: &'a ArtifactId,
    /// Which way.
    pub direction: Direction,
    /// The project, for the project directions.
    pub project: Option<&'a Path>,
    /// The collection the artifact belongs to.
    pub collection: &'a str,
    /// How to settle differences.
    pub strategy: Strategy,
    /// Plan only; write nothing.
    pub dry_run: bool,
    /// Told as each phase starts (the job runner turns these into progress).
    pub on_phase: Option<PhaseHook<'a>>,
    /// The plan a preview showed, when the apply must be exactly that plan: if the sides or
    /// the outcome differ now, nothing is written ([`OpsError::PlanChanged`]).
    pub expect: Option<&'a Planned>,
}

impl<'a> SyncRequest<'a> {
    /// A request with no phase hook and no preview to match.
    pub fn new(
        id: &'a ArtifactId,
        direction: Direction,
        project: Option<&'a Path>,
        collection: &'a str,
        strategy: Strategy,
        dry_run: bool,
    ) -> Self {
        Self {
            id,
            direction,
            project,
            collection,
            strategy,
            dry_run,
            on_phase: None,
            expect: None,
        }
    }
}

/// What a preview (a dry run) planned for one artifact: what an apply checks it is still
/// applying. Read back from a dry-run job's report (its fields have the report's names).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Planned {
    /// The outcome shown.
    pub outcome: Outcome,
    /// The source's version planned from.
    pub source: ContentHash,
    /// The target's version planned against.
    pub target: Option<ContentHash>,
}

impl Planned {
    /// What `report` (a dry run's) planned.
    pub fn of(report: &SyncReport) -> Self {
        Self {
            outcome: report.outcome,
            source: report.source,
            target: report.target,
        }
    }

    /// Where `now` differs from this plan, in words; `None` when it is the same plan.
    pub fn differs(&self, now: &Self) -> Option<String> {
        let short = |h: Option<ContentHash>| {
            h.map_or_else(|| "nothing".to_owned(), |h| h.to_string()[..12].to_owned())
        };
        if self.source != now.source {
            Some(format!(
                "the source is now {} (the preview planned from {})",
                short(Some(now.source)),
                short(Some(self.source))
            ))
        } else if self.target != now.target {
            Some(format!(
                "the target is now {} (the preview planned against {})",
                short(now.target),
                short(self.target)
            ))
        } else if self.outcome != now.outcome {
            Some(format!(
                "the outcome is now {} (the preview showed {})",
                now.outcome.as_str(),
                self.outcome.as_str()
            ))
        } else {
            None
        }
    }
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
    pub(crate) fn phase(&self, phase: Phase) -> Result<tracing::Span, OpsError> {
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

/// The plan of a sync, and what was done when it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Which artifact the report is of.
    pub id: ArtifactId,
    /// Which way.
    pub direction: Direction,
    /// The project, for the project directions.
    pub project: Option<PathBuf>,
    /// The strategy used.
    pub strategy: Strategy,
    /// What happens to the artifact as a whole.
    pub outcome: Outcome,
    /// The common ancestor, where known.
    pub base: Option<ContentHash>,
    /// The source's version.
    pub source: ContentHash,
    /// The target's version; absent if it has none.
    pub target: Option<ContentHash>,
    /// The version the target holds afterwards (planned when not applied).
    pub result: Option<ContentHash>,
    /// Every file with what happens to it.
    pub files: Vec<FileOutcome>,
    /// What the change the target takes means in semver terms (against the source's version
    /// for a conflict, whose result is not known yet).
    pub bump: Suggestion,
    /// Whether the target was written (false for a dry run, a plan, or nothing to do).
    pub applied: bool,
    /// Where the pending merge is kept, for a conflict.
    pub pending: Option<PathBuf>,
    /// The artifact the source's version became, for `fork` (planned on a dry run).
    pub fork: Option<ArtifactId>,
    /// Problems that did not stop the sync (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
    /// A dry run's planned result, when it changes the target: what
    /// [`plan_after`](crate::ops::sync::plan_after) plans the next step against.
    #[serde(skip)]
    pub planned_files: Option<std::sync::Arc<crate::model::files::ArtifactFiles>>,
}

impl SyncReport {
    /// Whether the sync left a conflict to resolve.
    pub fn has_conflict(&self) -> bool {
        self.outcome == Outcome::Conflict
    }
}
