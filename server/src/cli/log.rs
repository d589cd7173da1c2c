//! `skillmeat log`: the audit trail — every deploy, sync, conflict, resolution, abort, rollback
//! and tag, newest first — and an artifact's conflict history.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;
use skillmeat_core::storage::events::{EventFilter, EventKind, MAX_PAGE};

use crate::cli::common::{context, ops_error};
use crate::cli::output::{OutputArgs, plural, print_table};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this artifact, `<type>:<name>`.
    pub id: Option<ArtifactId>,
    /// Only events of this kind (repeat for several): deploy, sync, conflict, resolve, abort,
    /// rollback, tag.
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<EventKind>,
    /// Only events in this project.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// Only events at or after this time (RFC 3339, e.g. 2026-12-01 or 2026-12-01T09:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// How many events to show (at most 500).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PAGE)))]
    pub limit: u32,
    /// Show the events older than this event id (the next page; the last line names it).
    #[arg(long, value_name = "EVENT")]
    pub before: Option<i64>,
    /// Instead of events, how often the artifact's merges conflicted, on which files, and how
    /// each file was settled (needs an ID).
    #[arg(long, requires = "id")]
    pub conflicts: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn log(home: &Path, mut args: LogArgs) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let ctx = context(home)?;
    if args.conflicts {
        let Some(id) = args.id.as_ref() else {
            return Err(CommandError::usage("--conflicts needs an artifact id"));
        };
        let history = ops::conflict_history(&ctx, id).await.map_err(ops_error)?;
        args.output.emit(&history, |h| {
            if h.conflicts == 0 {
                println!("No merge of {id} has conflicted.");
                return;
            }
            println!(
                "{id}: {} — {} resolved, {} aborted, {} pending",
                plural(h.conflicts as usize, "conflicted merge"),
                h.resolved,
                h.aborted,
                h.conflicts.saturating_sub(h.resolved + h.aborted)
            );
            let rows: Vec<Vec<String>> = h
                .files
                .iter()
                .map(|f| {
                    let settled: Vec<String> = f
                        .settled
                        .iter()
                        .map(|(how, n)| format!("{how} {n}"))
                        .collect();
                    vec![f.path.clone(), f.times.to_string(), settled.join(", ")]
                })
                .collect();
            print_table(&["FILE", "CONFLICTS", "SETTLED"], &rows);
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let project = match &args.project {
        Some(p) => Some(p.canonicalize().map_err(|e| {
            CommandError::usage(format!("cannot open the project {}: {e}", p.display()))
        })?),
        None => None,
    };
    let since = args.since.as_deref().map(normalise_time).transpose()?;
    let filter = EventFilter {
        artifact: args.id.clone(),
        kinds: args.kind.clone(),
        project,
        since,
        before: args.before,
        limit: args.limit,
    };
    let page = ops::log(&ctx, &filter).await.map_err(ops_error)?;
    args.output.emit(&page, |page| {
        if page.events.is_empty() {
            println!("Nothing in the log matches (deploys, syncs, conflicts, resolutions, rollbacks and tags are logged).");
            return;
        }
        let rows: Vec<Vec<String>> = page
            .events
            .iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    e.at.clone(),
                    e.kind.to_string(),
                    e.artifact_id.to_string(),
                    e.place(),
                    e.summary(),
                ]
            })
            .collect();
        print_table(&["EVENT", "AT", "KIND", "ARTIFACT", "WHERE", "WHAT"], &rows);
        if let Some(before) = page.next_before {
            println!("More: skillmeat log --before {before}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A time to compare with the log's RFC 3339 stamps: a date alone is its midnight UTC.
fn normalise_time(text: &str) -> Result<String, CommandError> {
    let date = |s: &str| {
        s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    if date(text) {
        return Ok(format!("{text}T00:00:00Z"));
    }
    if text.len() > 10 && date(&text[..10]) && text.as_bytes()[10] == b'T' {
        return Ok(text.to_owned());
    }
    Err(CommandError::usage(format!(
        "--since {text:?} is not a time: give a date (2026-12-01) or an RFC 3339 time (2026-12-01T09:00:00Z)"
    )))
}
