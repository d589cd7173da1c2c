//! `skillmeat update`: artifacts from their upstreams (and into a project), many at once.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::marketplace::{self, PluginChange};
use skillmeat_core::ops::sync::{self, Direction, Outcome, Strategy, SyncReport};
use skillmeat_core::ops::{Context, OpsError};
use skillmeat_core::storage::collection::Manifest;
use skillmeat_core::storage::records::DeploymentFile;

use crate::cli::apply::{ApplyArgs, StrategyArg, should_apply, sync_request};
use crate::cli::common::{CollectionArg, EXIT_CONFLICT, context, ops_error};
use crate::cli::output::print_table;
use crate::error::CommandError;
use skillmeat_core::engine::bump::Bump;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Artifact id, `<type>:<name>`; or --all.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<ArtifactId>,
    /// Every artifact of the collection.
    #[arg(long)]
    pub all: bool,
    /// Also bring the updates into this project (artifacts deployed there).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// How many artifacts to update at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

/// One artifact's line in the `update` summary.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateRow {
    pub id: ArtifactId,
    /// `up to date`, `updated`, `auto-merged`, `resolved` (at the `--strategy prompt` prompt), `conflict`, `diverged`, `error`, or `planned`.
    pub result: String,
    /// The biggest semver bump any step suggests (`none` when nothing changes).
    pub bump: Bump,
    pub detail: String,
    pub reports: Vec<SyncReport>,
}

