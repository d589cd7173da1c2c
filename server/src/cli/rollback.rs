//! `skillmeat rollback`: a recorded version restored.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::short;
use crate::cli::output::{OutputArgs, print_warnings};
use crate::error::CommandError;

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
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// Do not ask on a terminal (scripts are never asked).
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn rollback_command(
    home: &Path,
    mut args: RollbackArgs,
) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let ctx = context(home)?;
    crate::cli::apply::confirm_on_terminal(
        args.yes,
        args.output.json,
        &format!(
            "Replace {}'s {} with version {}? What it holds now is recorded first (`skillmeat history`).",
            args.id,
            match &args.project {
                Some(p) => format!("copy in {}", p.display()),
                None => "collection copy".to_owned(),
            },
            args.to
        ),
    )?;
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
    args.output.emit_traced(&done, |_| {
        if done.changed {
            println!(
                "Rolled back {} from {} to {}.",
                done.id,
                short(done.from),
                done.to.short()
            );
        } else {
            println!("{} already holds {}.", done.id, done.to.short());
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
