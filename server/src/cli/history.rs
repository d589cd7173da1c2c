//! `skillmeat history`: the recorded versions of an artifact.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::{OutputArgs, print_table};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn history(home: &Path, args: HistoryArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let history = ops::history(&ctx, &args.id, &args.collection.collection)
        .await
        .map_err(ops_error)?;
    args.output.emit(&history, |_| {
        if history.versions.is_empty() {
            println!(
                "No versions of {} recorded yet (they are recorded by add, deploy and tag).",
                history.id
            );
            return;
        }
        let rows: Vec<Vec<String>> = history
            .versions
            .iter()
            .map(|v| {
                let mark = if history.current == Some(v.content_hash) {
                    "*"
                } else {
                    " "
                };
                let tag = match (&v.version_tag, v.breaking) {
                    (Some(t), true) => format!("{t} (breaking)"),
                    (Some(t), false) => t.clone(),
                    (None, _) => String::new(),
                };
                let bump = history
                    .changes
                    .get(&v.content_hash.to_hex())
                    .map_or_else(|| "-".to_owned(), |s| s.bump.to_string());
                vec![
                    format!("{mark}{}", v.content_hash.short()),
                    v.created_at.clone(),
                    v.change_origin.to_string(),
                    bump,
                    tag,
                    v.parent_hashes
                        .iter()
                        .map(|p| hash::short(p))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
            })
            .collect();
        print_table(
            &[" VERSION", "CREATED", "ORIGIN", "BUMP", "TAG", "PARENTS"],
            &rows,
        );
        if !history.events.is_empty() {
            println!();
            let rows: Vec<Vec<String>> = history
                .events
                .iter()
                .map(|e| {
                    vec![
                        format!(" {}", hash::short(&e.content_hash)),
                        e.created_at.clone(),
                        e.origin.to_string(),
                        e.tier.clone(),
                    ]
                })
                .collect();
            print_table(&[" RESTORED", "AT", "ORIGIN", "WHERE"], &rows);
        }
        if let Some(current) = history.current
            && !history.versions.iter().any(|v| v.content_hash == current)
        {
            println!(
                "The collection holds {}, which is not recorded yet (edited by hand since).",
                current.short()
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
