//! `skillmeat diff`: what differs between two tiers or versions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::engine::diff;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::model::files::ArtifactFiles;
use skillmeat_core::ops::{Context, OpsError};

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// Left side: upstream, collection, project, or a version (hash prefix or tag).
    #[arg(long, value_name = "TIER")]
    pub lhs: String,
    /// Right side: upstream, collection, project, or a version (hash prefix or tag).
    #[arg(long, value_name = "TIER")]
    pub rhs: String,
    /// The project, when a side is `project`.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// Only the files and their added/removed line counts.
    #[arg(long)]
    pub stat: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The files of one side of a diff.
async fn side_files(
    ctx: &Context,
    args: &DiffArgs,
    side: &str,
) -> Result<ArtifactFiles, CommandError> {
    skillmeat_core::ops::sides::side_files(
        ctx,
        &args.id,
        &args.collection.collection,
        args.project.as_deref(),
        side,
    )
    .await
    .map_err(|e| match e {
        OpsError::UnknownSide { .. } => CommandError::usage(e.to_string())
            .with_hint("list the versions with `skillmeat history ID`"),
        OpsError::ProjectRequired { .. } => {
            CommandError::usage("a `project` side needs --project DIR")
        }
        e => ops_error(e),
    })
}

/// `diff --json`: the diff, and what the change from the left side to the right means.
#[derive(serde::Serialize)]
struct DiffOut<'a> {
    #[serde(flatten)]
    diff: &'a diff::ArtifactDiff,
    bump: skillmeat_core::engine::bump::Suggestion,
}

pub async fn diff_command(home: &Path, mut args: DiffArgs) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let ctx = context(home)?;
    let lhs = side_files(&ctx, &args, &args.lhs).await?;
    let rhs = side_files(&ctx, &args, &args.rhs).await?;
    let limit = skillmeat_core::storage::config::Config::load(&ctx.home)
        .map_err(|e| CommandError::failed(e.to_string()))?
        .diff
        .inline_limit;
    let d = diff::diff_within(&lhs, &rhs, usize::try_from(limit).unwrap_or(usize::MAX));
    let out = DiffOut {
        diff: &d,
        bump: skillmeat_core::engine::bump::suggest(args.id.kind, &lhs, &rhs),
    };
    args.output.emit(&out, |out| {
        if d.is_empty() {
            println!("No differences.");
            return;
        }
        println!("Suggested version bump: {}", escaped(&out.bump.summary()));
        for f in &d.files {
            let note = if f.binary {
                format!("binary, {} → {} bytes", f.old_size, f.new_size)
            } else if f.too_large {
                format!("too large to show, {} → {} bytes", f.old_size, f.new_size)
            } else {
                format!("+{} -{}", f.added, f.removed)
            };
            let status = serde_json::to_value(f.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let path = escaped(&f.path);
            if args.stat {
                println!("{:<9} {path}  {note}", status);
                continue;
            }
            println!("{} {path} ({note})", status);
            if let Some(text) = &f.unified {
                println!("--- {}:{path}\n+++ {}:{path}", args.lhs, args.rhs);
                print!("{text}");
            }
        }
        if args.stat {
            println!(
                "{} files changed, +{} -{}",
                d.files.len(),
                d.added,
                d.removed
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
