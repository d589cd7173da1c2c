//! `skillmeat update`: artifacts from their upstreams, and into one project, several or every
//! registered one, many at once, planned as one (see [`update`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops::marketplace::{self, PluginChange};
use skillmeat_core::ops::sync::{Outcome, SyncReport};
use skillmeat_core::ops::update::{self, Scope, Step, Triage, UpdateRow};
use skillmeat_core::ops::{Context, conflicts};
use skillmeat_core::storage::records::DeploymentFile;

use crate::cli::apply::{ApplyArgs, StrategyArg, should_apply};
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
    /// Also bring the updates into this project (artifacts deployed there). Give it several
    /// times to update several projects in one run, with one plan and one summary.
    #[arg(long, value_name = "DIR")]
    pub project: Vec<PathBuf>,
    /// Also bring the updates into every registered project (every project something was
    /// deployed into, the user scope included), with one plan grouped by project.
    #[arg(long, conflicts_with = "project")]
    pub all_projects: bool,
    /// The user scope too: ~/.claude, which Claude Code reads in every project (Claude Code's
    /// own folders there — projects/, plugins/, todos/, history — are never touched).
    #[arg(long)]
    pub user: bool,
    /// After applying, settle each conflict left whose every conflicting hunk was resolved
    /// before, byte for byte (say in the first project of the run, with `resolve`), the same
    /// way, and apply it. Other conflicts stay pending; nothing is reused silently: each is
    /// named with where its resolution came from.
    #[arg(long)]
    pub reuse: bool,
    /// How many artifacts to update at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

/// The settings of one `update` run, shared by its plan and its application.
pub struct UpdateRun<'a> {
    pub ctx: &'a Context,
    pub scope: Scope<'a>,
    /// What the drift check left to do.
    pub triage: &'a Triage,
    pub jobs: usize,
    pub quiet: bool,
}

/// Whether a planned row has work for the apply (see [`update::needs_apply`]).
fn needs_apply(row: &UpdateRow) -> bool {
    row.result != "error" && row.reports.iter().any(update::needs_apply)
}

