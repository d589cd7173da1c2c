//! `cache/upstream-state.json`: what each artifact's upstream held when drift last reached it,
//! and when. When an upstream cannot be reached or refuses (a rate limit, the network down),
//! drift shows that last known state, says how old it is, and does not fail. A cache: a file
//! that is missing or unreadable is an empty one (logged), and losing it loses only ages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::error::PathError;
use crate::storage::atomic::write_atomic;

/// One upstream as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The artifact's content hash there (64 hex); absent when the path was gone.
    pub hash: Option<String>,
    /// When it was seen (RFC 3339).
    pub at: String,
}

/// The last known state of every upstream drift reached, by artifact and spec.
#[derive(Debug, Default)]
pub struct UpstreamStates {
    path: PathBuf,
    seen: BTreeMap<String, Seen>,
    changed: bool,
}

impl UpstreamStates {
    /// Reads the file under `home_root`'s `cache/`.
    pub fn load(home_root: &Path) -> Self {
        let path = home_root.join("cache").join("upstream-state.json");
        let seen = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("ignoring {}: {e}", path.display());
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        };
        Self {
            path,
            seen,
            changed: false,
        }
    }

    /// The key of an artifact's upstream: the artifact and the spec it follows.
    pub fn key(artifact: &str, spec: &str) -> String {
        format!("{artifact} {spec}")
    }

    pub fn get(&self, key: &str) -> Option<&Seen> {
        self.seen.get(key)
    }

    /// Remembers what `key`'s upstream holds now.
    pub fn set(&mut self, key: String, hash: Option<String>, at: String) {
        let seen = Seen { hash, at };
        if self.seen.get(&key) != Some(&seen) {
            self.seen.insert(key, seen);
            self.changed = true;
        }
    }

    /// Writes the file when something changed.
    pub fn save(&self) -> Result<(), PathError> {
        if !self.changed {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| PathError::new("create", dir, e))?;
        }
        let bytes = serde_json::to_vec(&self.seen).unwrap_or_default();
        write_atomic(&self.path, &bytes)
    }
}
