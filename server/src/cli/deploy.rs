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
    #[arg(long, value_name = "DIR")]
    pub project: PathBuf,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn deploy(home: &Path, args: DeployArgs) -> Result<ExitCode, CommandError> {
    if !args.project.is_dir() {
        return Err(CommandError::usage(format!(
            "project folder {} does not exist",
            args.project.display()
        )));
    }
    let ctx = context(home)?;
    let done = ops::deploy(&ctx, &args.ids, &args.project, &args.collection.collection)
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
