//! `skillmeat show`: one artifact, where it lives and where it comes from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops::{self, OpsError};
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_core::storage::home::Home;

use crate::cli::common::{CollectionArg, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    /// Also show the copy deployed in this project: deployed at, first local edit seen, last
    /// checked, how many versions, its baseline and parent.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The user scope instead of a project: ~/.claude, which Claude Code reads in every project
    /// (Claude Code's own folders there — projects/, plugins/, todos/, history — are never
    /// touched).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn show(home: &Path, mut args: ShowArgs) -> Result<ExitCode, CommandError> {
    args.project = crate::cli::common::or_user(args.project.take(), args.user)?;
    let timeline = match &args.project {
        Some(p) => {
            let ctx = crate::cli::common::context(home)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CommandError::failed(format!("cannot start the runtime: {e}")))?;
            Some(
                rt.block_on(ops::timeline(&ctx, &args.id, p))
                    .map_err(ops_error)?,
            )
        }
        None => None,
    };
    let collection = &args.collection.collection;
    let dir = Home::new(home)
        .collection_dir(collection)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let manifest = Manifest::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let entry = manifest.get(&args.id).ok_or_else(|| {
        ops_error(OpsError::NotInCollection {
            id: args.id.clone(),
            collection: collection.clone(),
        })
    })?;
    let lock = Lock::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let path = ops::artifact_path(&dir, &args.id);
    let current = hash::hash_path(&path).map(|h| h.to_hex()).ok();
    let locked = lock.get(&args.id);
    args.output.emit(
        &serde_json::json!({
            "id": args.id, "collection": collection, "path": path, "upstream": entry.upstream,
            "added_at": entry.added_at, "lock": locked, "content_hash": current,
            "deployment": timeline,
        }),
        |_| {
            println!("{}", args.id);
            println!("  path:      {}", path.display());
            println!(
                "  upstream:  {}",
                entry.upstream.as_deref().unwrap_or("(local only)")
            );
            if let Some(l) = locked {
                println!(
                    "  resolved:  {} at {} (fetched {})",
                    l.reference, l.commit, l.fetched_at
                );
                println!("  fetched:   {}", l.content_hash);
            }
            match current {
                Some(h) => println!("  current:   {h}"),
                None => println!("  current:   (missing from the collection folder)"),
            }
            if let Some(t) = &timeline {
                let or_never = |v: &Option<String>| v.clone().unwrap_or_else(|| "never".to_owned());
                println!("in {}", t.project.display());
                println!("  deployed:      {}", or_never(&t.deployed_at));
                println!(
                    "  modified:      {}",
                    match (&t.modified_since, t.modified_now) {
                        (Some(at), true) => format!("yes, first seen {at}"),
                        (Some(at), false) => format!("no (an edit seen {at} is gone)"),
                        (None, true) => "yes (not seen by a check yet)".to_owned(),
                        (None, false) => "no".to_owned(),
                    }
                );
                println!("  last checked:  {}", or_never(&t.last_checked));
                println!("  versions:      {}", t.versions);
                println!("  baseline:      {}", t.baseline.as_deref().unwrap_or("-"));
                println!("  parent:        {}", t.parent.as_deref().unwrap_or("-"));
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
