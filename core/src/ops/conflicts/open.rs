//! The pending merges still open, with their age: what `drift`, `GET /conflicts`, the artifacts
//! page and `/metrics` show so that a merge nobody finished is not forgotten. One older than
//! `conflicts.stale_after` (7 days by default) is flagged as abandoned.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::ops::context::Context;
use crate::ops::error::OpsError;

/// One open pending merge.
#[derive(Debug, Clone, Serialize)]
pub struct OpenMerge {
    pub id: ArtifactId,
    pub collection: String,
    /// `upstream-to-collection`, `collection-to-project` or `project-to-collection`.
    pub direction: &'static str,
    /// The project, when one of the two tiers is one.
    pub project: Option<PathBuf>,
    /// When the conflict was found (RFC 3339).
    pub detected_at: String,
    /// Seconds since then.
    pub age_seconds: u64,
    /// Older than `conflicts.stale_after`.
    pub stale: bool,
    /// The conflicted files.
    pub files: Vec<String>,
    /// Those not settled yet.
    pub unresolved: Vec<String>,
}

/// Every open pending merge, oldest first, with the count and age figures `/metrics` exports.
#[derive(Debug, Clone, Serialize)]
pub struct OpenMerges {
    pub merges: Vec<OpenMerge>,
    /// `conflicts.stale_after`, in seconds.
    pub stale_after_seconds: u64,
    /// How many are stale.
    pub stale: usize,
    /// The oldest one's age, when there is one.
    pub oldest_age_seconds: Option<u64>,
}

/// The open pending merges of `collection` (of every collection with `None`): those of files,
/// and `fragments`, the pending merges of hooks and MCP servers (from
/// [`crate::ops::fragments::open_merges`], which reads them in the projects' records).
pub fn open_merges(
    ctx: &Context,
    collection: Option<&str>,
    fragments: Vec<crate::ops::fragments::FragmentMerge>,
) -> Result<OpenMerges, OpsError> {
    let stale_after = crate::storage::config::Config::load(&ctx.home)?
        .conflicts
        .stale_after();
    let mut merges = Vec::new();
    for m in crate::ops::conflicts::pending::all(&ctx.home)? {
        if collection.is_some_and(|c| c != m.collection) {
            continue;
        }
        let age = age(&m.detected_at, ctx.now);
        merges.push(OpenMerge {
            unresolved: m.unresolved()?,
            files: m.files.iter().map(|f| f.path.clone()).collect(),
            id: m.id,
            collection: m.collection,
            direction: m.direction.as_str(),
            project: m.project,
            detected_at: m.detected_at,
            age_seconds: age.as_secs(),
            stale: age > stale_after,
        });
    }
    for m in fragments {
        let age = age(&m.detected_at, ctx.now);
        merges.push(OpenMerge {
            unresolved: m.unresolved(),
            files: m.clashes.iter().map(|(c, _)| c.label()).collect(),
            id: m.id,
            collection: m.collection,
            direction: crate::ops::sync::request::Direction::CollectionToProject.as_str(),
            project: Some(m.project),
            detected_at: m.detected_at,
            age_seconds: age.as_secs(),
            stale: age > stale_after,
        });
    }
    merges.sort_by(|a, b| {
        b.age_seconds
            .cmp(&a.age_seconds)
            .then_with(|| a.id.to_string().cmp(&b.id.to_string()))
    });
    Ok(OpenMerges {
        stale: merges.iter().filter(|m| m.stale).count(),
        oldest_age_seconds: merges.first().map(|m| m.age_seconds),
        stale_after_seconds: stale_after.as_secs(),
        merges,
    })
}

/// How long ago `stamp` (RFC 3339) was; zero for a stamp in the future or one that does not
/// parse (a hand-edited `merge.toml` is never taken as ancient).
pub(crate) fn age(stamp: &str, now: SystemTime) -> Duration {
    humantime::parse_rfc3339_weak(stamp.trim())
        .ok()
        .and_then(|t| now.duration_since(t).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_from_stamps() {
        let now = humantime::parse_rfc3339("2026-12-09T00:00:00Z").unwrap();
        assert_eq!(
            age("2026-12-01T00:00:00Z", now),
            Duration::from_secs(8 * 86_400)
        );
        assert_eq!(age("2027-01-01T00:00:00Z", now), Duration::ZERO);
        assert_eq!(age("yesterday", now), Duration::ZERO);
    }
}
