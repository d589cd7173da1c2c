//! Updates (DESIGN §5): each artifact from its upstream into the collection, then into every
//! chosen project where it is deployed, for one project or the whole fleet at once.
//!
//! An update is planned before anything is written, and the plan covers every step: where the
//! upstream step would change the collection, each project's step is planned against that
//! planned result ([`plan_after`](crate::ops::sync::plan_after)) rather than left out.
//!
//! Nothing to do costs nothing: [`triage`] first runs one drift check over the collection and
//! the projects — one ref listing per upstream repository, each tree hashed from its stat data
//! without reading a file that did not change — and only the steps it finds work for are
//! planned as syncs. An artifact whose upstream ref still names the locked commit (or whose
//! subtree id did not move) and whose copies match their baselines is settled there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::bump::Bump;
use crate::model::artifact::ArtifactId;
use crate::model::hash::ContentHash;
use crate::ops::context::Context;
use crate::ops::drift::DriftRow;
use crate::ops::error::OpsError;
use crate::ops::sync::request::Planned;
use crate::ops::sync::{self, Direction, Outcome, Strategy, SyncReport, SyncRequest};
use crate::storage::collection::{Lock, Manifest};
use crate::storage::records::DeploymentFile;

/// What one update run covers.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The collection updated.
    pub collection: &'a str,
    /// How differences are settled.
    pub strategy: Strategy,
}

/// What an artifact's update still has to do once the drift check settled the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    /// Its upstream step: it has an upstream, and the check found it moved (or could not tell).
    pub upstream: bool,
    /// The chosen projects where it is deployed, in the order given, each with whether its own
    /// step has work (a copy behind the collection, a baseline behind, a problem to report).
    /// A project without work of its own still takes the upstream step's change.
    pub deployed: Vec<(PathBuf, bool)>,
}

impl Work {
    /// Whether any step has work.
    pub fn any(&self) -> bool {
        self.upstream || self.deployed.iter().any(|(_, own)| *own)
    }

    /// The same artifact with every step to run (after a resolution changed the collection).
    pub fn everywhere(&self, has_upstream: bool) -> Self {
        Self {
            upstream: has_upstream,
            deployed: self
                .deployed
                .iter()
                .map(|(p, _)| (p.clone(), true))
                .collect(),
        }
    }
}

/// What the drift check found for a run.
#[derive(Debug, Default)]
pub struct Triage {
    /// By artifact, what is left to do (an artifact absent here has nothing to do).
    pub work: HashMap<ArtifactId, Work>,
    /// Projects that could not be read at all, with why: none of their steps can run.
    pub problems: Vec<(PathBuf, String)>,
}

impl Triage {
    /// What `id` has to do (nothing when absent).
    pub fn of(&self, id: &ArtifactId) -> Work {
        self.work.get(id).cloned().unwrap_or_default()
    }
}

/// Whether a drift row is work for an update. A copy edited on the target side only (the
/// source still at the baseline) is not: an update keeps it. A pair in sync whose baseline lags
/// behind is (a run killed before its records: the next merge would use an older base).
fn is_work(row: &DriftRow) -> bool {
    use crate::engine::drift::DriftStatus;
    row.stale.is_some()
        || match row.status {
            DriftStatus::Synced => row.base != row.source,
            DriftStatus::Modified => false,
            _ => true,
        }
}

