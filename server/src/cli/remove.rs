//! `skillmeat remove` (an artifact out of the collection) and `skillmeat undeploy` (copies out
//! of a project).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;

use crate::cli::apply::confirmed;
use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::{OutputArgs, print_warnings, short};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// Also take it out of every registered project that has it (refused for a copy with
    /// local edits unless --force).
    #[arg(long)]
    pub undeploy: bool,
    /// With --undeploy: remove project copies with local edits too, after recording those
    /// edits in the version store.
    #[arg(long, requires = "undeploy")]
    pub force: bool,
    /// Do not ask (needed when not on a terminal).
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn remove_command(home: &Path, args: RemoveArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let collection = args.collection.collection.as_str();
    confirmed(
        args.yes,
        args.output.json,
        &format!(
            "Remove {} from collection `{collection}`{}? Its versions stay in `skillmeat history`.",
            args.id,
            if args.undeploy {
                " and every project that has it"
            } else {
                ""
            }
        ),
    )?;
    let done = ops::remove(&ctx, &args.id, collection, args.undeploy, args.force)
        .await
        .map_err(ops_error)?;
    print_warnings(&done.warnings);
    args.output.emit_traced(&done, |_| {
        for u in &done.undeployed {
            print_undeployed(u);
        }
        println!(
            "Removed {} from collection `{}` (it held {}; `skillmeat history {}` still lists it).",
            done.id,
            done.collection,
            short(done.content_hash),
            done.id
        );
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct UndeployArgs {
    /// Artifact ids, `<type>:<name>`.
    #[arg(required = true)]
    pub ids: Vec<ArtifactId>,
    /// The project to take them out of.
    #[arg(long, value_name = "DIR", required_unless_present = "user")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// Remove a copy with local edits too, after recording those edits in the version store.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn undeploy_command(home: &Path, args: UndeployArgs) -> Result<ExitCode, CommandError> {
    let project = crate::cli::common::or_user(args.project.clone(), args.user)?
        .ok_or_else(|| CommandError::usage("name the project: --project DIR, or --user"))?;
    let ctx = context(home)?;
    let done = ops::undeploy(
        &ctx,
        &args.ids,
        &project,
        &args.collection.collection,
        args.force,
    )
    .await
    .map_err(ops_error)?;
    print_warnings(&done.warnings);
    args.output.emit_traced(&done, |_| {
        for u in &done.undeployed {
            print_undeployed(u);
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_undeployed(u: &ops::Undeployed) {
    let edits = if u.local_edits {
        format!(
            " (its local edits are recorded as {}: `skillmeat history {}`)",
            short(u.content_hash),
            u.id
        )
    } else {
        String::new()
    };
    println!("Undeployed {} from {}{edits}.", u.id, u.project.display());
}
