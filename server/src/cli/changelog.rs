//! `skillmeat changelog`: the steps between two versions of an artifact, each with the files it
//! changed and what it means in semver terms.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// The version to start after (a tag or a hash prefix). Default: the last semver tag, or
    /// the oldest recorded version.
    #[arg(long, value_name = "VERSION")]
    pub from: Option<String>,
    /// The version to end at. Default: the version the collection holds.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn changelog(home: &Path, args: ChangelogArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let log = ops::changelog(
        &ctx,
        &args.id,
        &args.collection.collection,
        args.from.as_deref(),
        args.to.as_deref(),
    )
    .await
    .map_err(ops_error)?;
    args.output.emit(&log, |log| {
        println!(
            "{}: {} → {}  {}",
            log.id,
            log.from.short(),
            log.to.short(),
            escaped(&log.bump.summary())
        );
        if log.steps.is_empty() {
            println!("No changes between them.");
        }
        for step in &log.steps {
            let tag = step
                .tag
                .as_deref()
                .map(|t| format!(" {}", escaped(t)))
                .unwrap_or_default();
            let breaking = if step.breaking { " (breaking)" } else { "" };
            println!();
            println!(
                "{}{tag}{breaking}  {}  {}  {}",
                step.version.short(),
                step.created_at,
                step.origin,
                escaped(&step.bump.summary())
            );
            for f in &step.files {
                println!(
                    "  {:<8}  {}  +{} -{}",
                    f.status,
                    escaped(&f.path),
                    f.added,
                    f.removed
                );
            }
        }
        if !log.in_order {
            println!(
                "{} was recorded after {}: there are no releases in between (swap --from and --to).",
                log.from.short(),
                log.to.short()
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
