//! `skillmeat tag`: names for versions.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    /// The tag: letters, digits, `.`, `_` and `-`, at most 64 characters.
    pub tag: String,
    /// The version to tag: a hash prefix (4+ characters) or another tag. Default: the version
    /// the collection holds now.
    #[arg(value_name = "VERSION")]
    pub at: Option<String>,
    /// Move the tag if it names another version.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn tag(home: &Path, args: TagArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let version = ops::tag(
        &ctx,
        &args.id,
        &args.collection.collection,
        &args.tag,
        args.at.as_deref(),
        args.force,
    )
    .await
    .map_err(ops_error)?;
    args.output.emit(&version, |_| {
        println!(
            "Tagged {} {} as {}",
            args.id,
            version.content_hash.short(),
            args.tag
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
