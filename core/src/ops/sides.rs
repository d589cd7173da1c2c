//! One side of a diff or a download: a tier's copy of an artifact, or a recorded version.

use std::path::Path;

use crate::model::artifact::ArtifactId;
use crate::model::files::ArtifactFiles;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::sync::request::Direction;
use crate::ops::sync::request::Strategy;
use crate::ops::sync::request::SyncRequest;
use crate::ops::tier::artifact_path;
use crate::storage::versions::Versions;

/// The files of `side` of `id`: `collection`, `project` (needs `project`), `upstream` (fetched
/// at the spec's ref), or a recorded version named by a hash prefix or tag. A hook's or mcp
/// server's side is its entries (the project's as they are in the shared file), with every
/// `env` and `headers` value masked: a diff never shows a secret.
pub async fn side_files(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    side: &str,
) -> Result<ArtifactFiles, OpsError> {
    if !id.kind.is_fragment() {
        return tier_side_files(ctx, id, collection, project, side).await;
    }
    if side == "project" {
        let project = project.ok_or(OpsError::ProjectRequired {
            direction: "a `project` side",
        })?;
        return crate::ops::fragments::project_files(project, id, false)?.ok_or_else(|| {
            OpsError::NoCopy {
                id: id.clone(),
                path: project.join(crate::ops::fragments::shared_file_rel(project, id.kind)),
            }
        });
    }
    let files = tier_side_files(ctx, id, collection, project, side).await?;
    Ok(crate::ops::fragments::masked_files(id, &files))
}

async fn tier_side_files(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    side: &str,
) -> Result<ArtifactFiles, OpsError> {
    let read = |path: &Path| -> Result<ArtifactFiles, OpsError> {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(OpsError::NoCopy {
                id: id.clone(),
                path: path.to_owned(),
            });
        }
        Ok(ArtifactFiles::read(path)?)
    };
    match side {
        "collection" => read(&artifact_path(&ctx.home.collection_dir(collection)?, id)),
        "project" => {
            let project = project.ok_or(OpsError::ProjectRequired {
                direction: "a `project` side",
            })?;
            read(&artifact_path(&project.join(".claude"), id))
        }
        "upstream" => {
            let req = SyncRequest {
                id,
                direction: Direction::UpstreamToCollection,
                project: None,
                collection,
                strategy: Strategy::Auto,
                dry_run: true,
                on_phase: None,
                expect: None,
            };
            crate::ops::sync::sides::upstream_files(ctx, &req).await
        }
        version => {
            let versions = Versions::open_read_only(&ctx.home).await?.ok_or_else(|| {
                OpsError::UnknownSide {
                    side: version.to_owned(),
                }
            })?;
            let found = versions.resolve(id, version).await;
            let files = match found {
                Ok(v) => versions
                    .store()
                    .read_tree(&v.tree_id)
                    .map_err(OpsError::from),
                Err(_) => Err(OpsError::UnknownSide {
                    side: version.to_owned(),
                }),
            };
            versions.close().await;
            files
        }
    }
}