/// Finds what each of `ids` (with whether it has an upstream) has to do across `projects`,
/// with one drift check. Writes nothing but the drift check's caches.
pub fn triage(
    ctx: &Context,
    collection: &str,
    ids: &[(ArtifactId, bool)],
    projects: &[PathBuf],
) -> Result<Triage, OpsError> {
    let mut triage = Triage::default();
    let mut readable = Vec::new();
    let mut records = Vec::new();
    for project in projects {
        match DeploymentFile::load(project) {
            Ok(file) => {
                readable.push(project.clone());
                records.push((project.clone(), file));
            }
            Err(e) => triage.problems.push((project.clone(), e.to_string())),
        }
    }
    let report = crate::ops::drift::drift(ctx, collection, &readable, true)?;
    let dir = ctx.home.collection_dir(collection)?;
    let lock = Lock::load(&dir)?;
    let mut upstream_work: HashMap<&ArtifactId, bool> = HashMap::new();
    let mut project_work: HashMap<(&ArtifactId, &Path), bool> = HashMap::new();
    for row in report.rows.iter().filter(|r| is_work(r)) {
        match &row.project {
            None => {
                upstream_work.insert(&row.id, true);
            }
            Some(p) => {
                project_work.insert((&row.id, p.as_path()), true);
            }
        }
    }
    // A problem is work: the step runs and reports it in the artifact's row.
    let mut broken = std::collections::HashSet::new();
    for problem in &report.problems {
        let Some(id) = &problem.id else {
            if let Some(p) = &problem.project {
                triage.problems.push((p.clone(), problem.message.clone()));
            }
            continue;
        };
        match &problem.project {
            Some(p) => {
                project_work.insert((id, p.as_path()), true);
            }
            // The collection's copy itself: every step of the artifact reports it.
            None => {
                upstream_work.insert(id, true);
                broken.insert(id);
            }
        }
    }
    for (id, has_upstream) in ids {
        let upstream = *has_upstream
            && (report.upstream_checks_off
                || lock.get(id).is_none()
                || upstream_work.contains_key(id));
        let deployed: Vec<(PathBuf, bool)> = records
            .iter()
            .filter(|(_, file)| file.get(id).is_some())
            .map(|(p, _)| {
                let own = broken.contains(id) || project_work.contains_key(&(id, p.as_path()));
                (p.clone(), own)
            })
            .collect();
        let work = Work { upstream, deployed };
        // Kept with nothing to do too: where it is deployed counts after a prompt's resolution.
        if work.any() || !work.deployed.is_empty() {
            triage.work.insert(id.clone(), work);
        }
    }
    Ok(triage)
}

/// One step of an artifact's update: from its upstream (no project) or into a project.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The project, for a step into one; none for the upstream step.
    pub project: Option<PathBuf>,
    /// What the step planned or did; an error in one project does not stop the others.
    #[serde(flatten)]
    pub result: StepResult,
}

/// A step's report, or why it failed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum StepResult {
    Done { report: Box<SyncReport> },
    Failed { error: String },
}

impl Step {
    /// The step's report, when it did not fail.
    pub fn report(&self) -> Option<&SyncReport> {
        match &self.result {
            StepResult::Done { report } => Some(report),
            StepResult::Failed { .. } => None,
        }
    }
}

/// A sync request of this run.
fn request<'a>(
    scope: &Scope<'a>,
    id: &'a ArtifactId,
    direction: Direction,
    project: Option<&'a Path>,
    dry_run: bool,
) -> SyncRequest<'a> {
    SyncRequest::new(
        id,
        direction,
        project,
        scope.collection,
        scope.strategy,
        dry_run,
    )
}

/// Updates (or, with `dry_run`, plans) one artifact: its upstream step when `work` has one,
/// then each project where it is deployed that has work of its own or takes the upstream
/// step's change. A conflict or divergence in the upstream step stops there (what the projects
/// would take is not known until it is settled); one project's conflict or error does not stop
/// the next project.
///
/// With `plans` (an apply of an earlier preview, [`StepPlans`]), each step is written only if
/// its sides and outcome are still what the preview showed; `work` should then be
/// [`StepPlans::work`].
pub async fn update_artifact(
    ctx: &Context,
    scope: &Scope<'_>,
    id: &ArtifactId,
    work: &Work,
    dry_run: bool,
    plans: Option<&StepPlans>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut collection_changes = false;
    let mut planned = None;
    if work.upstream {
        let mut req = request(scope, id, Direction::UpstreamToCollection, None, dry_run);
        req.expect = plans.and_then(|p| p.upstream.as_ref());
        match sync::sync(ctx, &req).await {
            Ok(report) => {
                let blocked = matches!(report.outcome, Outcome::Conflict | Outcome::Diverged);
                collection_changes = report.outcome != Outcome::UpToDate;
                planned = report.planned_files.clone();
                steps.push(Step {
                    project: None,
                    result: StepResult::Done {
                        report: Box::new(report),
                    },
                });
                if blocked {
                    return steps;
                }
            }
            Err(e) => {
                steps.push(Step {
                    project: None,
                    result: StepResult::Failed {
                        error: e.to_string(),
                    },
                });
                return steps;
            }
        }
    }
    for (project, own) in &work.deployed {
        if !(*own || collection_changes) {
            continue;
        }
        let result = match (&planned, dry_run) {
            (Some(files), true) => {
                sync::plan_after(ctx, id, scope.collection, project, scope.strategy, files).await
            }
            _ => {
                let mut req = request(
                    scope,
                    id,
                    Direction::CollectionToProject,
                    Some(project),
                    dry_run,
                );
                req.expect = plans.and_then(|p| p.of_project(project));
                sync::sync(ctx, &req).await
            }
        };
        steps.push(Step {
            project: Some(project.clone()),
            result: match result {
                Ok(report) => StepResult::Done {
                    report: Box::new(report),
                },
                Err(e) => StepResult::Failed {
                    error: e.to_string(),
                },
            },
        });
    }
    steps
}

