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

pub mod commit;
pub mod fork;
pub mod killswitch;
pub mod plan;
pub mod request;
pub mod sides;

pub use request::{
    Direction, Outcome, Phase, PhaseHook, Planned, Strategy, SyncReport, SyncRequest,
};
pub use sides::upstream_files;

use std::path::Path;

use crate::model::artifact::ArtifactId;
use crate::model::files::ArtifactFiles;
use crate::ops::conflicts;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::sync::commit::{Commit, commit, sync_event};
use crate::ops::sync::fork::Fork;
use crate::ops::sync::plan::{Plan, labels, plan};
use crate::ops::sync::sides::{Sides, load_sides, record_sides};
use crate::ops::tier::Tier;
use crate::storage::apply::{self, ArtifactLock};
use crate::storage::versions::ChangeOrigin;

/// Runs `fut` inside `span`, recording how long it took as `duration_ms`.
pub(crate) async fn timed<T>(span: tracing::Span, fut: impl std::future::Future<Output = T>) -> T {
    use tracing::Instrument as _;
    let started = std::time::Instant::now();
    let out = fut.instrument(span.clone()).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("duration_ms", ms);
    span.in_scope(|| tracing::debug!(duration_ms = ms, "phase done"));
    out
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
///
/// An applying sync of an artifact locked by the kill-switch is refused
/// ([`OpsError::SyncLocked`]); its end is counted toward that lock ([`killswitch`]).
pub async fn sync(ctx: &Context, req: &SyncRequest<'_>) -> Result<SyncReport, OpsError> {
    sync_against(ctx, req, None).await
}

/// Plans (never applies) the collection → `project` step of `id` as it would be once the
/// collection holds `collection_as`: the result a planned upstream step showed
/// ([`SyncReport::planned_files`]), not yet written. A fleet update's dry run shows with it
/// what each project would take, instead of stopping after the upstream step.
pub async fn plan_after(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: &Path,
    strategy: Strategy,
    collection_as: &ArtifactFiles,
) -> Result<SyncReport, OpsError> {
    let req = SyncRequest {
        id,
        direction: Direction::CollectionToProject,
        project: Some(project),
        collection,
        strategy,
        dry_run: true,
        on_phase: None,
        expect: None,
    };
    sync_against(ctx, &req, Some(collection_as)).await
}

/// [`sync`], with the collection's copy taken as `collection_as` (dry runs only).
async fn sync_against(
    ctx: &Context,
    req: &SyncRequest<'_>,
    collection_as: Option<&ArtifactFiles>,
) -> Result<SyncReport, OpsError> {
    debug_assert!(collection_as.is_none() || req.dry_run);
    if req.id.kind.is_fragment() && req.direction != Direction::UpstreamToCollection {
        let started = std::time::Instant::now();
        let result = crate::ops::fragments::sync(ctx, req, collection_as).await;
        log_end(ctx, req, &result, started.elapsed());
        return result;
    }
    let started = std::time::Instant::now();
    let result = if req.dry_run {
        replanning(ctx, req, collection_as).await
    } else {
        match killswitch::refuse_if_locked(ctx, req.collection, req.id).await {
            Err(e) => Err(e),
            Ok(()) => {
                let result = replanning(ctx, req, None).await;
                killswitch::count(ctx, req.collection, req.id, &result).await;
                result
            }
        }
    };
    log_end(ctx, req, &result, started.elapsed());
    result
}

/// One line per sync with the fields the logs are searched by: operation, artifact, direction,
/// result (the outcome, or the error's kind), duration, auto_merge, conflict_files.
fn log_end(
    ctx: &Context,
    req: &SyncRequest<'_>,
    result: &Result<SyncReport, OpsError>,
    took: std::time::Duration,
) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let auto_merge = crate::storage::config::Config::load(&ctx.home)
        .map(|c| c.sync.auto_merge)
        .unwrap_or(true);
    let duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(r) => {
            let conflicted: Vec<&str> = r
                .files
                .iter()
                .filter(|f| f.conflict.is_some())
                .map(|f| f.path.as_str())
                .collect();
            tracing::debug!(
                operation = if req.dry_run { "plan" } else { "sync" },
                artifact = %req.id,
                direction = req.direction.as_str(),
                strategy = req.strategy.as_str(),
                result = r.outcome.as_str(),
                applied = r.applied,
                duration_ms,
                auto_merge,
                conflict_files = conflicted.len(),
                conflicted = %conflicted.join(","),
                "sync ended"
            );
        }
        Err(e) => tracing::debug!(
            operation = if req.dry_run { "plan" } else { "sync" },
            artifact = %req.id,
            direction = req.direction.as_str(),
            strategy = req.strategy.as_str(),
            result = "error",
            error_kind = ?e.kind(),
            duration_ms,
            auto_merge,
            error = %e,
            "sync ended"
        ),
    }
}