fn summarise(reports: &[SyncReport], applied: bool) -> (String, String) {
    let outcome = reports
        .iter()
        .map(|r| r.outcome)
        .max_by_key(|o| match o {
            Outcome::UpToDate => 0,
            Outcome::FastForward | Outcome::Overwritten | Outcome::KeptTarget | Outcome::Forked => {
                1
            }
            Outcome::Merged => 2,
            Outcome::Diverged => 3,
            Outcome::Conflict => 4,
        })
        .unwrap_or(Outcome::UpToDate);
    let result = match (outcome, applied) {
        (Outcome::UpToDate, _) => "up to date",
        (Outcome::Conflict, _) => "conflict",
        (Outcome::Diverged, _) => "diverged",
        (_, false) => "planned",
        (Outcome::Merged, true) => "auto-merged",
        (Outcome::Forked, true) => "forked",
        (_, true) => "updated",
    };
    let detail = reports
        .iter()
        .filter(|r| r.outcome != Outcome::UpToDate)
        .map(|r| {
            let outcome = match &r.fork {
                Some(fork) => format!("{} as {fork}", r.outcome.as_str()),
                None => r.outcome.as_str().to_owned(),
            };
            match r.bump.bump {
                Bump::None => format!("{}: {outcome}", r.direction),
                bump => format!("{}: {outcome} ({bump})", r.direction),
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    (result.to_owned(), detail)
}

/// Updates one artifact: from its upstream into the collection, then (with a project where it
/// is deployed) into the project. Stops at the first conflict or divergence.
async fn update_one(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    has_upstream: bool,
    strategy: Strategy,
    dry_run: bool,
) -> Result<Vec<SyncReport>, OpsError> {
    let mut steps = Vec::new();
    if has_upstream {
        steps.push(Direction::UpstreamToCollection);
    }
    if let Some(p) = project
        && DeploymentFile::load(p)?.get(id).is_some()
    {
        steps.push(Direction::CollectionToProject);
    }
    let mut reports = Vec::new();
    for direction in steps {
        let req = sync_request(
            id,
            direction,
            project.filter(|_| direction.needs_project()),
            collection,
            strategy,
            dry_run,
        );
        let report = sync::sync(ctx, &req).await?;
        let stop = matches!(report.outcome, Outcome::Conflict | Outcome::Diverged)
            // A dry run cannot show the project step after an upstream change it did not apply.
            || (dry_run && report.outcome != Outcome::UpToDate);
        reports.push(report);
        if stop {
            break;
        }
    }
    Ok(reports)
}

/// Runs `update_one` over `ids` with `jobs` workers, showing a progress bar once it takes
/// over a second on a terminal.
/// The settings of one `update` run, shared by its plan and its application.
pub struct UpdateRun<'a> {
    pub ctx: &'a Context,
    pub collection: &'a str,
    pub project: Option<&'a Path>,
    pub strategy: Strategy,
    pub jobs: usize,
    pub quiet: bool,
}

/// Whether a planned row has work for the apply: anything but up to date or an error, and an
/// up-to-date row whose copy already holds the source while its baseline lags behind (a run
/// killed between install and records), where the apply moves the baseline. Left behind, the
/// next merge would use an older base and bring back what the upstream removed since.
fn needs_apply(row: &UpdateRow) -> bool {
    let lagging = |r: &SyncReport| r.target == Some(r.source) && r.base != Some(r.source);
    match row.result.as_str() {
        "error" => false,
        "up to date" => row.reports.iter().any(lagging),
        _ => true,
    }
}

/// Applies `plan` (the dry run of `update_many` over `ids`): only the artifacts it found work
/// for are run again, now writing; the rows of the others stay as planned. With the run's one
/// fetch, what the plan showed is what is applied.
pub fn apply_planned(
    run: &UpdateRun<'_>,
    ids: &[(ArtifactId, bool)],
    plan: Vec<UpdateRow>,
) -> Vec<UpdateRow> {
    let idle = |r: &UpdateRow| !needs_apply(r);
    let todo: Vec<(ArtifactId, bool)> = ids
        .iter()
        .filter(|(id, _)| plan.iter().any(|r| &r.id == id && !idle(r)))
        .cloned()
        .collect();
    let mut applied = update_many(run, &todo, false).into_iter();
    plan.into_iter()
        .map(|row| {
            if idle(&row) {
                row
            } else {
                applied.next().unwrap_or(row)
            }
        })
        .collect()
}

pub fn update_many(
    run: &UpdateRun<'_>,
    ids: &[(ArtifactId, bool)],
    dry_run: bool,
) -> Vec<UpdateRow> {
    let UpdateRun {
        ctx,
        collection,
        project,
        strategy,
        jobs,
        quiet,
    } = *run;
    let queue = Mutex::new(ids.iter().enumerate());
    let (tx, rx) = mpsc::channel();
    let mut rows: Vec<Option<UpdateRow>> = vec![None; ids.len()];
    // The workers log inside the command's span, with its trace id.
    let span = tracing::Span::current();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(ids.len().max(1)) {
            let tx = tx.clone();
            let queue = &queue;
            let span = &span;
            scope.spawn(move || {
                let _in_span = span.enter();
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((i, (id, has_upstream))) = next else {
                        break;
                    };
                    let result = runtime.block_on(update_one(
                        ctx,
                        id,
                        collection,
                        project,
                        *has_upstream,
                        strategy,
                        dry_run,
                    ));
                    let row = match result {
                        Ok(reports) => {
                            let (result, detail) = summarise(&reports, !dry_run);
                            UpdateRow {
                                id: id.clone(),
                                result,
                                bump: reports
                                    .iter()
                                    .map(|r| r.bump.bump)
                                    .max()
                                    .unwrap_or_default(),
                                detail,
                                reports,
                            }
                        }
                        Err(e) => UpdateRow {
                            id: id.clone(),
                            result: "error".to_owned(),
                            bump: Bump::None,
                            detail: e.to_string(),
                            reports: Vec::new(),
                        },
                    };
                    if tx.send((i, row)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(ids.len() as u64),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let start = Instant::now();
        let mut shown = false;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok((i, row)) => {
                    bar.set_message(row.id.to_string());
                    bar.inc(1);
                    rows[i] = Some(row);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if !shown
                && !quiet
                && start.elapsed() > Duration::from_secs(1)
                && std::io::stderr().is_terminal()
            {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown = true;
            }
        }
        bar.finish_and_clear();
    });
    rows.into_iter().flatten().collect()
}

/// `--strategy prompt` on a terminal: for each artifact the apply left in conflict, asks per
/// conflicted file (ours / theirs / edit) and applies the merge; a settled upstream step then
/// goes on into the project, as the apply would have. Rows left undecided stay `conflict`.
fn prompt_conflicts(
    run: &UpdateRun<'_>,
    ids: &[(ArtifactId, bool)],
    rows: Vec<UpdateRow>,
) -> Result<Vec<UpdateRow>, CommandError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("could not start the prompt: {e}")))?;
    let mut out = Vec::with_capacity(rows.len());
    for mut row in rows {
        let conflicted = row.reports.iter().find(|r| r.has_conflict()).cloned();
        let Some(report) = conflicted.filter(|_| row.result == "conflict") else {
            out.push(row);
            continue;
        };
        let project = run.project.filter(|_| report.direction.needs_project());
        let finished = runtime.block_on(crate::cli::prompt::resolve_interactively(
            run.ctx,
            &row.id,
            run.collection,
            project,
            &report,
        ))?;
        if !finished {
            out.push(row);
            continue;
        }
        // The settled step is up to date now; what follows it (the project) runs as planned.
        let has_upstream = ids.iter().any(|(id, up)| id == &row.id && *up);
        let rest = runtime.block_on(update_one(
            run.ctx,
            &row.id,
            run.collection,
            run.project,
            has_upstream,
            run.strategy,
            false,
        ));
        row.result = "resolved".to_owned();
        row.detail = format!("{}: resolved at the prompt", report.direction);
        match rest {
            Ok(reports) => {
                let more: Vec<SyncReport> = reports
                    .into_iter()
                    .filter(|r| r.outcome != Outcome::UpToDate)
                    .collect();
                if !more.is_empty() {
                    let (result, detail) = summarise(&more, true);
                    row.detail = format!("{}; {detail}", row.detail);
                    if matches!(result.as_str(), "conflict" | "diverged") {
                        row.result = result;
                    }
                }
                row.reports.extend(more);
            }
            Err(e) => {
                row.result = "error".to_owned();
                row.detail = format!("{}; then: {e}", row.detail);
            }
        }
        out.push(row);
    }
    Ok(out)
}

/// The summary table: one row per artifact.
fn print_rows(rows: &[UpdateRow]) {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let bump = match r.bump {
                Bump::None => "-".to_owned(),
                b => b.to_string(),
            };
            vec![r.id.to_string(), r.result.clone(), bump, r.detail.clone()]
        })
        .collect();
    print_table(&["ARTIFACT", "RESULT", "BUMP", "DETAIL"], &table);
}