/// How a step (or the worst of several) reads in a summary: `up to date`, `planned`,
/// `updated`, `auto-merged`, `forked`, `conflict`, `diverged` or `error`; and the detail
/// line (each step that does something, with its outcome and bump).
pub fn summarise(steps: &[Step], applied: bool) -> (String, String) {
    let rank = |o: Outcome| match o {
        Outcome::UpToDate => 0,
        Outcome::FastForward | Outcome::Overwritten | Outcome::KeptTarget | Outcome::Forked => 1,
        Outcome::Merged => 2,
        Outcome::Diverged => 3,
        Outcome::Conflict => 4,
    };
    let failed = steps.iter().any(|s| s.report().is_none());
    let outcome = steps
        .iter()
        .filter_map(Step::report)
        .map(|r| r.outcome)
        .max_by_key(|o| rank(*o))
        .unwrap_or(Outcome::UpToDate);
    let result = match (outcome, applied) {
        _ if failed => "error",
        (Outcome::UpToDate, _) => "up to date",
        (Outcome::Conflict, _) => "conflict",
        (Outcome::Diverged, _) => "diverged",
        (_, false) => "planned",
        (Outcome::Merged, true) => "auto-merged",
        (Outcome::Forked, true) => "forked",
        (_, true) => "updated",
    };
    let detail = steps
        .iter()
        .filter_map(|s| match &s.result {
            StepResult::Failed { error } => Some(error.clone()),
            StepResult::Done { report } if report.outcome == Outcome::UpToDate => None,
            StepResult::Done { report } => {
                let outcome = match &report.fork {
                    Some(fork) => format!("{} as {fork}", report.outcome.as_str()),
                    None => report.outcome.as_str().to_owned(),
                };
                Some(match report.bump.bump {
                    Bump::None => format!("{}: {outcome}", report.direction),
                    bump => format!("{}: {outcome} ({bump})", report.direction),
                })
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    (result.to_owned(), detail)
}

/// The biggest semver bump any of `steps` suggests.
pub fn bump_of(steps: &[Step]) -> Bump {
    steps
        .iter()
        .filter_map(Step::report)
        .map(|r| r.bump.bump)
        .max()
        .unwrap_or_default()
}

/// Whether a planned step has work for the apply: anything but up to date, and an up-to-date
/// step whose copy already holds the source while its baseline lags behind (a run killed
/// between install and records), where the apply moves the baseline. Left behind, the next
/// merge would use an older base and bring back what the upstream removed since.
pub fn needs_apply(report: &SyncReport) -> bool {
    moves(report.outcome, report.source, report.target, report.base)
}

/// [`needs_apply`] on a report's parts.
fn moves(
    outcome: Outcome,
    source: ContentHash,
    target: Option<ContentHash>,
    base: Option<ContentHash>,
) -> bool {
    match outcome {
        Outcome::UpToDate => target == Some(source) && base != Some(source),
        _ => true,
    }
}

/// What a preview planned for the steps of one artifact's update, so that an apply runs exactly
/// those: only the steps it found work for, each written only if its sides and outcome are
/// still what the preview showed (an update job with a `plan_job`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepPlans {
    /// The upstream step, if it has work.
    pub upstream: Option<Planned>,
    /// The project steps with work, in order.
    pub projects: Vec<(PathBuf, Planned)>,
}

/// The parts of a stored report a plan is read from.
#[derive(Deserialize)]
struct StoredStep {
    direction: Direction,
    project: Option<PathBuf>,
    outcome: Outcome,
    base: Option<ContentHash>,
    source: ContentHash,
    target: Option<ContentHash>,
}

impl StepPlans {
    /// The plan in a preview's row as a job stored it ([`UpdateRow`] as JSON): the steps of its
    /// `reports` that need an apply. A report that does not read as one is left out (that step
    /// is not applied).
    pub fn of_row(row: &serde_json::Value) -> Self {
        let mut plans = Self::default();
        let reports = row.get("reports").and_then(|r| r.as_array());
        for report in reports.into_iter().flatten() {
            let Ok(step) = serde_json::from_value::<StoredStep>(report.clone()) else {
                continue;
            };
            if !moves(step.outcome, step.source, step.target, step.base) {
                continue;
            }
            let planned = Planned {
                outcome: step.outcome,
                source: step.source,
                target: step.target,
            };
            match (step.direction, step.project) {
                (Direction::UpstreamToCollection, _) => plans.upstream = Some(planned),
                (Direction::CollectionToProject, Some(project)) => {
                    plans.projects.push((project, planned));
                }
                _ => {}
            }
        }
        plans
    }

    /// The work these plans are: each planned step, nothing else.
    pub fn work(&self) -> Work {
        Work {
            upstream: self.upstream.is_some(),
            deployed: self
                .projects
                .iter()
                .map(|(p, _)| (p.clone(), true))
                .collect(),
        }
    }

    /// What the preview planned for `project`'s step.
    pub fn of_project(&self, project: &Path) -> Option<&Planned> {
        self.projects
            .iter()
            .find(|(p, _)| p == project)
            .map(|(_, planned)| planned)
    }
}

/// One step of an artifact's update in a summary: from its upstream, or into a project.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    /// The project; none for the upstream step.
    pub project: Option<PathBuf>,
    /// As the artifact's `result`.
    pub result: String,
    pub bump: Bump,
    pub detail: String,
}

/// One artifact's update, summarised (a line of `update`'s summary, an update job's result).
#[derive(Debug, Clone, Serialize)]
pub struct UpdateRow {
    pub id: ArtifactId,
    /// `up to date`, `updated`, `auto-merged`, `resolved` (at the `--strategy prompt` prompt),
    /// `conflict`, `diverged`, `error`, or `planned`: the worst of its steps.
    pub result: String,
    /// The biggest semver bump any step suggests (`none` when nothing changes).
    pub bump: Bump,
    pub detail: String,
    /// Every step that ran (one settled by the drift check without a sync is not listed).
    pub steps: Vec<StepRow>,
    pub reports: Vec<SyncReport>,
}

impl UpdateRow {
    /// The row of `steps` of `id`, planned or (with `applied`) done.
    pub fn of(id: &ArtifactId, steps: &[Step], applied: bool) -> Self {
        let (result, detail) = summarise(steps, applied);
        UpdateRow {
            id: id.clone(),
            result,
            bump: bump_of(steps),
            detail,
            steps: steps
                .iter()
                .map(|s| {
                    let one = std::slice::from_ref(s);
                    let (result, detail) = summarise(one, applied);
                    StepRow {
                        project: s.project.clone(),
                        result,
                        bump: bump_of(one),
                        detail,
                    }
                })
                .collect(),
            reports: steps.iter().filter_map(Step::report).cloned().collect(),
        }
    }
}

/// The artifacts of `collection` to update: `only`, or all of them; each with whether it has
/// an upstream.
pub fn artifacts(
    ctx: &Context,
    collection: &str,
    only: Option<&ArtifactId>,
) -> Result<Vec<(ArtifactId, bool)>, OpsError> {
    let manifest = Manifest::load(&ctx.home.collection_dir(collection)?)?;
    match only {
        Some(id) => {
            let entry = manifest.get(id).ok_or_else(|| OpsError::NotInCollection {
                id: id.clone(),
                collection: collection.to_owned(),
            })?;
            Ok(vec![(id.clone(), entry.upstream.is_some())])
        }
        None => Ok(manifest
            .artifacts
            .iter()
            .map(|e| (e.id.clone(), e.upstream.is_some()))
            .collect()),
    }
}
