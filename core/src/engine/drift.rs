//! Drift: how two tiers of an artifact relate, given the version they last agreed on.
//!
//! For a pair (source, target) with base B, source S and target T (DESIGN §4):
//!
//! | condition                 | status     | recommendation                          |
//! |---------------------------|------------|-----------------------------------------|
//! | S == T                    | synced     | —                                       |
//! | S == B, T != B            | modified   | capture target into source, or keep     |
//! | S != B, T == B            | outdated   | update target                           |
//! | S != B, T != B, S != T    | conflict   | three-way merge                         |
//! | no B known, S != T        | diverged   | choose ours / theirs                    |
//! | target missing            | added      | deploy                                  |
//! | source missing            | removed    | forget                                  |
//!
//! [`classify`] is pure; reading the tiers' hashes (through the stat cache) is the caller's job.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::hash::ContentHash;

/// How a (source, target) pair relates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftStatus {
    /// Source and target are the same.
    Synced,
    /// Only the target changed since the base.
    Modified,
    /// Only the source changed since the base.
    Outdated,
    /// Both changed since the base, differently.
    Conflict,
    /// They differ and no base is known: only an explicit choice resolves it.
    Diverged,
    /// The source has it, the target does not.
    Added,
    /// The target has it, the source does not.
    Removed,
}

impl DriftStatus {
    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::Modified => "modified",
            Self::Outdated => "outdated",
            Self::Conflict => "conflict",
            Self::Diverged => "diverged",
            Self::Added => "added",
            Self::Removed => "removed",
        }
    }

    /// What the user should do, in words; `None` when nothing is needed.
    pub fn recommendation(self) -> Option<&'static str> {
        match self {
            Self::Synced => None,
            Self::Modified => Some("capture the target's edits into the source, or keep them"),
            Self::Outdated => Some("update the target"),
            Self::Conflict => Some("three-way merge"),
            Self::Diverged => Some("choose ours or theirs (no common base is known)"),
            Self::Added => Some("deploy"),
            Self::Removed => Some("forget"),
        }
    }

    /// Whether anything differs.
    pub fn is_drift(self) -> bool {
        self != Self::Synced
    }
}

impl fmt::Display for DriftStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies a pair. `None` means the tier does not have the artifact (or, for the base, that
/// no agreed version is known).
///
/// Returns `None` only when neither side has the artifact: there is no pair to speak of.
pub fn classify(
    base: Option<&ContentHash>,
    source: Option<&ContentHash>,
    target: Option<&ContentHash>,
) -> Option<DriftStatus> {
    let status = match (source, target) {
        (None, None) => return None,
        (Some(_), None) => DriftStatus::Added,
        (None, Some(_)) => DriftStatus::Removed,
        (Some(s), Some(t)) if s == t => DriftStatus::Synced,
        (Some(s), Some(t)) => match base {
            None => DriftStatus::Diverged,
            Some(b) if s == b => DriftStatus::Modified,
            Some(b) if t == b => DriftStatus::Outdated,
            Some(_) => DriftStatus::Conflict,
        },
    };
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DriftStatus::*;

    fn h(n: u8) -> ContentHash {
        ContentHash::from_bytes([n; 32])
    }

    type Opt<'a> = Option<&'a ContentHash>;

    // The whole truth table of DESIGN §4, one row per case.
    #[test]
    fn truth_table() {
        let (b, x, y) = (h(1), h(2), h(3));
        type Row<'a> = (Opt<'a>, Opt<'a>, Opt<'a>, Option<DriftStatus>);
        let cases: &[Row] = &[
            (Some(&b), Some(&b), Some(&b), Some(Synced)),
            (Some(&b), Some(&x), Some(&x), Some(Synced)),
            (None, Some(&x), Some(&x), Some(Synced)),
            (Some(&b), Some(&b), Some(&x), Some(Modified)),
            (Some(&b), Some(&x), Some(&b), Some(Outdated)),
            (Some(&b), Some(&x), Some(&y), Some(Conflict)),
            (None, Some(&x), Some(&y), Some(Diverged)),
            (Some(&b), Some(&x), None, Some(Added)),
            (None, Some(&x), None, Some(Added)),
            (Some(&b), None, Some(&x), Some(Removed)),
            (Some(&b), None, None, None),
        ];
        for (i, (base, source, target, want)) in cases.iter().enumerate() {
            assert_eq!(classify(*base, *source, *target), *want, "row {i}");
        }
    }

    #[test]
    fn only_synced_is_not_drift() {
        for s in [Modified, Outdated, Conflict, Diverged, Added, Removed] {
            assert!(s.is_drift() && s.recommendation().is_some(), "{s}");
        }
        assert!(!Synced.is_drift() && Synced.recommendation().is_none());
    }
}
