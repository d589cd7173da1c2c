//! `skillmeat check`: artifacts the way Claude Code reads them, before they surprise you.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::engine::check::Severity;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::check;

use crate::cli::common::{CollectionArg, context, ops_error, or_user, user_home};
use crate::cli::output::{OutputArgs, print_table};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Artifact ids, `<type>:<name>` (default: every artifact of the collection, or every one
    /// deployed in the project).
    pub ids: Vec<ArtifactId>,
    /// Check the copies deployed in this project, and the project as a scope (two agents with
    /// one name, skills and agents hidden by the user scope's).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Check the copies in the user scope, ~/.claude.
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn check_command(home: &Path, args: CheckArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let scope = or_user(args.project.clone(), args.user)?;
    let user = user_home().ok();
    let report = check::check(
        &ctx,
        &args.ids,
        &args.collection.collection,
        scope.as_deref(),
        user.as_deref(),
    )
    .map_err(ops_error)?;
    args.output.emit(&report, |r| {
        let rows: Vec<Vec<String>> = r
            .artifacts
            .iter()
            .flat_map(|a| {
                a.findings.iter().map(move |f| {
                    vec![
                        a.id.to_string(),
                        match f.severity {
                            Severity::Error => "error".to_owned(),
                            Severity::Warning => "warning".to_owned(),
                        },
                        f.message.clone(),
                    ]
                })
            })
            .collect();
        if rows.is_empty() {
            println!(
                "{} artifact(s) checked in {}: nothing to report.",
                r.artifacts.len(),
                r.scope
            );
        } else {
            print_table(&["ARTIFACT", "SEVERITY", "FINDING"], &rows);
        }
    })?;
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
