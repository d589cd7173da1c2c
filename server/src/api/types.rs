//! What the API reads and writes. The OpenAPI document is generated from these types, so they
//! are the contract: change one, and the document changes with it. The bodies live in
//! `skillmeat_app::dto`, shared with the web UI; the query parameters are here.

use serde::Deserialize;
pub use skillmeat_app::dto::*;
use utoipa::IntoParams;

/// Which jobs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only jobs in this state.
    pub state: Option<StateName>,
    /// Only jobs touching this artifact (`<type>:<name>`).
    pub artifact: Option<String>,
    /// At most this many (1–500, default 100).
    pub limit: Option<u32>,
}

/// Which events of the audit trail to read: every filter given must hold.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only this artifact (`<type>:<name>`; `/events/log` only).
    pub artifact: Option<String>,
    /// Only these kinds, comma-separated: deploy, sync, conflict, resolve, abort, rollback, tag.
    pub kind: Option<String>,
    /// Only events in this registered project (absolute path).
    pub project_path: Option<String>,
    /// Only events at or after this time (RFC 3339, or a date).
    pub since: Option<String>,
    /// Only events older than this event id: the `next_before` of the previous page.
    pub before: Option<i64>,
    /// At most this many (1–500, default 50).
    pub limit: Option<u32>,
}

/// The two versions a changelog spans.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangelogQuery {
    /// The version to start after (a tag or hash prefix); default the last semver tag, or the
    /// oldest recorded version.
    pub from: Option<String>,
    /// The version to end at; default the newest recorded version.
    pub to: Option<String>,
}

/// Which version the next tag is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NextTagQuery {
    /// A tag or hash prefix; the collection's current version when left out.
    pub version: Option<String>,
    pub collection: Option<String>,
}

/// Which collection (and project) a read is about.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Scope {
    /// The collection (`default` when left out).
    pub collection: Option<String>,
    /// A registered project (absolute path).
    pub project_path: Option<String>,
}

/// The two sides of a diff.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// `upstream`, `collection`, `project`, or a recorded version (hash prefix or tag).
    pub lhs: String,
    /// Same choices as `lhs`.
    pub rhs: String,
    pub collection: Option<String>,
    /// Needed when a side is `project`.
    pub project_path: Option<String>,
}

/// One file of one side, to download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `upstream`, `collection`, `project`, or a recorded version.
    pub side: String,
    /// The file's path inside the artifact.
    pub path: String,
    pub collection: Option<String>,
    pub project_path: Option<String>,
}

/// Which drift to compute.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriftQuery {
    pub collection: Option<String>,
    /// One registered project; every registered project when left out.
    pub project_path: Option<String>,
    /// Also compare each upstream with the collection (asks the remotes).
    pub check_upstream: Option<bool>,
}

/// Which pending merges to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictsQuery {
    /// Only this collection's (every collection's when left out).
    pub collection: Option<String>,
    /// Only those older than the `conflicts.stale_after` setting.
    #[serde(default)]
    pub stale: bool,
}

/// How an artifact leaves its collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// The collection (`default` when left out).
    pub collection: Option<String>,
    /// Also take it out of every registered project that has it (else 409 `still_deployed`).
    #[serde(default)]
    pub undeploy: bool,
    /// With `undeploy`: remove project copies with local edits too, after recording those
    /// edits in the version store (else 409).
    #[serde(default)]
    pub force: bool,
}

/// Which project copy to take out.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UndeployQuery {
    /// The registered project (absolute path).
    pub project_path: String,
    pub collection: Option<String>,
    /// Remove a copy with local edits too, after recording those edits (else 409).
    #[serde(default)]
    pub force: bool,
}
