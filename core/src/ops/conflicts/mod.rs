//! Pending merges: a sync whose merge conflicted, kept aside until the user resolves it.
//!
//! A pending merge lives in `$SKILLMEAT_HOME/pending/<tier key>/`:
//!
//! ```text
//! merge.toml   what was merged (artifact, direction, base/ours/theirs hashes, conflicted files)
//! files/       the merged version: clean files merged, conflicted ones with diff3 markers
//! base/ ours/ theirs/   the three inputs, so each file can be resolved to either side
//! ```
//!
//! The live target is not touched until [`continue_merge`], which refuses while any conflicted
//! file still holds markers (or a delete/modify or binary clash was not decided) and otherwise
//! applies `files/` through the same locked, atomic path as a clean sync. Each pending merge is
//! also a row of `conflict_records`, which keeps how it ended.
//!
//! [`pending`] owns the merge on disk and how one is made; [`resolve`] how one ends.

pub mod open;
pub mod pending;
pub mod rerere;
pub mod resolve;

pub use open::{OpenMerge, OpenMerges, open_merges};
pub(crate) use pending::create;
pub use pending::{
    MergePart, PENDING_DIR, PendingFile, PendingMerge, Settled, all, blocking, find, into_tier,
    list,
};
pub use resolve::{
    FileChoice, Finished, Resolution, Reused, abort_merge, continue_merge, fork_merge,
    resolve_file, reuse_recorded,
};
