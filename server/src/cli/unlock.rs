//! `skillmeat unlock`: lifts the kill-switch of an artifact whose syncs failed
//! `sync.lock_after_failures` times in a row, or lists the artifacts with failing syncs.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::sync::killswitch;
use skillmeat_core::storage::sync_failures::FailureRun;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::{OutputArgs, print_table};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Artifact id, `<type>:<name>`.
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    pub id: Option<ArtifactId>,
    /// List the artifacts whose syncs failed in a row (locked ones first) instead.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Serialize)]
struct Unlocked {
    id: String,
    collection: String,
    /// Whether it was locked (false: it only had failures not yet at the threshold, or none).
    was_locked: bool,
    /// The run of failures forgotten, if there was one.
    run: Option<FailureRun>,
}

pub async fn unlock_command(home: &Path, args: UnlockArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let Some(id) = args.id else {
        let runs = killswitch::failing(&ctx).await.map_err(ops_error)?;
        args.output.emit(&runs, |runs| {
            if runs.is_empty() {
                println!("No artifact has failing syncs.");
                return;
            }
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|r| {
                    vec![
                        r.artifact.clone(),
                        r.collection.clone(),
                        r.failures.to_string(),
                        r.locked_at.clone().unwrap_or_else(|| "no".to_owned()),
                        r.last_error.clone(),
                    ]
                })
                .collect();
            print_table(
                &["ARTIFACT", "COLLECTION", "FAILED", "LOCKED", "LAST ERROR"],
                &rows,
            );
        })?;
        return Ok(ExitCode::SUCCESS);
    };
    let collection = args.collection.collection.as_str();
    let run = killswitch::unlock(&ctx, collection, &id)
        .await
        .map_err(ops_error)?;
    let done = Unlocked {
        id: id.to_string(),
        collection: collection.to_owned(),
        was_locked: run.as_ref().is_some_and(|r| r.locked_at.is_some()),
        run,
    };
    args.output.emit(&done, |d| match &d.run {
        Some(r) if r.locked_at.is_some() => println!(
            "Unlocked {}: its syncs run again (it was locked after {} failures in a row; the last: {}).",
            d.id, r.failures, r.last_error
        ),
        Some(r) => println!(
            "{} was not locked; its run of {} failed sync(s) is forgotten.",
            d.id, r.failures
        ),
        None => println!("{} was not locked: nothing to do.", d.id),
    })?;
    Ok(ExitCode::SUCCESS)
}