/// Whether a plugin change is work for the apply.
fn is_work(c: &PluginChange) -> bool {
    matches!(c.change, "added" | "removed" | "moved" | "renamed")
}

/// A moved artifact's plan row: it is updated from its new spec once the move is applied.
fn mark_moved(plan: &mut [UpdateRow], changes: &[PluginChange]) {
    for c in changes.iter().filter(|c| c.change == "moved") {
        if let Some(row) = plan.iter_mut().find(|r| Some(&r.id) == c.id.as_ref()) {
            if row.result == "up to date" {
                row.result = "planned".to_owned();
            }
            row.detail = if row.detail.is_empty() {
                c.detail.clone()
            } else {
                format!("{}; {}", c.detail, row.detail)
            };
        }
    }
}

/// The rows of the artifacts a plugin gained or lost (moves are on the artifact's own row).
fn change_rows(changes: &[PluginChange]) -> Vec<UpdateRow> {
    changes
        .iter()
        .filter(|c| c.change != "moved")
        .filter_map(|c| {
            Some(UpdateRow {
                id: c.id.clone()?,
                result: match (c.change, c.applied) {
                    ("added" | "removed", false) => format!("planned: {}", c.change),
                    (change, _) => change.to_owned(),
                },
                bump: Bump::None,
                detail: format!("{}: {}", c.plugin, c.detail),
                reports: Vec::new(),
            })
        })
        .collect()
}

/// What happened to whole plugins (renamed, gone from the marketplace, unreadable), on stderr.
fn plugin_notes(changes: &[PluginChange]) {
    for c in changes.iter().filter(|c| c.id.is_none()) {
        eprintln!("plugin {}: {}: {}", c.plugin, c.change, c.detail);
    }
}