/// Applies `plan` (the dry run of `update_many` over `ids`): only the artifacts it found work
/// for are run again, now writing; the rows of the others stay as planned. With the run's one
/// fetch, what the plan showed is what is applied.
pub fn apply_planned(
    run: &UpdateRun<'_>,
    ids: &[ArtifactId],
    plan: Vec<UpdateRow>,
) -> Vec<UpdateRow> {
    let idle = |r: &UpdateRow| !needs_apply(r);
    let todo: Vec<ArtifactId> = ids
        .iter()
        .filter(|id| plan.iter().any(|r| &r.id == *id && !idle(r)))
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

/// Runs [`update::update_artifact`] over `ids` with `jobs` workers, showing a progress bar once
/// it takes over a second on a terminal. An artifact the drift check settled gets its row
/// without a sync.
pub fn update_many(run: &UpdateRun<'_>, ids: &[ArtifactId], dry_run: bool) -> Vec<UpdateRow> {
    let UpdateRun {
        ctx,
        scope,
        triage,
        jobs,
        quiet,
    } = *run;
    let mut rows: Vec<Option<UpdateRow>> = vec![None; ids.len()];
    let mut busy = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if triage.of(id).any() {
            busy.push((i, id));
        } else {
            rows[i] = Some(UpdateRow::of(id, &[], !dry_run));
        }
    }
    let queue = Mutex::new(busy.iter());
    let (tx, rx) = mpsc::channel();
    // The workers log inside the command's span, with its trace id.
    let span = tracing::Span::current();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(busy.len().max(1)) {
            let tx = tx.clone();
            let queue = &queue;
            let span = &span;
            s.spawn(move || {
                let _in_span = span.enter();
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some((i, id)) = next else {
                        break;
                    };
                    let work = triage.of(id);
                    let steps = runtime.block_on(update::update_artifact(
                        ctx, &scope, id, &work, dry_run, None,
                    ));
                    let row = UpdateRow::of(id, &steps, !dry_run);
                    if tx.send((*i, row)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(busy.len() as u64),
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
/// conflicted file (ours / theirs / edit) of each conflicted step and applies the merge; a
/// settled upstream step then goes on into the projects, as the apply would have. Steps left
/// undecided stay `conflict`.
fn prompt_conflicts(
    run: &UpdateRun<'_>,
    rows: Vec<UpdateRow>,
) -> Result<Vec<UpdateRow>, CommandError> {
    settle_conflicts(run, rows, &|runtime, id, report| {
        let finished = runtime.block_on(crate::cli::prompt::resolve_interactively(
            run.ctx,
            id,
            run.scope.collection,
            report
                .project
                .as_deref()
                .filter(|_| report.direction.needs_project()),
            report,
        ))?;
        Ok(finished.then(|| format!("{}: resolved at the prompt", report.direction)))
    })
}

/// `--reuse`: each conflict the apply left whose every conflicting hunk was resolved before,
/// byte for byte (in another project, or earlier), takes that resolution and is applied; any
/// other stays pending ([`conflicts::reuse_recorded`]).
fn reuse_conflicts(
    run: &UpdateRun<'_>,
    rows: Vec<UpdateRow>,
) -> Result<Vec<UpdateRow>, CommandError> {
    settle_conflicts(run, rows, &|runtime, id, report| {
        if id.kind.is_fragment() {
            return Ok(None);
        }
        let project = report
            .project
            .as_deref()
            .filter(|_| report.direction.needs_project());
        let collection = run.scope.collection;
        let reused = runtime
            .block_on(conflicts::reuse_recorded(run.ctx, id, collection, project))
            .map_err(ops_error)?;
        let left = conflicts::find(&run.ctx.home, id, collection, project)
            .map_err(ops_error)?
            .map(|m| m.unresolved())
            .transpose()
            .map_err(ops_error)?
            .unwrap_or_default();
        if reused.is_empty() || !left.is_empty() {
            return Ok(None);
        }
        runtime
            .block_on(conflicts::continue_merge(run.ctx, id, collection, project))
            .map_err(ops_error)?;
        let places: Vec<String> = reused
            .iter()
            .map(|r| {
                r.resolved_in.as_ref().map_or_else(
                    || "the collection".to_owned(),
                    |p| escaped(&p.display().to_string()).into_owned(),
                )
            })
            .collect();
        Ok(Some(format!(
            "{}: resolved the same way as in {}",
            report.direction,
            places.join(", ")
        )))
    })
}

/// Whether (and how, in words) one conflicted step was settled and applied.
type Settle<'s> = dyn Fn(&tokio::runtime::Runtime, &ArtifactId, &SyncReport) -> Result<Option<String>, CommandError>
    + 's;

/// Settles each conflicted step of `rows` with `settle`; a settled upstream step then goes on
/// into the projects, as the apply would have.
fn settle_conflicts(
    run: &UpdateRun<'_>,
    rows: Vec<UpdateRow>,
    settle: &Settle<'_>,
) -> Result<Vec<UpdateRow>, CommandError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("could not start the async runtime: {e}")))?;
    let mut out = Vec::with_capacity(rows.len());
    for mut row in rows {
        let conflicted: Vec<SyncReport> = row
            .reports
            .iter()
            .filter(|r| r.has_conflict())
            .cloned()
            .collect();
        if conflicted.is_empty() || row.result != "conflict" {
            out.push(row);
            continue;
        }
        let mut settled = Vec::new();
        let mut open = Vec::new();
        let mut notes = Vec::new();
        for report in &conflicted {
            match settle(&runtime, &row.id, report)? {
                Some(note) => {
                    settled.push(report.clone());
                    notes.push(note);
                }
                None => open.push(report.project.clone()),
            }
        }
        if settled.is_empty() {
            out.push(row);
            continue;
        }
        // A settled upstream step changed the collection: every project where the artifact is
        // deployed takes it now, as the apply would have (but not one still in conflict).
        let mut rest = Vec::new();
        if settled.iter().any(|r| !r.direction.needs_project()) {
            let mut work = run.triage.of(&row.id).everywhere(false);
            work.deployed
                .retain(|(p, _)| !open.contains(&Some(p.clone())));
            rest = runtime.block_on(update::update_artifact(
                run.ctx, &run.scope, &row.id, &work, false, None,
            ));
        }
        let rest: Vec<Step> = rest
            .into_iter()
            .filter(|s| s.report().is_none_or(|r| r.outcome != Outcome::UpToDate))
            .collect();
        let mut detail = notes;
        let more = UpdateRow::of(&row.id, &rest, true);
        if !more.detail.is_empty() {
            detail.push(more.detail.clone());
        }
        row.result = if !open.is_empty() {
            "conflict".to_owned()
        } else if matches!(more.result.as_str(), "conflict" | "diverged" | "error") {
            more.result.clone()
        } else {
            "resolved".to_owned()
        };
        row.detail = detail.join("; ");
        row.steps.extend(more.steps);
        row.reports.extend(more.reports);
        out.push(row);
    }
    Ok(out)
}

/// The summary table: one row per artifact.
fn print_rows(rows: &[UpdateRow]) {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.result.clone(),
                bump_text(r.bump),
                r.detail.clone(),
            ]
        })
        .collect();
    print_table(&["ARTIFACT", "RESULT", "BUMP", "DETAIL"], &table);
}

fn bump_text(bump: Bump) -> String {
    match bump {
        Bump::None => "-".to_owned(),
        b => b.to_string(),
    }
}

