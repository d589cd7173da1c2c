//! `skillmeat add`: an artifact from its upstream into the collection.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactType;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::{OutputArgs, print_warnings};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Where the artifact comes from (see `skillmeat add --help`).
    pub spec: String,
    /// Artifact type, when it cannot be inferred from the path.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<ArtifactType>,
    /// Name in your collection (default: the last component of the path).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn add(home: &Path, args: AddArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let added = ops::add(
        &ctx,
        &args.spec,
        args.kind,
        args.name.as_deref(),
        &args.collection.collection,
    )
    .await
    .map_err(ops_error)?;
    print_warnings(&added.warnings);
    args.output.emit(&added, |_| {
        println!(
            "Added {} at {} ({})",
            added.id,
            &added.commit[..12.min(added.commit.len())],
            added.content_hash.short()
        );
        println!("  {}", added.path.display());
    })?;
    Ok(ExitCode::SUCCESS)
}
