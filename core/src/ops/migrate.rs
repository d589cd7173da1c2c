//! `migrate`: deployment records of older tools rewritten to the current format and hash.

use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::model::error::PathError;
use crate::model::hash::HashAlgorithm;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::legacy::translate_legacy;
use crate::ops::record::Recorder;
use crate::ops::tier::{artifact_path, shared_file_guard};
use crate::storage::records::DeploymentFile;
use crate::storage::versions::{ChangeOrigin, NewVersion};

/// What `migrate` did to one record.
#[derive(Debug, Clone, Serialize)]
pub struct Migrated {
    /// Which artifact the record is of.
    pub id: ArtifactId,
    /// `upgraded`, `current` (nothing to do) or `kept-legacy`.
    pub outcome: &'static str,
    /// Why, for `kept-legacy`.
    pub note: Option<&'static str>,
}

/// What `migrate` did to a project's records.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    /// One entry per record.
    pub records: Vec<Migrated>,
    /// Problems that did not stop the migration (e.g. a version could not be recorded).
    pub warnings: Vec<String>,
}

/// Upgrades a project's deployment records to the current format: missing fields get their
/// defaults, a `legacy` baseline becomes a `v1` hash when the project or collection copy still
/// has that version, and
/// an empty lineage is backfilled with the baseline as its root. A legacy baseline that no copy
/// has any more cannot be translated and is kept, so drift reports exactly what it did
/// before. A translated baseline is recorded in the version store (its content is the copy
/// that still has it), so it can serve as a merge base. Idempotent: a second run writes nothing.
pub async fn migrate(ctx: &Context, project: &Path) -> Result<MigrateReport, OpsError> {
    let home = &ctx.home;
    let path = DeploymentFile::path_in(project);
    // Read, translated and saved as one change: a sync or deploy meanwhile waits.
    let _guard = shared_file_guard(ctx, &path)?;
    let before = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(MigrateReport {
                records: Vec::new(),
                warnings: Vec::new(),
            });
        }
        Err(e) => return Err(PathError::new("read", &path, e).into()),
    };
    let mut file = DeploymentFile::load(project)?;
    let claude = project.join(".claude");
    let mut out = Vec::new();
    let mut recorder = None;
    if file
        .deployed
        .iter()
        .any(|r| r.hash_algorithm == HashAlgorithm::Legacy)
    {
        recorder = Some(Recorder::open(home).await);
    }
    for record in &mut file.deployed {
        let id = record.id();
        let (outcome, note) = if record.hash_algorithm == HashAlgorithm::V1 {
            ("current", None)
        } else {
            let copy = artifact_path(&claude, &id);
            let in_collection = home
                .collection_dir(&record.from_collection)
                .ok()
                .map(|d| artifact_path(&d, &id));
            let mut candidates = vec![copy.as_path()];
            candidates.extend(in_collection.as_deref());
            let translated = match &record.content_hash {
                Some(h) => translate_legacy(h, &candidates)?,
                None => None,
            };
            if let Some((v1, holder)) = translated {
                if let Some(recorder) = &mut recorder {
                    let version = recorder
                        .record(NewVersion {
                            artifact: &id,
                            path: holder,
                            origin: ChangeOrigin::Deployment,
                            parents: Vec::new(),
                            parents_of: None,
                            metadata: serde_json::json!({
                                "migrated_from": "legacy",
                                "legacy_hash": record.content_hash,
                            }),
                            now: ctx.now,
                        })
                        .await;
                    if let Some(v) = version {
                        record.snapshot_id = Some(v.commit_id.to_string());
                    }
                }
                let v1 = v1.to_hex();
                record.content_hash = Some(v1.clone());
                record.merge_base_snapshot = Some(v1);
                record.hash_algorithm = HashAlgorithm::V1;
                ("upgraded", None)
            } else {
                (
                    "kept-legacy",
                    Some(
                        "no copy still has the deployed version, so its legacy baseline cannot be translated",
                    ),
                )
            }
        };
        if record.version_lineage.is_empty()
            && let Some(h) = &record.content_hash
        {
            record.version_lineage.push(h.clone());
        }
        out.push(Migrated { id, outcome, note });
    }
    file.format = Some(crate::storage::records::RECORDS_FORMAT);
    // Write only when something changes, so a second run leaves the file untouched.
    let reparsed: Option<DeploymentFile> = std::str::from_utf8(&before)
        .ok()
        .and_then(|t| crate::storage::tomlfile::parse_toml(&path, t).ok());
    if reparsed.as_ref().map(|r| (r.format, &r.deployed)) != Some((file.format, &file.deployed)) {
        file.save(project)?;
    }
    Ok(MigrateReport {
        records: out,
        warnings: match recorder {
            Some(r) => r.finish().await,
            None => Vec::new(),
        },
    })
}
