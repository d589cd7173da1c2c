//! `skillmeat migrate`: deployment records of older tools brought up to date.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::ops;

use crate::cli::common::{context, ops_error};
use crate::cli::output::{OutputArgs, print_warnings};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The project folder whose .claude/.skillmeat-deployed.toml to upgrade.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn migrate(home: &Path, args: MigrateArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let done = ops::migrate(&ctx, &args.project).await.map_err(ops_error)?;
    print_warnings(&done.warnings);
    args.output.emit(&done, |_| {
        if done.records.is_empty() {
            println!("No deployment records in {}.", args.project.display());
        } else {
            for m in &done.records {
                match m.note {
                    Some(note) => println!("{:<12} {}  ({note})", m.outcome, m.id),
                    None => println!("{:<12} {}", m.outcome, m.id),
                }
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