async fn replanning(
    ctx: &Context,
    req: &SyncRequest<'_>,
    collection_as: Option<&ArtifactFiles>,
) -> Result<SyncReport, OpsError> {
    let mut replans = 0;
    loop {
        match sync_once(ctx, req, collection_as).await {
            Err(OpsError::TargetChanged { .. }) if replans < REPLANS => {
                replans += 1;
                tracing::debug!(id = %req.id, replans, "target changed under the plan; planning again");
            }
            result => return result,
        }
    }
}

async fn sync_once(
    ctx: &Context,
    req: &SyncRequest<'_>,
    collection_as: Option<&ArtifactFiles>,
) -> Result<SyncReport, OpsError> {
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
        Some(crate::ops::tier::lock_tier(ctx, &target, req.id)?)
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
    let sides = timed(
        req.phase(Phase::Fetch)?,
        load_sides(ctx, req, collection_as.filter(|_| req.dry_run)),
    )
    .await?;
    let labels = labels(req.direction, &sides);
    let mut plan = timed(req.phase(Phase::Merge)?, async {
        plan(&sides, req.strategy, labels.as_labels())
    })
    .await?;
    // With `sync.auto_merge` off, a merge of changes on both sides is never applied on its
    // own: it waits as a pending merge (its clean result in `files/`) to be reviewed and applied
    // with `resolve --continue`.
    if plan.outcome == Outcome::Merged
        && !crate::storage::config::Config::load(&ctx.home)?
            .sync
            .auto_merge
    {
        plan.outcome = Outcome::Conflict;
    }
    // What the target would take: nothing when up to date, the source's version when the
    // result is not known yet (a conflict) or not planned (diverged: if theirs is chosen).
    let bump = match (plan.outcome, plan.result.as_ref()) {
        (Outcome::UpToDate, _) => crate::engine::bump::Suggestion::default(),
        (Outcome::Conflict, _) | (_, None) => crate::engine::bump::suggest(
            req.id.kind,
            sides.target.as_ref().unwrap_or(&ArtifactFiles::default()),
            &sides.source,
        ),
        (_, Some(result)) => crate::engine::bump::suggest(
            req.id.kind,
            sides.target.as_ref().unwrap_or(&ArtifactFiles::default()),
            result,
        ),
    };
    let mut report = SyncReport {
        id: req.id.clone(),
        direction: req.direction,
        project: req.project.map(Path::to_owned),
        strategy: req.strategy,
        outcome: plan.outcome,
        base: sides.base_hash,
        source: sides.source_hash,
        target: sides.target_hash,
        result: plan.result.as_ref().map(ArtifactFiles::content_hash),
        files: plan.files.clone(),
        bump,
        applied: false,
        pending: None,
        fork: None,
        warnings: Vec::new(),
        planned_files: None,
    };
    // An apply that must be its preview's plan checks it before the first write (the target's
    // lock is held, so what it checks is what it writes over).
    if let Some(planned) = req.expect
        && !req.dry_run
        && let Some(what) = planned.differs(&crate::ops::sync::request::Planned::of(&report))
    {
        return Err(OpsError::PlanChanged {
            id: req.id.clone(),
            what,
        });
    }
    if plan.outcome == Outcome::Forked {
        report.fork = Some(fork::choose(ctx, &fork_of(req, &sides))?);
    }
    let Some(held) = held else {
        // A dry run that changes the target keeps what it would write, for a next step to
        // plan against.
        if !matches!(plan.outcome, Outcome::UpToDate | Outcome::Conflict) {
            report.planned_files = plan.result.map(std::sync::Arc::new);
        }
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
            let event = sync_event(ctx, req, &sides, Outcome::UpToDate, &[]);
            let c = Commit::of(
                req,
                &sides,
                sides.target.as_ref(),
                ChangeOrigin::Sync,
                None,
                Some(event),
            );
            commit(ctx, &mut recorder, &c, &held).await?;
            report.base = Some(sides.source_hash);
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

/// The fork `req` makes of the source's version on `sides`.
fn fork_of<'a>(req: &'a SyncRequest<'a>, sides: &'a Sides) -> Fork<'a> {
    Fork {
        original: req.id,
        collection: req.collection,
        direction: req.direction,
        project: req.project,
        source: &sides.source,
        source_hash: sides.source_hash,
        upstream: sides.upstream.as_ref(),
    }
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
    let mut event = sync_event(ctx, req, sides, plan.outcome, &report.files);
    if let Some(fork) = &report.fork {
        // Made before the baseline moves (see `fork`): a kill in between loses nothing.
        fork::place(ctx, &mut recorder, &fork_of(req, sides), fork).await?;
        event.detail = serde_json::json!({ "fork": fork.to_string() });
    }
    let origin = match plan.outcome {
        Outcome::Merged => ChangeOrigin::Merge,
        _ => ChangeOrigin::Sync,
    };
    let c = Commit::of(
        req,
        sides,
        plan.result.as_ref(),
        origin,
        target_version,
        Some(event),
    );
    commit(ctx, &mut recorder, &c, held).await?;
    report.applied = true;
    report.warnings = recorder.finish().await;
    Ok(report)
}
