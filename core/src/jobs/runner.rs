//! [`Runner`]: claims queued jobs, runs them through [`sync`](crate::ops::sync) with bounded
//! concurrency, records progress as events, and resolves pending merges for resolve jobs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::engine::merge::{Hunk, HunkChoice, settle_hunks};
use crate::jobs::store::{Claim, Job, JobEnd, JobKind, JobState, JobStore};
use crate::model::artifact::ArtifactId;
use crate::ops::conflicts::{self, Resolution};
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::sync;
use crate::ops::sync::request::SyncReport;
use crate::ops::sync::request::SyncRequest;
use crate::ops::sync::request::{Outcome, Planned};
use crate::ops::update::{self, StepPlans, UpdateRow};
use crate::storage::db::DbError;

/// Runs queued jobs with bounded concurrency.
pub struct Runner {
    store: Arc<dyn JobStore>,
    ctx: Context,
    concurrency: usize,
    wake: tokio::sync::Notify,
    on_end: std::sync::OnceLock<EndObserver>,
    on_sync: std::sync::OnceLock<SyncObserver>,
    span_parent: std::sync::OnceLock<SpanParent>,
}

/// Links a job's span to the trace it belongs to (the server sets the OpenTelemetry parent
/// from the job's trace and parent span ids; core knows nothing of OpenTelemetry).
pub type SpanParent = Box<dyn Fn(&tracing::Span, &Job) + Send + Sync>;

/// Told of every job that ends: its final state and how long it ran (for metrics).
pub type EndObserver = Box<dyn Fn(JobState, Duration) + Send + Sync>;

/// Told of every artifact a sync job synced (for metrics).
pub type SyncObserver = Box<dyn Fn(&SyncEnded) + Send + Sync>;

/// How one artifact's sync in a job ended.
#[derive(Debug, Clone)]
pub struct SyncEnded {
    pub direction: crate::ops::sync::Direction,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// The outcome, when it did not fail.
    pub outcome: Option<Outcome>,
    /// The failure's kind, when it failed.
    pub error: Option<crate::model::error::ErrorKind>,
    /// How long each phase it reached took (fetch, merge, apply), in order.
    pub phases: Vec<(crate::ops::sync::request::Phase, Duration)>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// How long finished jobs are kept.
pub const KEEP_FINISHED: Duration = Duration::from_secs(30 * 24 * 3600);

impl Runner {
    /// A runner over `store`, running syncs with `ctx` (its clock is refreshed per job).
    pub fn new(store: Arc<dyn JobStore>, ctx: Context, concurrency: usize) -> Arc<Self> {
        Arc::new(Self {
            store,
            ctx,
            concurrency: concurrency.max(1),
            wake: tokio::sync::Notify::new(),
            on_end: std::sync::OnceLock::new(),
            on_sync: std::sync::OnceLock::new(),
            span_parent: std::sync::OnceLock::new(),
        })
    }

    /// Sets the observer told of every job's end; only the first call counts.
    pub fn observe_ends(&self, observer: EndObserver) {
        let _ = self.on_end.set(observer);
    }

    /// Sets the observer told of every artifact a sync job synced; only the first call counts.
    pub fn observe_syncs(&self, observer: SyncObserver) {
        let _ = self.on_sync.set(observer);
    }

    /// Sets what links each job's span to its trace; only the first call counts.
    pub fn parent_spans(&self, link: SpanParent) {
        let _ = self.span_parent.set(link);
    }

    /// Where jobs are kept, for reading them while the runner works.
    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// Tells the runner a job was queued, so it does not wait for its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Requeues interrupted jobs and prunes old ones; call once before [`Runner::run`].
    pub async fn recover(&self) -> Result<u64, DbError> {
        let now = SystemTime::now();
        self.prune(now).await?;
        self.store.requeue_interrupted(now).await
    }

    /// Deletes the jobs that finished more than [`KEEP_FINISHED`] before `now`; how many. The
    /// server calls it at start and then on a schedule while it serves.
    pub async fn prune(&self, now: SystemTime) -> Result<u64, DbError> {
        self.store
            .prune(now.checked_sub(KEEP_FINISHED).unwrap_or(now))
            .await
    }

