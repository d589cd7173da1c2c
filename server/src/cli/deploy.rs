//! `skillmeat deploy`: collection copies into a project.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::{OutputArgs, print_warnings};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Artifact ids, `<type>:<name>`.
    #[arg(required = true)]
    pub ids: Vec<ArtifactId>,
    /// The project folder (its .claude/ receives the artifacts).
    #[arg(long, value_name = "DIR", required_unless_present = "user")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// Refuse (write nothing) when `skillmeat check` finds an error in an artifact to deploy;
    /// without it, its findings are warnings.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn deploy(home: &Path, args: DeployArgs) -> Result<ExitCode, CommandError> {
    let project = crate::cli::common::or_user(args.project.clone(), args.user)?
        .ok_or_else(|| CommandError::usage("name the project: --project DIR, or --user"))?;
    if !project.is_dir() {
        return Err(CommandError::usage(format!(
            "project folder {} does not exist",
            project.display()
        )));
    }
    let ctx = context(home)?;
    let done = ops::deploy_checked(
        &ctx,
        &args.ids,
        &project,
        &args.collection.collection,
        args.strict,
    )
    .await
    .map_err(ops_error)?;
    print_warnings(&done.warnings);
    args.output.emit_traced(&done, |_| {
        for d in &done.deployed {
            let what = if d.changed { "Deployed" } else { "Up to date" };
            println!(
                "{what}: {} ({}) → {}",
                d.id,
                d.content_hash.short(),
                d.path.display()
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