pub fn update_command(home: &Path, mut args: UpdateArgs) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let mut ctx = context(home)?;
    // Each upstream is fetched once for the plan and the apply of every artifact.
    ctx.fetch.run = Some(skillmeat_core::storage::fetch::FetchRun::default());
    let collection = args.collection.collection.clone();
    let dir = ctx
        .home
        .collection_dir(&collection)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let manifest = Manifest::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let ids: Vec<(ArtifactId, bool)> = match &args.id {
        Some(id) => {
            let entry = manifest.get(id).ok_or_else(|| {
                ops_error(OpsError::NotInCollection {
                    id: id.clone(),
                    collection: collection.clone(),
                })
            })?;
            vec![(id.clone(), entry.upstream.is_some())]
        }
        None => manifest
            .artifacts
            .iter()
            .map(|e| (e.id.clone(), e.upstream.is_some()))
            .collect(),
    };
    if let Some(p) = &args.project
        && !p.is_dir()
    {
        return Err(CommandError::usage(format!(
            "project folder {} does not exist",
            p.display()
        )));
    }
    let project = args.project.as_deref();
    let strategy = args.apply.strategy(home)?.core();
    let jobs = usize::from(args.jobs);
    let quiet = args.apply.output.json;
    let run = UpdateRun {
        ctx: &ctx,
        collection: &collection,
        project,
        strategy,
        jobs,
        quiet,
    };
    // With --all, each plugin is read again from its marketplace: what it gained, lost or
    // moved is part of the plan, and applied first.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start the async runtime: {e}")))?;
    let follow = |apply: bool| -> Result<Vec<PluginChange>, CommandError> {
        if !args.all {
            return Ok(Vec::new());
        }
        runtime
            .block_on(marketplace::follow_plugins(&ctx, &collection, apply))
            .map_err(ops_error)
    };
    let planned_changes = follow(false)?;
    // What the plugin lost has no upstream left to update from: its row is the plugin's.
    let ids: Vec<(ArtifactId, bool)> = ids
        .into_iter()
        .filter(|(id, _)| {
            !planned_changes
                .iter()
                .any(|c| matches!(c.change, "removed" | "kept") && c.id.as_ref() == Some(id))
        })
        .collect();
    let mut plan = update_many(&run, &ids, true);
    mark_moved(&mut plan, &planned_changes);
    // Also a run whose only work is a lagging baseline: a rerun after a kill must finish it.
    let pending_work = plan.iter().any(needs_apply) || planned_changes.iter().any(is_work);
    let show = |rows: &[UpdateRow], changes: &[PluginChange]| {
        let all: Vec<UpdateRow> = rows.iter().cloned().chain(change_rows(changes)).collect();
        print_rows(&all);
        plugin_notes(changes);
    };
    // The plan is shown before the question, and is all a dry run or a script without --yes gets.
    if pending_work && !args.apply.output.json && !args.apply.yes && !args.apply.dry_run {
        show(&plan, &planned_changes);
    }
    let (rows, changes) = if pending_work && should_apply(&args.apply) {
        let changes = follow(true)?;
        // An artifact the plugin lost and that was removed has nothing left to update.
        let gone = |id: &ArtifactId| {
            changes
                .iter()
                .any(|c| c.change == "removed" && c.applied && c.id.as_ref() == Some(id))
        };
        let ids: Vec<(ArtifactId, bool)> =
            ids.iter().filter(|(id, _)| !gone(id)).cloned().collect();
        plan.retain(|r| !gone(&r.id));
        (apply_planned(&run, &ids, plan), changes)
    } else {
        if !args.apply.output.json && pending_work && !args.apply.dry_run {
            println!("Not applied: pass --yes to apply (or run on a terminal to be asked).");
            return Ok(ExitCode::SUCCESS);
        }
        (plan, planned_changes)
    };
    let asking = args.apply.strategy(home)? == StrategyArg::Prompt
        && !args.apply.output.json
        && std::io::stdin().is_terminal();
    let rows = if asking && rows.iter().any(|r| r.result == "conflict") {
        prompt_conflicts(&run, &ids, rows)?
    } else {
        rows
    };
    if args.apply.output.json {
        plugin_notes(&changes);
    }
    let rows: Vec<UpdateRow> = rows.into_iter().chain(change_rows(&changes)).collect();
    args.apply.output.emit_traced(&rows, |rows| {
        print_rows(rows);
        plugin_notes(&changes);
        let count = |what: &str| rows.iter().filter(|r| r.result == what).count();
        println!(
            "{} up to date, {} updated, {} auto-merged, {} resolved, {} added, {} removed, {} conflict, {} error",
            count("up to date"),
            count("updated"),
            count("auto-merged"),
            count("resolved"),
            count("added"),
            count("removed"),
            count("conflict"),
            count("error")
        );
    })?;
    if rows.iter().any(|r| r.result == "conflict") {
        return Ok(ExitCode::from(EXIT_CONFLICT));
    }
    if rows
        .iter()
        .any(|r| matches!(r.result.as_str(), "error" | "diverged"))
    {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
