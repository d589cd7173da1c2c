//! `skillmeat patch`: a project's edits as a patch bundle for the upstream.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct PatchArgs {
    /// Artifact id, `<type>:<name>`.
    pub id: ArtifactId,
    /// The project whose edits to export.
    #[arg(long, value_name = "DIR", required_unless_present = "user")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// Where to write the bundle (a .tar.gz).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub print: OutputArgs,
}

pub fn patch_command(home: &Path, args: PatchArgs) -> Result<ExitCode, CommandError> {
    let project = crate::cli::common::or_user(args.project.clone(), args.user)?
        .ok_or_else(|| CommandError::usage("name the project: --project DIR, or --user"))?;
    let ctx = context(home)?;
    let bundle = skillmeat_core::ops::export::patch_bundle(
        &ctx,
        &args.id,
        &args.collection.collection,
        &project,
        &args.output,
    )
    .map_err(ops_error)?;
    args.print.emit(&bundle, |_| {
        println!("Wrote {} ({} bytes)", bundle.path.display(), bundle.size);
        println!("  sha256: {}", bundle.sha256);
        println!(
            "  applies to {} at {} ({} files patched, {} included whole)",
            bundle.manifest.location,
            &bundle.manifest.base_commit[..12.min(bundle.manifest.base_commit.len())],
            bundle.manifest.patched.len(),
            bundle.manifest.whole_files.len()
        );
        println!(
            "  maintainers: tar xzf it, then `git apply {}.patch` at the repository root",
            args.id.name
        );
        if let Some(url) = &bundle.github_url {
            println!("  compare on GitHub: {url}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
