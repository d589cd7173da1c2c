//! `skillmeat resolve`: settling a pending merge.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops::OpsError;
use skillmeat_core::ops::conflicts::{self, Resolution};

use crate::cli::common::{CollectionArg, EXIT_CONFLICT, context, ops_error};
use crate::cli::output::short;
use crate::cli::output::{OutputArgs, print_warnings};
use crate::error::CommandError;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["file", "continue_", "abort", "fork", "reuse"])))]
#[command(group(clap::ArgGroup::new("choice").args(["ours", "theirs", "custom"])))]
pub struct ResolveArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// The project whose pending merge to resolve (when there are several).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// A conflicted file of the pending merge (path inside the artifact).
    #[arg(long, value_name = "PATH", requires = "choice")]
    pub file: Option<String>,
    /// Take the target's version of the file.
    #[arg(long)]
    pub ours: bool,
    /// Take the source's version of the file.
    #[arg(long)]
    pub theirs: bool,
    /// Take this file's content (refused if it still holds conflict markers).
    #[arg(long, value_name = "FILE")]
    pub custom: Option<PathBuf>,
    /// Apply the pending merge (refused while any conflicted file is undecided).
    #[arg(long = "continue")]
    pub continue_: bool,
    /// Drop the pending merge; nothing was written to the target.
    #[arg(long)]
    pub abort: bool,
    /// Keep both instead of merging: the target keeps its version, and the source's version
    /// becomes a new artifact `<name>-fork` in the collection (also deployed beside the
    /// original when the merge is into a project). Settles every conflicted file at once.
    #[arg(long)]
    pub fork: bool,
    /// Settle every undecided file whose conflicts were all resolved before, in this or another
    /// project, and are byte-identical here (same ours, base and theirs text): the same
    /// resolution is taken. Files with any other conflict are left undecided. Then --continue.
    #[arg(long)]
    pub reuse: bool,
    /// With --continue: do not ask on a terminal (scripts are never asked).
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn resolve_command(home: &Path, mut args: ResolveArgs) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let ctx = context(home)?;
    let collection = args.collection.collection.as_str();
    let project = args.project.as_deref();
    if args.id.kind.is_fragment() {
        return resolve_fragment(&ctx, &args, collection).await;
    }
    if args.abort {
        let done = conflicts::abort_merge(&ctx, &args.id, collection, project)
            .await
            .map_err(ops_error)?;
        print_warnings(&done.warnings);
        args.output.emit_traced(&done, |_| {
            println!(
                "Aborted the pending merge of {}; nothing was applied.",
                args.id
            );
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.fork {
        let done = conflicts::fork_merge(&ctx, &args.id, collection, project)
            .await
            .map_err(ops_error)?;
        print_warnings(&done.warnings);
        args.output.emit_traced(&done, |_| {
            let fork = done
                .fork
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            println!(
                "Kept both: {} keeps its version ({}); the source's version is now {fork}.",
                args.id,
                short(done.result)
            );
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.reuse {
        let reused = conflicts::reuse_recorded(&ctx, &args.id, collection, project)
            .await
            .map_err(ops_error)?;
        let left = conflicts::find(&ctx.home, &args.id, collection, project)
            .map_err(ops_error)?
            .map(|m| m.unresolved())
            .transpose()
            .map_err(ops_error)?
            .unwrap_or_default();
        args.output.emit_traced(
            &serde_json::json!({ "id": args.id, "reused": reused, "unresolved": left }),
            |_| {
                if reused.is_empty() {
                    println!(
                        "No conflict of {} here was resolved before (only byte-identical conflicts are reused).",
                        args.id
                    );
                }
                for r in &reused {
                    let place = r.resolved_in.as_ref().map_or_else(
                        || "the collection".to_owned(),
                        |p| escaped(&p.display().to_string()).into_owned(),
                    );
                    println!(
                        "{}: {} conflict(s) resolved the same way as in {place} ({})",
                        escaped(&r.path),
                        r.conflicts,
                        r.artifact
                    );
                }
                if left.is_empty() {
                    println!("Every conflict is decided: apply with `skillmeat resolve {} --continue`.", args.id);
                } else {
                    println!("Still undecided: {}", escaped(&left.join(", ")));
                }
            },
        )?;
        return Ok(if reused.is_empty() || !left.is_empty() {
            ExitCode::from(EXIT_CONFLICT)
        } else {
            ExitCode::SUCCESS
        });
    }
    if args.continue_ {
        crate::cli::apply::confirm_on_terminal(
            args.yes,
            args.output.json,
            &format!(
                "Write the resolved merge of {} into its {}? What it holds now is recorded first.",
                args.id,
                match project {
                    Some(p) => format!("copy in {}", p.display()),
                    None => "collection copy".to_owned(),
                }
            ),
        )?;
        return match conflicts::continue_merge(&ctx, &args.id, collection, project).await {
            Ok(done) => {
                print_warnings(&done.warnings);
                args.output.emit_traced(&done, |_| {
                    println!(
                        "Applied the merge of {}: now {}.",
                        args.id,
                        short(done.result)
                    );
                })?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e @ OpsError::MarkersLeft { .. }) => {
                eprintln!("error: {e}");
                eprintln!(
                    "hint: edit those files in the pending merge, or run `skillmeat resolve {} --file PATH --ours|--theirs`",
                    args.id
                );
                Ok(ExitCode::from(EXIT_CONFLICT))
            }
            Err(e) => Err(ops_error(e)),
        };
    }
    let Some(file) = &args.file else {
        return Err(CommandError::usage(
            "pass --file PATH, --continue, --abort or --fork",
        ));
    };
    let resolution =
        match (&args.custom, args.ours, args.theirs) {
            (Some(path), _, _) => Resolution::Custom(std::fs::read(path).map_err(|e| {
                CommandError::failed(format!("cannot read {}: {e}", path.display()))
            })?),
            (None, true, _) => Resolution::Ours,
            (None, _, true) => Resolution::Theirs,
            _ => {
                return Err(CommandError::usage(
                    "with --file, pass --ours, --theirs or --custom FILE",
                ));
            }
        };
    let merge = conflicts::resolve_file(&ctx, &args.id, collection, project, file, resolution)
        .await
        .map_err(ops_error)?;
    let left = merge.unresolved().map_err(ops_error)?;
    args.output.emit_traced(&serde_json::json!({ "id": args.id, "resolved": file, "unresolved": left }), |_| {
        if left.is_empty() {
            println!(
                "Resolved {}. Every conflict is decided: apply with `skillmeat resolve {} --continue`.",
                escaped(file),
                args.id
            );
        } else {
            println!(
                "Resolved {}. Still undecided: {}",
                escaped(file),
                escaped(&left.join(", "))
            );
        }
    })?;
    Ok(if left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFLICT)
    })
}

/// `resolve` of a hook or mcp artifact: its clashes are keys of entries in the shared file,
/// named as the plan printed them (`mcpServers.gh › command`); each is decided ours (the file's
/// value) or theirs (the collection's), then `--continue` writes the merge.
async fn resolve_fragment(
    ctx: &skillmeat_core::ops::Context,
    args: &ResolveArgs,
    collection: &str,
) -> Result<ExitCode, CommandError> {
    use skillmeat_core::engine::json_merge::Pick;
    use skillmeat_core::ops::fragments;
    let project = args.project.as_deref().ok_or_else(|| {
        CommandError::usage(format!(
            "{} is merged into a project's shared file: pass --project DIR or --user",
            args.id
        ))
    })?;
    if args.fork || args.custom.is_some() {
        return Err(CommandError::usage(
            "a hook or mcp clash is settled per key: --file CLASH --ours|--theirs, then --continue",
        ));
    }
    if args.abort {
        fragments::abort(ctx, &args.id, project).map_err(ops_error)?;
        args.output.emit_traced(
            &serde_json::json!({ "id": args.id, "aborted": true }),
            |_| {
                println!(
                    "Aborted the pending merge of {}; nothing was written.",
                    args.id
                )
            },
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let pick = match (&args.file, args.ours, args.theirs) {
        (Some(label), true, _) => Some((label.as_str(), Pick::Ours)),
        (Some(label), _, true) => Some((label.as_str(), Pick::Theirs)),
        (Some(_), _, _) => {
            return Err(CommandError::usage("with --file, pass --ours or --theirs"));
        }
        (None, _, _) => None,
    };
    if args.continue_ {
        crate::cli::apply::confirm_on_terminal(
            args.yes,
            args.output.json,
            &format!(
                "Write the resolved merge of {} into {}?",
                args.id,
                project.display()
            ),
        )?;
    }
    let report = fragments::resolve(ctx, &args.id, collection, project, pick, args.continue_)
        .await
        .map_err(ops_error)?;
    let open: Vec<&str> = report
        .files
        .iter()
        .filter(|f| f.conflict.is_some())
        .map(|f| f.path.as_str())
        .collect();
    let undecided = report.warnings.clone();
    args.output.emit_traced(&report, |_| {
        if report.applied || (args.continue_ && open.is_empty()) {
            println!("Applied the merge of {} into {}.", args.id, project.display());
        } else if open.is_empty() {
            println!(
                "Every clash is decided: apply with `skillmeat resolve {} --project {} --continue`.",
                args.id,
                project.display()
            );
        } else {
            println!("Still undecided in: {}", escaped(&open.join(", ")));
        }
        print_warnings(&undecided);
    })?;
    Ok(if open.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFLICT)
    })
}
