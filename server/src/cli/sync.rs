//! `skillmeat sync`: one artifact between tiers, planned, then applied.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::sync::{self, Direction, Outcome, SyncRequest};

use crate::cli::apply::{ApplyArgs, StrategyArg, print_pending, print_report, should_apply};
use crate::cli::common::{CollectionArg, EXIT_CONFLICT, context, ops_error};
use crate::cli::output::{print_warnings, short};
use crate::error::CommandError;

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
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub apply: ApplyArgs,
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

pub async fn sync_command(home: &Path, mut args: SyncArgs) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let mut ctx = context(home)?;
    // The upstream is fetched once: what the plan showed is what is applied.
    ctx.fetch.run = Some(skillmeat_core::storage::fetch::FetchRun::default());
    let dirs = directions(&args.direction)?;
    let strategy = args.apply.strategy(home)?;
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
        let req = SyncRequest::new(
            &args.id,
            direction,
            project,
            collection,
            strategy.core(),
            true,
        );
        let plan = sync::sync(&ctx, &req).await.map_err(ops_error)?;
        if !args.apply.output.json {
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
            if !args.apply.output.json && !args.apply.dry_run {
                println!("Not applied: pass --yes to apply (or run on a terminal to be asked).");
            }
            reports.push(plan);
            break;
        }
        // A user who said yes to the plan on the terminal gets that plan: if another writer
        // changed a side meanwhile (a project edit, a server job), nothing is written and they
        // are told to look again. `--yes` approves beforehand whatever the plan is then, so the
        // sync plans again under the lock instead (auto still never overwrites).
        let planned = skillmeat_core::ops::sync::Planned::of(&plan);
        let req = SyncRequest {
            dry_run: false,
            expect: (!args.apply.yes).then_some(&planned),
            ..req
        };
        let done = sync::sync(&ctx, &req).await.map_err(ops_error)?;
        print_warnings(&done.warnings);
        let conflict = done.has_conflict();
        // Stops at a conflict left pending; one settled at the prompt goes on to the next step.
        let mut stop = conflict;
        if conflict
            && strategy == StrategyArg::Prompt
            && !args.apply.output.json
            && std::io::stdin().is_terminal()
        {
            let finished = crate::cli::prompt::resolve_interactively(
                &ctx, &args.id, collection, project, &done,
            )
            .await?;
            if !args.apply.output.json {
                println!(
                    "{}",
                    if finished {
                        "Merged and applied."
                    } else {
                        "Left pending."
                    }
                );
            }
            if finished {
                stop = false;
            } else {
                code = ExitCode::from(EXIT_CONFLICT);
            }
        } else if conflict {
            if !args.apply.output.json {
                print_pending(&done);
            }
            code = ExitCode::from(EXIT_CONFLICT);
        } else if !args.apply.output.json {
            println!("Applied: {} now holds {}.", done.id, short(done.result));
        }
        reports.push(done);
        if stop {
            break;
        }
    }
    // The text went out step by step above, between the prompts; JSON is the one document.
    args.apply.output.emit_traced(&reports, |_| {})?;
    Ok(code)
}
