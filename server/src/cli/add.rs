//! `skillmeat add`: an artifact from its upstream into the collection.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactType;
use skillmeat_core::ops;
use skillmeat_core::ops::marketplace;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::{OutputArgs, print_table, print_warnings};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Where the artifact comes from (see `skillmeat add --help`).
    pub spec: String,
    /// Artifact type, when it cannot be inferred from the path.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<ArtifactType>,
    /// Name in your collection (default: the last component of the path).
    #[arg(long, conflicts_with_all = ["plugin", "all"])]
    pub name: Option<String>,
    /// SPEC is a plugin marketplace: add this plugin's skills, commands and agents (repeat for
    /// several). Each becomes an artifact with its own upstream path, pin and lock entry,
    /// grouped under the plugin, and `update` follows the plugin (new artifacts are offered,
    /// removed ones reported). `skillmeat marketplace list SPEC` shows the plugins.
    #[arg(long, value_name = "NAME", conflicts_with = "kind")]
    pub plugin: Vec<String>,
    /// SPEC is a plugin marketplace: add every plugin it lists.
    #[arg(long, conflicts_with_all = ["plugin", "kind"])]
    pub all: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn add(home: &Path, args: AddArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    if args.all || !args.plugin.is_empty() {
        let selection = if args.all {
            marketplace::Selection::All
        } else {
            marketplace::Selection::Named(args.plugin.clone())
        };
        let done =
            marketplace::add_plugins(&ctx, &args.spec, &selection, &args.collection.collection)
                .await
                .map_err(ops_error)?;
        args.output.emit(&done, |d| {
            for p in &d.plugins {
                match &p.problem {
                    Some(problem) => println!("{}: not added: {problem}", p.plugin),
                    None => println!("{}:", p.plugin),
                }
                let rows: Vec<Vec<String>> = p
                    .artifacts
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            match a.result {
                                "present" => "already added".to_owned(),
                                other => other.to_owned(),
                            },
                            a.detail.clone().unwrap_or_else(|| a.spec.clone()),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    print_table(&["ARTIFACT", "RESULT", "DETAIL"], &rows);
                }
                for s in &p.skipped {
                    println!("  skipped {s}");
                }
            }
        })?;
        return Ok(if done.failed() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
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
