//! Plain data exchanged between the server and the browser. Shared by SSR and wasm builds, so
//! nothing here depends on `skillmeat-core`.

use serde::{Deserialize, Serialize};

/// What the server says about itself, shown in the footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The SkillMeat version the server runs.
    pub version: String,
    /// The `$SKILLMEAT_HOME` the server uses.
    pub home: String,
    /// Seconds since the server started.
    pub uptime_secs: u64,
}

/// One artifact of a collection, as listed on the artifacts page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactSummary {
    /// `<type>:<name>`.
    pub id: String,
    /// `skill`, `command` or `agent`.
    pub kind: String,
    /// The artifact's name.
    pub name: String,
}

/// A collection's artifacts and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionView {
    /// The collection's name.
    pub collection: String,
    /// Its folder on the server's disk.
    pub path: String,
    /// Its artifacts, ordered by type then name.
    pub artifacts: Vec<ArtifactSummary>,
    /// Entries in the folder that are not valid artifacts, with the reason.
    pub skipped: Vec<String>,
}
