//! The engines: decisions over versions already in memory — diffs, three-way merges, drift.
//!
//! They read no tier and write nothing; the operations load the sides and apply the results.

pub mod bump;
pub mod check;
pub mod diff;
pub mod drift;
pub mod frontmatter;
pub mod frontmatter_merge;
pub mod json_merge;
pub mod merge;