    /// Claims and runs jobs until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        let slots = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        // Queued jobs up to this id were blocked at the last empty claim. A job ending may
        // unblock them (`ended` is then set); a new job or a claim never does.
        let mut blocked_through = 0;
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            if ended.swap(false, std::sync::atomic::Ordering::AcqRel) {
                blocked_through = 0;
            }
            match self
                .store
                .claim_after(SystemTime::now(), blocked_through)
                .await
            {
                Ok(Claim { job: Some(job), .. }) => {
                    let me = self.clone();
                    let ended = ended.clone();
                    tokio::spawn(async move {
                        me.execute(job).await;
                        drop(permit);
                        ended.store(true, std::sync::atomic::Ordering::Release);
                        me.wake.notify_one();
                    });
                }
                Ok(Claim {
                    job: None,
                    blocked_through: through,
                }) => {
                    drop(permit);
                    blocked_through = through;
                    let woken =
                        tokio::time::timeout(Duration::from_millis(500), self.wake.notified())
                            .await;
                    if woken.is_err() {
                        // Quiet for a while: look through the whole queue again, in case a
                        // job ended elsewhere (another process sharing the database).
                        blocked_through = 0;
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!("cannot claim a job: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Runs one claimed job to its end, in a `job` span.
    pub async fn execute(&self, job: Job) {
        use tracing::Instrument as _;
        let span = tracing::info_span!(
            "job",
            job_id = job.id,
            direction = %job.direction,
            trace_id = %job.trace_id
        );
        if let Some(link) = self.span_parent.get() {
            link(&span, &job);
        }
        self.execute_in_span(job).instrument(span).await;
    }

    async fn execute_in_span(&self, job: Job) {
        let started = std::time::Instant::now();
        let mut reports: Vec<serde_json::Value> = Vec::new();
        let mut conflicts = Vec::new();
        let mut log = Vec::new();
        let mut state = JobState::Success;
        let n = job.artifact_ids.len().max(1);
        // One fetch of each upstream for the whole job.
        let run = crate::storage::fetch::FetchRun::default();
        let planned = match (job.kind, job.plan_job) {
            (JobKind::Sync, Some(plan)) => Some(self.planned(plan).await),
            _ => None,
        };
        let update = match job.kind {
            JobKind::Update => {
                let ctx = self.job_ctx(&run);
                match self.update_work(&ctx, &job).await {
                    Ok(work) => Some(work),
                    Err(e) => {
                        log.push(format!("cannot plan the update: {e}"));
                        reports.push(serde_json::json!({ "error": e.to_string() }));
                        state = JobState::Error;
                        None
                    }
                }
            }
            _ => None,
        };
        if let Some(UpdateWork::Triage(triage, _)) = &update {
            // A project that could not be read at all: none of its steps ran.
            for (project, why) in &triage.problems {
                log.push(format!("{}: {why}", project.display()));
                reports.push(serde_json::json!({ "project": project, "error": why }));
                state = JobState::Error;
            }
        }
        for (i, id) in job.artifact_ids.iter().enumerate() {
            if job.kind == JobKind::Update && update.is_none() {
                break;
            }
            if self.store.cancel_requested(job.id).await.unwrap_or(false) {
                state = JobState::Cancelled;
                log.push(format!("cancelled before {id}"));
                break;
            }
            let ctx = self.job_ctx(&run);
            let outcome = match job.kind {
                JobKind::Sync => match planned.as_ref().map(|p| p.get(id)) {
                    Some(None) => Err(OpsError::NotPlanned { id: id.clone() }),
                    Some(Some(plan)) => {
                        self.sync_one(&ctx, &job, id, Some(plan), (i, n), &mut log)
                            .await
                    }
                    None => self.sync_one(&ctx, &job, id, None, (i, n), &mut log).await,
                },
                JobKind::Resolve => resolve_one(&ctx, &job, id).await,
                JobKind::Update => match &update {
                    Some(work) => update_one(&ctx, &job, id, work).await,
                    None => Err(OpsError::NotPlanned { id: id.clone() }),
                },
            };
            match outcome {
                Ok(Done {
                    report,
                    conflict,
                    failed,
                    line,
                }) => {
                    log.push(format!("{id}: {line}"));
                    if conflict {
                        conflicts.push(id.clone());
                        if state == JobState::Success {
                            state = JobState::Conflict;
                        }
                    }
                    if failed {
                        state = JobState::Error;
                    }
                    reports.push(report);
                }
                Err(e) => {
                    log.push(format!("{id}: error: {e}"));
                    reports.push(serde_json::json!({ "id": id, "error": e.to_string() }));
                    state = JobState::Error;
                }
            }
            let pct = u8::try_from((i + 1) * 100 / n).unwrap_or(100);
            let _ = self
                .store
                .progress(
                    job.id,
                    pct.min(99),
                    &format!("{id} done"),
                    SystemTime::now(),
                )
                .await;
        }
        let excerpt = log
            .iter()
            .rev()
            .take(20)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        let end = JobEnd {
            state,
            result: serde_json::Value::Array(reports),
            conflicts,
            log_excerpt: excerpt,
        };
        if let Err(e) = self.store.finish(job.id, end, SystemTime::now()).await {
            tracing::error!("cannot record the end of job {}: {e}", job.id);
        }
        if let Some(observe) = self.on_end.get() {
            observe(state, started.elapsed());
        }
        tracing::info!(
            duration_ms = started.elapsed().as_millis() as u64,
            state = state.as_str(),
            "job ended"
        );
    }
}

impl Runner {
    /// The runner's context now, sharing the job's one fetch of each upstream.
    fn job_ctx(&self, run: &crate::storage::fetch::FetchRun) -> Context {
        Context {
            now: SystemTime::now(),
            fetch: crate::storage::fetch::FetchSettings {
                run: Some(run.clone()),
                ..self.ctx.fetch.clone()
            },
            ..self.ctx.clone()
        }
    }
}

/// What one artifact of a job came to.
struct Done {
    report: serde_json::Value,
    conflict: bool,
    failed: bool,
    line: String,
}

impl Runner {
    /// What the dry-run job `plan` planned, artifact by artifact (none for an artifact its
    /// preview failed on, or for every artifact when the job is gone).
    async fn planned(&self, plan: i64) -> HashMap<ArtifactId, Planned> {
        let job = match self.store.get(plan).await {
            Ok(Some(job)) => job,
            Ok(None) => return HashMap::new(),
            Err(e) => {
                tracing::warn!("cannot read plan job {plan}: {e}");
                return HashMap::new();
            }
        };
        let reports = job
            .result
            .as_ref()
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default();
        reports
            .into_iter()
            .filter_map(|r| {
                let id: ArtifactId = r.get("id")?.as_str()?.parse().ok()?;
                let planned: Planned = serde_json::from_value(r).ok()?;
                Some((id, planned))
            })
            .collect()
    }

    /// Syncs one artifact of a sync job (the `index`-th of `count`), turning its phases into
    /// progress events and retrying once on a transient failure; with `plan`, only if it is
    /// still what that preview planned.
    async fn sync_one(
        &self,
        ctx: &Context,
        job: &Job,
        id: &ArtifactId,
        plan: Option<&Planned>,
        (index, count): (usize, usize),
        log: &mut Vec<String>,
    ) -> Result<Done, OpsError> {
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<crate::ops::sync::request::Phase>();
        let cancelled = std::sync::atomic::AtomicBool::new(false);
        // When each phase started, for the phase durations the observer is told.
        let started = std::sync::Mutex::new(Vec::<(
            crate::ops::sync::request::Phase,
            std::time::Instant,
        )>::new());
        // The sender is dropped when the sync ends, which ends the forwarding loop below.
        let tx = std::sync::Mutex::new(Some(tx));
        let hook = |phase: crate::ops::sync::request::Phase| {
            if let Ok(mut s) = started.lock() {
                s.push((phase, std::time::Instant::now()));
            }
            if let Ok(guard) = tx.lock()
                && let Some(tx) = guard.as_ref()
            {
                let _ = tx.send(phase);
            }
            !cancelled.load(std::sync::atomic::Ordering::SeqCst)
        };
        let req = SyncRequest {
            id,
            direction: job.direction,
            project: job.project_path.as_deref(),
            collection: &job.collection,
            strategy: job.strategy,
            dry_run: job.dry_run,
            on_phase: Some(crate::ops::sync::request::PhaseHook(&hook)),
            expect: plan,
        };
        let store = &self.store;
        let forward = async {
            // Phase k of 3 of artifact `index` of `count`: progress within the whole job.
            while let Some(phase) = rx.recv().await {
                let step = match phase {
                    crate::ops::sync::request::Phase::Fetch => 0,
                    crate::ops::sync::request::Phase::Merge => 1,
                    crate::ops::sync::request::Phase::Apply => 2,
                };
                if self.store.cancel_requested(job.id).await.unwrap_or(false) {
                    cancelled.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let pct = (index * 3 + step) * 100 / (count * 3);
                let _ = store
                    .progress(
                        job.id,
                        u8::try_from(pct).unwrap_or(99).min(99),
                        &format!("{id}: {}", phase.as_str()),
                        SystemTime::now(),
                    )
                    .await;
            }
        };
        let run = async {
            let mut outcome = sync::sync(ctx, &req).await;
            if let Err(e) = &outcome
                && is_transient(e)
            {
                log.push(format!("{id}: {e}; retrying once"));
                tokio::time::sleep(Duration::from_millis(200)).await;
                outcome = sync::sync(ctx, &req).await;
            }
            if let Ok(mut guard) = tx.lock() {
                guard.take();
            }
            outcome
        };
        let (outcome, ()) = tokio::join!(run, forward);
        if let Some(observe) = self.on_sync.get() {
            let ended = std::time::Instant::now();
            let marks = started.lock().map(|s| s.clone()).unwrap_or_default();
            // A retried sync starts its phases again: time the last try's.
            let first = marks
                .iter()
                .rposition(|(p, _)| *p == crate::ops::sync::request::Phase::Fetch)
                .unwrap_or(0);
            let marks = &marks[first.min(marks.len())..];
            let phases = marks
                .iter()
                .enumerate()
                .map(|(i, (phase, at))| {
                    let until = marks.get(i + 1).map_or(ended, |(_, next)| *next);
                    (*phase, until.saturating_duration_since(*at))
                })
                .collect();
            observe(&SyncEnded {
                direction: job.direction,
                dry_run: job.dry_run,
                outcome: outcome.as_ref().ok().map(|r| r.outcome),
                error: outcome.as_ref().err().map(OpsError::kind),
                phases,
            });
        }
        let report = outcome?;
        Ok(Done {
            conflict: report.outcome == Outcome::Conflict,
            failed: report.outcome == Outcome::Diverged && !job.dry_run,
            line: report.outcome.as_str().to_owned(),
            report: report_json(&report),
        })
    }
}

/// What an update job's artifacts have to do: found by one drift check over its projects (a
/// preview, or an apply without one), or read from the preview it applies.
enum UpdateWork {
    /// Each artifact with whether it is in the collection (and has an upstream), and what the
    /// drift check left to do.
    Triage(update::Triage, HashMap<ArtifactId, bool>),
    /// Per artifact, the steps its preview planned.
    Plans(HashMap<ArtifactId, StepPlans>),
}

impl Runner {
    /// What `job` (an update job) has to do.
    async fn update_work(&self, ctx: &Context, job: &Job) -> Result<UpdateWork, OpsError> {
        if let Some(plan) = job.plan_job {
            let rows = match self.store.get(plan).await {
                Ok(Some(plan)) => plan.result.unwrap_or_default(),
                Ok(None) => serde_json::Value::Null,
                Err(e) => {
                    tracing::warn!("cannot read plan job {plan}: {e}");
                    serde_json::Value::Null
                }
            };
            let plans = rows
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| {
                    let id: ArtifactId = row.get("id")?.as_str()?.parse().ok()?;
                    Some((id, StepPlans::of_row(row)))
                })
                .collect();
            return Ok(UpdateWork::Plans(plans));
        }
        let known: HashMap<ArtifactId, bool> = update::artifacts(ctx, &job.collection, None)?
            .into_iter()
            .filter(|(id, _)| job.artifact_ids.contains(id))
            .collect();
        let ids: Vec<(ArtifactId, bool)> = job
            .artifact_ids
            .iter()
            .filter_map(|id| Some((id.clone(), *known.get(id)?)))
            .collect();
        let projects = job
            .update
            .as_ref()
            .map(|u| u.projects.clone())
            .unwrap_or_default();
        let triage = update::triage(ctx, &job.collection, &ids, &projects)?;
        Ok(UpdateWork::Triage(triage, known))
    }
}

/// Updates (or plans) one artifact of an update job: its upstream step, then each of the job's
/// projects where it is deployed; the report is its [`UpdateRow`], with a step per project.
async fn update_one(
    ctx: &Context,
    job: &Job,
    id: &ArtifactId,
    work: &UpdateWork,
) -> Result<Done, OpsError> {
    let scope = update::Scope {
        collection: &job.collection,
        strategy: job.strategy,
    };
    let (todo, plans) = match work {
        UpdateWork::Triage(triage, known) => {
            if !known.contains_key(id) {
                return Err(OpsError::NotInCollection {
                    id: id.clone(),
                    collection: job.collection.clone(),
                });
            }
            (triage.of(id), None)
        }
        UpdateWork::Plans(plans) => match plans.get(id) {
            Some(plan) => (plan.work(), Some(plan)),
            None => return Err(OpsError::NotPlanned { id: id.clone() }),
        },
    };
    let steps = update::update_artifact(ctx, &scope, id, &todo, job.dry_run, plans).await;
    let row = UpdateRow::of(id, &steps, !job.dry_run);
    let conflict = steps
        .iter()
        .filter_map(update::Step::report)
        .any(|r| r.outcome == Outcome::Conflict);
    let failed = row.result == "error" || (!job.dry_run && row.result == "diverged");
    let line = if row.detail.is_empty() {
        row.result.clone()
    } else {
        format!("{}: {}", row.result, row.detail)
    };
    Ok(Done {
        report: serde_json::to_value(&row).unwrap_or(serde_json::Value::Null),
        conflict,
        failed,
        line,
    })
}

/// Settles the pending merge of one artifact as a resolve job asks, and applies it when
/// nothing is left undecided.
async fn resolve_one(ctx: &Context, job: &Job, id: &ArtifactId) -> Result<Done, OpsError> {
    let params = job.resolve.clone().unwrap_or_default();
    let project = job.project_path.as_deref();
    let collection = job.collection.as_str();
    if id.kind.is_fragment() {
        let Some(project) = project else {
            return Err(OpsError::NoPendingMerge { id: id.clone() });
        };
        return resolve_fragment(ctx, &params, id, collection, project).await;
    }
    let Some(merge) = conflicts::find(&ctx.home, id, collection, project)? else {
        return Err(OpsError::NoPendingMerge { id: id.clone() });
    };
    // Checked before the first write: choices made on another merge are not applied.
    merge.expect_revision(params.expected_revision.as_deref())?;
    if params.fork {
        let done = conflicts::fork_merge(ctx, id, collection, project).await?;
        let fork = done
            .fork
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Ok(Done {
            report: serde_json::json!({
                "id": id, "resolved": merge.files.iter().map(|f| &f.path).collect::<Vec<_>>(),
                "unresolved": [], "applied": true, "result": done.result, "fork": done.fork,
                "warnings": done.warnings
            }),
            conflict: false,
            failed: false,
            line: format!("kept both: the source's version is now {fork}"),
        });
    }
    let mut decided = Vec::new();
    if params.reuse {
        for r in conflicts::reuse_recorded(ctx, id, collection, project).await? {
            decided.push(r.path);
        }
    }
    for (path, choice) in &params.files {
        conflicts::resolve_file(ctx, id, collection, project, path, (*choice).into()).await?;
        decided.push(path.clone());
    }
    for (path, sides) in &params.hunks {
        let text = settled(&merge, id, path, sides)?;
        let custom = Resolution::Hunks(text.into_bytes());
        conflicts::resolve_file(ctx, id, collection, project, path, custom).await?;
        decided.push(path.clone());
    }
    if let Some(choice) = params.strategy {
        for path in merge.unresolved()? {
            if params.files.contains_key(&path) || params.hunks.contains_key(&path) {
                continue;
            }
            conflicts::resolve_file(ctx, id, collection, project, &path, choice.into()).await?;
            decided.push(path);
        }
    }
    let left = match conflicts::find(&ctx.home, id, collection, project)? {
        Some(m) => m.unresolved()?,
        None => Vec::new(),
    };
    if !left.is_empty() || !params.apply {
        let line = if left.is_empty() {
            "every file decided; not applied".to_owned()
        } else {
            format!("still undecided: {}", left.join(", "))
        };
        return Ok(Done {
            report: serde_json::json!({
                "id": id, "resolved": decided, "unresolved": left, "applied": false
            }),
            conflict: !left.is_empty(),
            failed: false,
            line,
        });
    }
    let done = conflicts::continue_merge(ctx, id, collection, project).await?;
    Ok(Done {
        report: serde_json::json!({
            "id": id, "resolved": decided, "unresolved": [], "applied": true,
            "result": done.result, "warnings": done.warnings
        }),
        conflict: false,
        failed: false,
        line: "resolved and applied".to_owned(),
    })
}

/// A resolve job of a hook's or MCP server's pending merge: each clash named in `files` decided,
/// `strategy` for the rest, then the merge written when nothing is left and `apply` says so.
async fn resolve_fragment(
    ctx: &Context,
    params: &crate::jobs::store::ResolveParams,
    id: &ArtifactId,
    collection: &str,
    project: &std::path::Path,
) -> Result<Done, OpsError> {
    use crate::engine::json_merge::Pick;
    use crate::ops::conflicts::FileChoice;
    use crate::ops::fragments;
    let Some(merge) = fragments::pending_merge(ctx, id, project)? else {
        return Err(OpsError::NoPendingMerge { id: id.clone() });
    };
    merge.expect_revision(params.expected_revision.as_deref())?;
    let pick = |c: FileChoice| match c {
        FileChoice::Ours => Pick::Ours,
        FileChoice::Theirs => Pick::Theirs,
    };
    let mut decided = Vec::new();
    for (label, choice) in &params.files {
        let choice = Some((label.as_str(), pick(*choice)));
        fragments::resolve(ctx, id, collection, project, choice, false).await?;
        decided.push(label.clone());
    }
    if let Some(choice) = params.strategy {
        for label in merge.unresolved() {
            if params.files.contains_key(&label) {
                continue;
            }
            let choice = Some((label.as_str(), pick(choice)));
            fragments::resolve(ctx, id, collection, project, choice, false).await?;
            decided.push(label);
        }
    }
    let left = fragments::pending_merge(ctx, id, project)?
        .map(|m| m.unresolved())
        .unwrap_or_default();
    if !left.is_empty() || !params.apply {
        let line = if left.is_empty() {
            "every clash decided; not applied".to_owned()
        } else {
            format!("still undecided: {}", left.join(", "))
        };
        return Ok(Done {
            report: serde_json::json!({
                "id": id, "resolved": decided, "unresolved": left, "applied": false
            }),
            conflict: !left.is_empty(),
            failed: false,
            line,
        });
    }
    let report = fragments::resolve(ctx, id, collection, project, None, true).await?;
    // The file changed since the view: the merge is pending again, with its new clashes.
    let conflict = report.outcome == Outcome::Conflict;
    let left = if conflict {
        fragments::pending_merge(ctx, id, project)?
            .map(|m| m.unresolved())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Done {
        report: serde_json::json!({
            "id": id, "resolved": decided, "applied": !conflict, "unresolved": left,
            "result": report.result, "warnings": report.warnings
        }),
        conflict,
        failed: false,
        line: if conflict {
            "the file changed: decide the clashes again".to_owned()
        } else {
            "resolved and applied".to_owned()
        },
    })
}

/// The text of a conflicted file of `merge` with its hunks settled by `choices`.
pub fn settled(
    merge: &conflicts::PendingMerge,
    id: &ArtifactId,
    path: &str,
    choices: &[HunkChoice],
) -> Result<String, OpsError> {
    let Some(hunks) = merge.hunks(path)? else {
        return Err(OpsError::NotInMerge {
            id: id.clone(),
            path: path.to_owned(),
            files: "it has no text to choose hunks in".to_owned(),
        });
    };
    let conflicts = hunks
        .iter()
        .filter(|h| matches!(h, Hunk::Conflict { .. }))
        .count();
    match settle_hunks(&hunks, choices) {
        Some(text) if choices.len() == conflicts => Ok(text),
        _ => Err(OpsError::HunkChoices {
            id: id.clone(),
            path: path.to_owned(),
            conflicts,
            given: choices.len(),
        }),
    }
}

fn report_json(report: &SyncReport) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or(serde_json::Value::Null)
}

/// Failures worth one more try: I/O hiccups, a lock held by another writer, a target that
/// changed under the sync (fetches retry on their own, in `storage::fetch`).
fn is_transient(e: &OpsError) -> bool {
    matches!(
        e,
        OpsError::Io { .. }
            | OpsError::Apply(crate::storage::apply::ApplyError::Locked { .. })
            | OpsError::Apply(crate::storage::apply::ApplyError::Io { .. })
            | OpsError::TargetChanged { .. }
    )
}
