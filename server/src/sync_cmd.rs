//! The commands that change tiers: `sync`, `update`, `resolve`, `rollback`, and `diff` to look
//! before leaping. Each plans first, shows the plan, and applies only with `--yes` or after a
//! yes on a terminal; without a terminal and without `--yes` it only prints the plan.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::Serialize;
use skillmeat_core::engine::diff;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::model::files::ArtifactFiles;
use skillmeat_core::ops::conflicts::{self, Resolution};
use skillmeat_core::ops::sync::{self, Direction, Outcome, Strategy, SyncReport, SyncRequest};
use skillmeat_core::ops::{self, Context, OpsError};
use skillmeat_core::storage::collection::Manifest;
use skillmeat_core::storage::records::DeploymentFile;

use crate::commands::{CollectionArg, context, ops_error, print_json, print_table, print_warnings};
use crate::error::CommandError;

/// Exit status when a merge is left pending.
const EXIT_CONFLICT: u8 = 3;

/// `--strategy`, as the CLI offers it (`prompt` asks per conflicted file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Auto,
    Prompt,
    Ours,
    Theirs,
    Overwrite,
}

impl StrategyArg {
    fn core(self) -> Strategy {
        match self {
            Self::Auto | Self::Prompt => Strategy::Auto,
            Self::Ours => Strategy::Ours,
            Self::Theirs => Strategy::Theirs,
            Self::Overwrite => Strategy::Overwrite,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// How to settle differences: auto (fast-forward or three-way merge), prompt (auto, then
    /// ask per conflicted file), ours (keep the target), theirs / overwrite (take the source).
    #[arg(long, value_enum, default_value = "auto")]
    pub strategy: StrategyArg,
    /// Show the plan and stop; never writes.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// upstream (upstream → collection), deploy (collection → project), project (project →
    /// collection), both (upstream → collection → project), or a full direction name.
    #[arg(long, value_name = "DIRECTION")]
    pub direction: String,
    /// The project, for the project directions.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

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
    /// How many artifacts to update at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["file", "continue_", "abort"])))]
#[command(group(clap::ArgGroup::new("choice").args(["ours", "theirs", "custom"])))]
pub struct ResolveArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// The project whose pending merge to resolve (when there are several).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// A conflicted file of the pending merge (path inside the artifact).
    #[arg(long, value_name = "PATH", requires = "choice")]
    pub file: Option<String>,
    /// Take the target's version of the file.
    #[arg(long)]
    pub ours: bool,
    /// Take the source's version of the file.
    #[arg(long)]
    pub theirs: bool,
    /// Take this file's content (refused if it still holds conflict markers).
    #[arg(long, value_name = "FILE")]
    pub custom: Option<PathBuf>,
    /// Apply the pending merge (refused while any conflicted file is undecided).
    #[arg(long = "continue")]
    pub continue_: bool,
    /// Drop the pending merge; nothing was written to the target.
    #[arg(long)]
    pub abort: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// The version to restore: a hash prefix (4+ characters) or a tag (see `skillmeat history`).
    #[arg(long, value_name = "VERSION")]
    pub to: String,
    /// Roll back the copy in this project instead of the collection's.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// The project whose edits to export.
    #[arg(long, value_name = "DIR")]
    pub project: PathBuf,
    /// Where to write the bundle (a .tar.gz).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// Left side: upstream, collection, project, or a version (hash prefix or tag).
    #[arg(long, value_name = "TIER")]
    pub lhs: String,
    /// Right side: upstream, collection, project, or a version (hash prefix or tag).
    #[arg(long, value_name = "TIER")]
    pub rhs: String,
    /// The project, when a side is `project`.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Only the files and their added/removed line counts.
    #[arg(long)]
    pub stat: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn directions(text: &str) -> Result<Vec<Direction>, CommandError> {
    if text == "both" {
        return Ok(vec![
            Direction::UpstreamToCollection,
            Direction::CollectionToProject,
        ]);
    }
    text.parse()
        .map(|d| vec![d])
        .map_err(|e: String| CommandError::usage(e))
}

/// Asks a yes/no question on the terminal; false on anything but yes.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Whether to apply after showing a plan: `--yes`, or a yes on a terminal.
fn should_apply(args: &ApplyArgs) -> bool {
    if args.dry_run {
        return false;
    }
    if args.yes {
        return true;
    }
    if std::io::stdin().is_terminal() && !args.json {
        return confirm("Apply this plan?");
    }
    false
}

fn short(h: &Option<String>) -> String {
    h.as_deref()
        .map(|h| h.chars().take(12).collect())
        .unwrap_or_else(|| "-".to_owned())
}

fn print_report(r: &SyncReport) {
    println!(
        "{} {}: {}  (base {}, source {}, target {})",
        r.id,
        r.direction,
        r.outcome.as_str(),
        short(&r.base),
        short(&Some(r.source.clone())),
        short(&r.target)
    );
    let rows: Vec<Vec<String>> = r
        .files
        .iter()
        .filter(|f| {
            f.action != skillmeat_core::engine::merge::FileAction::Unchanged || r.files.len() <= 20
        })
        .map(|f| {
            vec![
                format!("  {}", f.action.as_str()),
                match &f.renamed_from {
                    Some(from) => format!("{} (from {from})", f.path),
                    None => f.path.clone(),
                },
            ]
        })
        .collect();
    if !rows.is_empty() {
        print_table(&["  FILE ACTION", "PATH"], &rows);
    }
    print_pending(r);
    if r.outcome == Outcome::Diverged {
        println!(
            "  No common base is known: nothing is merged. Choose a side with --strategy ours or --strategy theirs."
        );
    }
}

fn print_pending(r: &SyncReport) {
    if let Some(p) = &r.pending {
        println!("Conflicts kept aside in {}", p.display());
        println!(
            "  Resolve each file: skillmeat resolve {} --file PATH --ours|--theirs|--custom FILE",
            r.id
        );
        println!(
            "  Then apply:        skillmeat resolve {} --continue   (or --abort)",
            r.id
        );
    }
}

fn sync_request<'a>(
    id: &'a ArtifactId,
    direction: Direction,
    project: Option<&'a Path>,
    collection: &'a str,
    strategy: Strategy,
    dry_run: bool,
) -> SyncRequest<'a> {
    SyncRequest {
        id,
        direction,
        project,
        collection,
        strategy,
        dry_run,
        on_phase: None,
    }
}

pub async fn sync_command(home: &Path, args: SyncArgs) -> Result<ExitCode, CommandError> {
    let mut ctx = context(home)?;
    // The upstream is fetched once: what the plan showed is what is applied.
    ctx.fetch.run = Some(skillmeat_core::storage::fetch::FetchRun::default());
    let dirs = directions(&args.direction)?;
    if dirs.iter().any(|d| d.needs_project()) && args.project.is_none() {
        return Err(CommandError::usage(format!(
            "--direction {} needs --project DIR",
            args.direction
        ))
        .with_hint("name the project folder the artifact is deployed in"));
    }
    let collection = args.collection.collection.as_str();
    let mut reports = Vec::new();
    let mut code = ExitCode::SUCCESS;
    for direction in dirs {
        let project = args
            .project
            .as_deref()
            .filter(|_| direction.needs_project());
        let req = sync_request(
            &args.id,
            direction,
            project,
            collection,
            args.apply.strategy.core(),
            true,
        );
        let plan = sync::sync(&ctx, &req).await.map_err(ops_error)?;
        if !args.apply.json {
            print_report(&plan);
        }
        if matches!(plan.outcome, Outcome::UpToDate) {
            reports.push(plan);
            continue;
        }
        if plan.outcome == Outcome::Diverged {
            reports.push(plan);
            code = ExitCode::from(1);
            break;
        }
        if !should_apply(&args.apply) {
            if !args.apply.json && !args.apply.dry_run {
                println!("Not applied: pass --yes to apply (or run on a terminal to be asked).");
            }
            reports.push(plan);
            break;
        }
        let req = SyncRequest {
            dry_run: false,
            ..req
        };
        let done = sync::sync(&ctx, &req).await.map_err(ops_error)?;
        print_warnings(&done.warnings);
        let conflict = done.has_conflict();
        if conflict && args.apply.strategy == StrategyArg::Prompt && std::io::stdin().is_terminal()
        {
            let finished = prompt_resolve(&ctx, &args.id, collection, project, &done).await?;
            if !args.apply.json {
                println!(
                    "{}",
                    if finished {
                        "Merged and applied."
                    } else {
                        "Left pending."
                    }
                );
            }
            if !finished {
                code = ExitCode::from(EXIT_CONFLICT);
            }
        } else if conflict {
            if !args.apply.json {
                print_pending(&done);
            }
            code = ExitCode::from(EXIT_CONFLICT);
        } else if !args.apply.json {
            println!("Applied: {} now holds {}.", done.id, short(&done.result));
        }
        reports.push(done);
        if conflict {
            break;
        }
    }
    if args.apply.json {
        print_json(&reports)?;
    }
    Ok(code)
}

/// Asks ours/theirs for each conflicted file, then applies; false if left pending.
async fn prompt_resolve(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    report: &SyncReport,
) -> Result<bool, CommandError> {
    for file in report.files.iter().filter(|f| f.action.is_conflict()) {
        eprint!(
            "{}: {} — keep [o]urs (target), take [t]heirs (source), or [s]kip? ",
            file.path,
            file.action.as_str()
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        let resolution = match answer.trim() {
            "o" | "ours" => Resolution::Ours,
            "t" | "theirs" => Resolution::Theirs,
            _ => continue,
        };
        conflicts::resolve_file(ctx, id, collection, project, &file.path, resolution)
            .await
            .map_err(ops_error)?;
    }
    match conflicts::continue_merge(ctx, id, collection, project).await {
        Ok(done) => {
            print_warnings(&done.warnings);
            Ok(true)
        }
        Err(OpsError::MarkersLeft { files, .. }) => {
            eprintln!("Still undecided: {}", escaped(&files));
            Ok(false)
        }
        Err(e) => Err(ops_error(e)),
    }
}

/// One artifact's line in the `update` summary.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateRow {
    pub id: ArtifactId,
    /// `up to date`, `updated`, `auto-merged`, `conflict`, `diverged`, `error`, or `planned`.
    pub result: String,
    pub detail: String,
    pub reports: Vec<SyncReport>,
}

fn summarise(reports: &[SyncReport], applied: bool) -> (String, String) {
    let outcome = reports
        .iter()
        .map(|r| r.outcome)
        .max_by_key(|o| match o {
            Outcome::UpToDate => 0,
            Outcome::FastForward | Outcome::Overwritten | Outcome::KeptTarget => 1,
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
        (_, true) => "updated",
    };
    let detail = reports
        .iter()
        .filter(|r| r.outcome != Outcome::UpToDate)
        .map(|r| format!("{}: {}", r.direction, r.outcome.as_str()))
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

/// Applies `plan` (the dry run of `update_many` over `ids`): only the artifacts it found work
/// for are run again, now writing; the rows of the others stay as planned. With the run's one
/// fetch, what the plan showed is what is applied.
pub fn apply_planned(
    run: &UpdateRun<'_>,
    ids: &[(ArtifactId, bool)],
    plan: Vec<UpdateRow>,
) -> Vec<UpdateRow> {
    // Up to date, unless a copy already holds the source but its baseline lags behind (a run
    // killed between install and records): then the apply moves the baseline.
    let lagging = |r: &SyncReport| {
        r.target.as_deref() == Some(r.source.as_str())
            && r.base.as_deref() != Some(r.source.as_str())
    };
    let idle = |r: &UpdateRow| {
        r.result == "error" || (r.result == "up to date" && !r.reports.iter().any(lagging))
    };
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
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(ids.len().max(1)) {
            let tx = tx.clone();
            let queue = &queue;
            scope.spawn(move || {
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
                                detail,
                                reports,
                            }
                        }
                        Err(e) => UpdateRow {
                            id: id.clone(),
                            result: "error".to_owned(),
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

pub fn update_command(home: &Path, args: UpdateArgs) -> Result<ExitCode, CommandError> {
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
    let strategy = args.apply.strategy.core();
    let jobs = usize::from(args.jobs);
    let quiet = args.apply.json;
    let run = UpdateRun {
        ctx: &ctx,
        collection: &collection,
        project,
        strategy,
        jobs,
        quiet,
    };
    let plan = update_many(&run, &ids, true);
    let pending_work = plan
        .iter()
        .any(|r| !matches!(r.result.as_str(), "up to date" | "error"));
    let show = |rows: &[UpdateRow]| {
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| vec![r.id.to_string(), r.result.clone(), r.detail.clone()])
            .collect();
        print_table(&["ARTIFACT", "RESULT", "DETAIL"], &table);
    };
    let rows = if pending_work && should_apply(&args.apply) {
        if !args.apply.json && !args.apply.yes {
            show(&plan);
        }
        apply_planned(&run, &ids, plan)
    } else {
        if !args.apply.json && pending_work && !args.apply.dry_run {
            show(&plan);
            println!("Not applied: pass --yes to apply (or run on a terminal to be asked).");
            return Ok(ExitCode::SUCCESS);
        }
        plan
    };
    if args.apply.json {
        print_json(&rows)?;
    } else {
        show(&rows);
        let count = |what: &str| rows.iter().filter(|r| r.result == what).count();
        println!(
            "{} up to date, {} updated, {} auto-merged, {} conflict, {} error",
            count("up to date"),
            count("updated"),
            count("auto-merged"),
            count("conflict"),
            count("error")
        );
    }
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

pub async fn resolve_command(home: &Path, args: ResolveArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let collection = args.collection.collection.as_str();
    let project = args.project.as_deref();
    if args.abort {
        let done = conflicts::abort_merge(&ctx, &args.id, collection, project)
            .await
            .map_err(ops_error)?;
        print_warnings(&done.warnings);
        if args.json {
            print_json(&done)?;
        } else {
            println!(
                "Aborted the pending merge of {}; nothing was applied.",
                args.id
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.continue_ {
        return match conflicts::continue_merge(&ctx, &args.id, collection, project).await {
            Ok(done) => {
                print_warnings(&done.warnings);
                if args.json {
                    print_json(&done)?;
                } else {
                    println!(
                        "Applied the merge of {}: now {}.",
                        args.id,
                        short(&done.result)
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e @ OpsError::MarkersLeft { .. }) => {
                eprintln!("error: {e}");
                eprintln!(
                    "hint: edit those files in the pending merge, or run `skillmeat resolve {} --file PATH --ours|--theirs`",
                    args.id
                );
                Ok(ExitCode::from(EXIT_CONFLICT))
            }
            Err(e) => Err(ops_error(e)),
        };
    }
    let Some(file) = &args.file else {
        return Err(CommandError::usage(
            "pass --file PATH, --continue or --abort",
        ));
    };
    let resolution =
        match (&args.custom, args.ours, args.theirs) {
            (Some(path), _, _) => Resolution::Custom(std::fs::read(path).map_err(|e| {
                CommandError::failed(format!("cannot read {}: {e}", path.display()))
            })?),
            (None, true, _) => Resolution::Ours,
            (None, _, true) => Resolution::Theirs,
            _ => {
                return Err(CommandError::usage(
                    "with --file, pass --ours, --theirs or --custom FILE",
                ));
            }
        };
    let merge = conflicts::resolve_file(&ctx, &args.id, collection, project, file, resolution)
        .await
        .map_err(ops_error)?;
    let left = merge.unresolved().map_err(ops_error)?;
    if args.json {
        print_json(&serde_json::json!({ "id": args.id, "resolved": file, "unresolved": left }))?;
    } else if left.is_empty() {
        println!(
            "Resolved {}. Every conflict is decided: apply with `skillmeat resolve {} --continue`.",
            escaped(file),
            args.id
        );
    } else {
        println!(
            "Resolved {}. Still undecided: {}",
            escaped(file),
            escaped(&left.join(", "))
        );
    }
    Ok(if left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFLICT)
    })
}

pub async fn rollback_command(home: &Path, args: RollbackArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let done = ops::rollback(
        &ctx,
        &args.id,
        &args.collection.collection,
        args.project.as_deref(),
        &args.to,
    )
    .await
    .map_err(ops_error)?;
    print_warnings(&done.warnings);
    if args.json {
        print_json(&done)?;
    } else if done.changed {
        println!(
            "Rolled back {} from {} to {}.",
            done.id,
            short(&done.from),
            short(&Some(done.to.clone()))
        );
    } else {
        println!(
            "{} already holds {}.",
            done.id,
            short(&Some(done.to.clone()))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The files of one side of a diff.
async fn side_files(
    ctx: &Context,
    args: &DiffArgs,
    side: &str,
) -> Result<ArtifactFiles, CommandError> {
    skillmeat_core::ops::sides::side_files(
        ctx,
        &args.id,
        &args.collection.collection,
        args.project.as_deref(),
        side,
    )
    .await
    .map_err(|e| match e {
        OpsError::UnknownSide { .. } => CommandError::usage(e.to_string())
            .with_hint("list the versions with `skillmeat history ID`"),
        OpsError::ProjectRequired { .. } => {
            CommandError::usage("a `project` side needs --project DIR")
        }
        e => ops_error(e),
    })
}

pub async fn diff_command(home: &Path, args: DiffArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let lhs = side_files(&ctx, &args, &args.lhs).await?;
    let rhs = side_files(&ctx, &args, &args.rhs).await?;
    let d = diff::diff(&lhs, &rhs);
    if args.json {
        print_json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    if d.is_empty() {
        println!("No differences.");
        return Ok(ExitCode::SUCCESS);
    }
    for f in &d.files {
        let note = if f.binary {
            format!("binary, {} → {} bytes", f.old_size, f.new_size)
        } else if f.too_large {
            format!("too large to show, {} → {} bytes", f.old_size, f.new_size)
        } else {
            format!("+{} -{}", f.added, f.removed)
        };
        let status = serde_json::to_value(f.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let path = escaped(&f.path);
        if args.stat {
            println!("{:<9} {path}  {note}", status);
            continue;
        }
        println!("{} {path} ({note})", status);
        if let Some(text) = &f.unified {
            println!("--- {}:{path}\n+++ {}:{path}", args.lhs, args.rhs);
            print!("{text}");
        }
    }
    if args.stat {
        println!(
            "{} files changed, +{} -{}",
            d.files.len(),
            d.added,
            d.removed
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn patch_command(home: &Path, args: PatchArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let bundle = skillmeat_core::ops::export::patch_bundle(
        &ctx,
        &args.id,
        &args.collection.collection,
        &args.project,
        &args.output,
    )
    .map_err(ops_error)?;
    if args.json {
        print_json(&bundle)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Wrote {} ({} bytes)", bundle.path.display(), bundle.size);
    println!("  sha256: {}", bundle.sha256);
    println!(
        "  applies to {} at {} ({} files patched, {} included whole)",
        bundle.manifest.location,
        &bundle.manifest.base_commit[..12.min(bundle.manifest.base_commit.len())],
        bundle.manifest.patched.len(),
        bundle.manifest.whole_files.len()
    );
    println!(
        "  maintainers: tar xzf it, then `git apply {}.patch` at the repository root",
        args.id.name
    );
    if let Some(url) = &bundle.github_url {
        println!("  compare on GitHub: {url}");
    }
    Ok(ExitCode::SUCCESS)
}
