//! `skillmeat list`: what the collection holds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use skillmeat_core::ops;
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_core::storage::home::Home;

use crate::cli::common::CollectionArg;
use crate::cli::output::{OutputArgs, print_table};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Serialize)]
struct ListItem {
    id: String,
    upstream: Option<String>,
    /// The plugin it came with (`name@marketplace`).
    plugin: Option<String>,
    commit: Option<String>,
    content_hash: Option<String>,
    path: PathBuf,
}

fn list_items(home: &Path, collection: &str) -> Result<Vec<ListItem>, CommandError> {
    let dir = Home::new(home)
        .collection_dir(collection)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let manifest = Manifest::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let lock = Lock::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    Ok(manifest
        .artifacts
        .iter()
        .map(|e| {
            let locked = lock.get(&e.id);
            ListItem {
                id: e.id.to_string(),
                upstream: e.upstream.clone(),
                plugin: e.plugin.clone(),
                commit: locked.map(|l| l.commit.clone()),
                content_hash: locked.map(|l| l.content_hash.clone()),
                path: ops::artifact_path(&dir, &e.id),
            }
        })
        .collect())
}

pub fn list(home: &Path, args: ListArgs) -> Result<ExitCode, CommandError> {
    let items = list_items(home, &args.collection.collection)?;
    args.output.emit(&items, |items| {
        if items.is_empty() {
            println!(
                "No artifacts in collection `{}` yet. Add one with `skillmeat add SPEC`.",
                args.collection.collection
            );
            return;
        }
        // Grouped by plugin: the artifacts of each plugin together, in the order added.
        let mut groups: Vec<Option<&str>> = Vec::new();
        for i in items {
            if !groups.contains(&i.plugin.as_deref()) {
                groups.push(i.plugin.as_deref());
            }
        }
        let rows: Vec<Vec<String>> = groups
            .iter()
            .flat_map(|g| items.iter().filter(move |i| i.plugin.as_deref() == *g))
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.plugin.clone().unwrap_or_else(|| "-".into()),
                    i.upstream.clone().unwrap_or_else(|| "(local)".into()),
                    i.content_hash
                        .as_deref()
                        .map(|h| h[..12.min(h.len())].to_owned())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["ARTIFACT", "PLUGIN", "UPSTREAM", "VERSION"], &rows);
    })?;
    Ok(ExitCode::SUCCESS)
}
