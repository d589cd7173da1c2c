//! Baselines written with the Python tool's `legacy` hash, translated to `v1` by finding a copy
//! that still has them.

use std::fs;
use std::path::Path;

use crate::model::hash::{self, ContentHash, HashAlgorithm};
use crate::ops::error::OpsError;
use crate::storage::records::DeploymentRecord;

/// The record's baseline as a `v1` hash. A `legacy` baseline is translated by finding a copy
/// that still has it — the project copy, else the collection copy (old tools deployed the
/// collection's content) — and hashing that copy with `v1`; when neither has it, it is unknown.
pub(crate) fn baseline_in_v1(
    record: &DeploymentRecord,
    candidates: &[&Path],
) -> Result<Option<ContentHash>, OpsError> {
    let recorded = record
        .merge_base_snapshot
        .as_deref()
        .or(record.content_hash.as_deref());
    let Some(recorded) = recorded else {
        return Ok(None);
    };
    match record.hash_algorithm {
        HashAlgorithm::V1 => Ok(recorded.parse().ok()),
        HashAlgorithm::Legacy => Ok(translate_legacy(recorded, candidates)?.map(|(h, _)| h)),
    }
}

/// The `v1` hash of the first candidate whose `legacy` hash is `legacy`, and that candidate.
pub(crate) fn translate_legacy<'a>(
    legacy: &str,
    candidates: &[&'a Path],
) -> Result<Option<(ContentHash, &'a Path)>, OpsError> {
    for path in candidates {
        if fs::symlink_metadata(path).is_ok() && hash::legacy_hash_path(path)?.to_hex() == legacy {
            return Ok(Some((hash::hash_path(path)?, path)));
        }
    }
    Ok(None)
}
