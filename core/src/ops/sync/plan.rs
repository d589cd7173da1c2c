//! The plan of a sync: per file, what the merge engine decided, and whether it conflicts.

use crate::engine::merge::{self, FileAction, FileOutcome, Labels};
use crate::model::files::ArtifactFiles;
use crate::model::hash::ContentHash;
use crate::ops::error::OpsError;
use crate::ops::sync::request::{Direction, Outcome, Strategy};
use crate::ops::sync::sides::Sides;

/// Labels for conflict markers: which tier each side is.
pub(crate) struct MarkerLabels {
    pub(crate) ours: String,
    pub(crate) base: String,
    pub(crate) theirs: String,
}

impl MarkerLabels {
    pub(crate) fn as_labels(&self) -> Labels<'_> {
        Labels {
            ours: &self.ours,
            base: &self.base,
            theirs: &self.theirs,
        }
    }
}

pub(crate) fn labels(direction: Direction, sides: &Sides) -> MarkerLabels {
    let short = |h: Option<ContentHash>| h.map(|h| h.short()).unwrap_or_default();
    let (ours, theirs) = direction.tiers();
    MarkerLabels {
        ours: format!("{ours} {}", short(sides.target_hash)),
        base: format!("base {}", short(sides.base_hash)),
        theirs: format!("{theirs} {}", short(Some(sides.source_hash))),
    }
}

pub(crate) struct Plan {
    pub(crate) outcome: Outcome,
    /// What the target will hold; for a conflict, the merged files with markers.
    pub(crate) result: Option<ArtifactFiles>,
    pub(crate) files: Vec<FileOutcome>,
}

pub(crate) fn plan(
    sides: &Sides,
    strategy: Strategy,
    labels: Labels<'_>,
) -> Result<Plan, OpsError> {
    let whole = |target: &ArtifactFiles, result: &ArtifactFiles, action: FileAction| {
        let mut paths: Vec<&String> = target.files.keys().chain(result.files.keys()).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .map(|p| FileOutcome {
                path: p.clone(),
                action: if target.files.get(p) == result.files.get(p) {
                    FileAction::Unchanged
                } else {
                    action
                },
                conflict: None,
                renamed_from: None,
            })
            .collect()
    };
    let empty = ArtifactFiles::default();
    let Some(target) = &sides.target else {
        // Nothing there yet: the source's version is simply placed.
        return Ok(Plan {
            outcome: Outcome::FastForward,
            files: whole(&empty, &sides.source, FileAction::FastForward),
            result: Some(sides.source.clone()),
        });
    };
    if sides.target_hash == Some(sides.source_hash) {
        return Ok(Plan {
            outcome: Outcome::UpToDate,
            files: whole(target, target, FileAction::Unchanged),
            result: Some(target.clone()),
        });
    }
    match strategy {
        Strategy::Theirs | Strategy::Overwrite => {
            return Ok(Plan {
                outcome: Outcome::Overwritten,
                files: whole(target, &sides.source, FileAction::Overwrite),
                result: Some(sides.source.clone()),
            });
        }
        Strategy::Ours => {
            return Ok(Plan {
                outcome: Outcome::KeptTarget,
                files: whole(target, target, FileAction::Unchanged),
                result: Some(target.clone()),
            });
        }
        Strategy::Auto | Strategy::Fork => {}
    }
    // Both kept, where the target has a version of its own to keep: when there is no base to
    // tell, or when both sides moved (instead of merging them). Where only the source moved,
    // the target takes it, as with `auto`: there is nothing of the target's to keep.
    let forked = || Plan {
        outcome: Outcome::Forked,
        files: whole(target, target, FileAction::Unchanged),
        result: Some(target.clone()),
    };
    let Some(base) = &sides.base else {
        if strategy == Strategy::Fork {
            return Ok(forked());
        }
        return Ok(Plan {
            outcome: Outcome::Diverged,
            files: whole(target, &sides.source, FileAction::Conflict),
            result: None,
        });
    };
    if sides.target_hash == sides.base_hash {
        return Ok(Plan {
            outcome: Outcome::FastForward,
            files: whole(target, &sides.source, FileAction::FastForward),
            result: Some(sides.source.clone()),
        });
    }
    if Some(sides.source_hash) == sides.base_hash {
        // Only the target moved: nothing to take in this direction.
        return Ok(Plan {
            outcome: Outcome::UpToDate,
            files: whole(target, target, FileAction::Unchanged),
            result: Some(target.clone()),
        });
    }
    if strategy == Strategy::Fork {
        return Ok(forked());
    }
    let merged = merge::merge_trees(base, target, &sides.source, labels)?;
    let outcome = if merged.is_clean() {
        Outcome::Merged
    } else {
        Outcome::Conflict
    };
    Ok(Plan {
        outcome,
        files: merged.outcomes,
        result: Some(merged.files),
    })
}