/// A project as the fleet table names it: the user scope as such, else its path.
fn project_label(project: Option<&Path>) -> String {
    match project {
        None => "(collection, from upstreams)".to_owned(),
        Some(p) if crate::cli::common::user_home().is_ok_and(|h| h == p) => {
            "user (~/.claude)".to_owned()
        }
        Some(p) => skillmeat_core::model::display::escaped(&p.display().to_string()).into_owned(),
    }
}

/// The fleet's table: one line per step that does something, grouped by project (the
/// collection's upstream steps first, then each project in the order given), the project
/// named on its group's first line; then a count per project.
fn print_fleet(rows: &[UpdateRow], projects: &[PathBuf]) {
    let mut groups: Vec<Option<&Path>> = vec![None];
    groups.extend(projects.iter().map(|p| Some(p.as_path())));
    let mut table = Vec::new();
    for group in &groups {
        let mut first = true;
        let mut push = |id: &ArtifactId, result: &str, bump: Bump, detail: &str| {
            let label = if first {
                project_label(*group)
            } else {
                String::new()
            };
            first = false;
            table.push(vec![
                label,
                id.to_string(),
                result.to_owned(),
                bump_text(bump),
                detail.to_owned(),
            ]);
        };
        for row in rows {
            let steps = row.steps.iter().filter(|s| s.project.as_deref() == *group);
            for step in steps.filter(|s| s.result != "up to date") {
                push(&row.id, &step.result, step.bump, &step.detail);
            }
            // An artifact a plugin gained or lost, or an error before any step: the collection's.
            if group.is_none() && row.steps.is_empty() && row.result != "up to date" {
                push(&row.id, &row.result, row.bump, &row.detail);
            }
        }
    }
    if table.is_empty() {
        println!(
            "Nothing to do: every artifact is up to date in the collection and in {} project(s).",
            projects.len()
        );
    } else {
        print_table(&["PROJECT", "ARTIFACT", "RESULT", "BUMP", "DETAIL"], &table);
    }
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
                steps: Vec::new(),
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

/// Plans and applies (as `update --yes` does, without plugins or prompts) `ids` across
/// `projects`: the triage, the plan, the apply of what the plan found to do.
pub fn plan_and_apply(
    ctx: &Context,
    scope: Scope<'_>,
    ids: &[(ArtifactId, bool)],
    projects: &[PathBuf],
    jobs: usize,
) -> Result<Vec<UpdateRow>, skillmeat_core::ops::OpsError> {
    let triage = update::triage(ctx, scope.collection, ids, projects)?;
    let run = UpdateRun {
        ctx,
        scope,
        triage: &triage,
        jobs,
        quiet: true,
    };
    let names: Vec<ArtifactId> = ids.iter().map(|(id, _)| id.clone()).collect();
    let plan = update_many(&run, &names, true);
    Ok(apply_planned(&run, &names, plan))
}

/// The projects a run updates: those given, every registered one, and the user scope.
fn chosen_projects(
    ctx: &Context,
    args: &UpdateArgs,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<PathBuf>, CommandError> {
    let mut projects = if args.all_projects {
        runtime
            .block_on(skillmeat_core::ops::links::registered_projects(&ctx.home))
            .map_err(ops_error)?
            .into_iter()
            // Forgotten by every artifact, a registered project has nothing to update; one
            // that was deleted or moved is kept, and reported.
            .filter(|p| !p.is_dir() || DeploymentFile::path_in(p).is_file())
            .collect()
    } else {
        args.project.clone()
    };
    for p in &args.project {
        if !p.is_dir() {
            return Err(CommandError::usage(format!(
                "project folder {} does not exist",
                p.display()
            )));
        }
    }
    if args.user {
        let home = crate::cli::common::user_home()?;
        let same = |p: &PathBuf| p.canonicalize().ok() == home.canonicalize().ok();
        if !projects.iter().any(same) {
            projects.push(home);
        }
    }
    // One project given twice (or by two spellings) is updated once.
    let mut seen = std::collections::HashSet::new();
    projects.retain(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));
    Ok(projects)
}

pub fn update_command(home: &Path, args: UpdateArgs) -> Result<ExitCode, CommandError> {
    let mut ctx = context(home)?;
    // Each upstream is fetched once for the plan and the apply of every artifact.
    ctx.fetch.run = Some(skillmeat_core::storage::fetch::FetchRun::default());
    let collection = args.collection.collection.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start the async runtime: {e}")))?;
    let ids = update::artifacts(&ctx, &collection, args.id.as_ref()).map_err(ops_error)?;
    let projects = chosen_projects(&ctx, &args, &runtime)?;
    let fleet = args.all_projects || projects.len() > 1;
    let strategy = args.apply.strategy(home)?.core();
    // With --all, each plugin is read again from its marketplace: what it gained, lost or
    // moved is part of the plan, and applied first.
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
    // One drift check settles every step with nothing to do, without a sync.
    let mut triage = update::triage(&ctx, &collection, &ids, &projects).map_err(ops_error)?;
    // A moved artifact is updated from its new spec once the move is applied.
    for c in planned_changes.iter().filter(|c| c.change == "moved") {
        if let Some(id) = &c.id
            && let Some((_, up)) = ids.iter().find(|(i, _)| i == id)
        {
            let work = triage.work.entry(id.clone()).or_default();
            work.upstream = *up;
        }
    }
    let run = UpdateRun {
        ctx: &ctx,
        scope: Scope {
            collection: &collection,
            strategy,
        },
        triage: &triage,
        jobs: usize::from(args.jobs),
        quiet: args.apply.output.json,
    };
    let names: Vec<ArtifactId> = ids.iter().map(|(id, _)| id.clone()).collect();
    let mut plan = update_many(&run, &names, true);
    mark_moved(&mut plan, &planned_changes);
    // Also a run whose only work is a lagging baseline: a rerun after a kill must finish it.
    let pending_work = plan.iter().any(needs_apply) || planned_changes.iter().any(is_work);
    let show = |rows: &[UpdateRow], changes: &[PluginChange]| {
        let all: Vec<UpdateRow> = rows.iter().cloned().chain(change_rows(changes)).collect();
        if fleet {
            print_fleet(&all, &projects);
        } else {
            print_rows(&all);
        }
        plugin_notes(changes);
    };
    let project_notes = || {
        for (p, why) in &triage.problems {
            eprintln!("project {}: {}", p.display(), escaped(why));
        }
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
        let names: Vec<ArtifactId> = names.iter().filter(|id| !gone(id)).cloned().collect();
        plan.retain(|r| !gone(&r.id));
        (apply_planned(&run, &names, plan), changes)
    } else {
        if !args.apply.output.json && pending_work && !args.apply.dry_run {
            project_notes();
            println!("Not applied: pass --yes to apply (or run on a terminal to be asked).");
            return Ok(ExitCode::SUCCESS);
        }
        (plan, planned_changes)
    };
    let asking = args.apply.strategy(home)? == StrategyArg::Prompt
        && !args.apply.output.json
        && std::io::stdin().is_terminal();
    let rows = if args.reuse && rows.iter().any(|r| r.result == "conflict") {
        reuse_conflicts(&run, rows)?
    } else {
        rows
    };
    let rows = if asking && rows.iter().any(|r| r.result == "conflict") {
        prompt_conflicts(&run, rows)?
    } else {
        rows
    };
    if args.apply.output.json {
        plugin_notes(&changes);
    }
    project_notes();
    let rows: Vec<UpdateRow> = rows.into_iter().chain(change_rows(&changes)).collect();
    args.apply.output.emit_traced(&rows, |rows| {
        if fleet {
            print_fleet(rows, &projects);
        } else {
            print_rows(rows);
        }
        plugin_notes(&changes);
        print_summary(rows, fleet.then_some(projects.len()));
    })?;
    if rows.iter().any(|r| r.result == "conflict") {
        return Ok(ExitCode::from(EXIT_CONFLICT));
    }
    if !triage.problems.is_empty()
        || rows
            .iter()
            .any(|r| matches!(r.result.as_str(), "error" | "diverged"))
    {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The last line: how many artifacts (or, over a fleet, steps) ended each way.
fn print_summary(rows: &[UpdateRow], fleet: Option<usize>) {
    let results: Vec<&str> = match fleet {
        // Over a fleet, each step counts (an artifact settled without one, once).
        Some(_) => rows
            .iter()
            .flat_map(|r| {
                let steps: Vec<&str> = r.steps.iter().map(|s| s.result.as_str()).collect();
                if steps.is_empty() {
                    vec![r.result.as_str()]
                } else {
                    steps
                }
            })
            .collect(),
        None => rows.iter().map(|r| r.result.as_str()).collect(),
    };
    let count = |what: &str| results.iter().filter(|r| **r == what).count();
    let prefix = match fleet {
        Some(n) => format!("{} artifacts, {n} projects — steps: ", rows.len()),
        None => String::new(),
    };
    let planned = match count("planned") {
        0 => String::new(),
        n => format!("{n} planned, "),
    };
    // A divergence (no common base: only ours or theirs settles it) is named when there is one.
    let diverged = match count("diverged") {
        0 => String::new(),
        n => format!("{n} diverged, "),
    };
    println!(
        "{prefix}{planned}{} up to date, {} updated, {} auto-merged, {} resolved, {} added, {} removed, {} conflict, {diverged}{} error",
        count("up to date"),
        count("updated"),
        count("auto-merged"),
        count("resolved"),
        count("added"),
        count("removed"),
        count("conflict"),
        count("error")
    );
}
