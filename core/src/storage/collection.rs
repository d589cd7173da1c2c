//! A collection's two record files.
//!
//! - `collection.toml`: what the user asked for — each artifact's id and upstream spec (with its
//!   pin, exactly as written). Users may edit it.
//! - `collection.lock`: what was resolved — the upstream commit, the artifact's subtree id in
//!   it, the content hash of what was fetched, and when. Written only by SkillMeat.
//!
//! Both live in `collections/<name>/` beside the content ([`crate::storage::home`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::artifact::ArtifactId;
use crate::model::hash::HashAlgorithm;
use crate::storage::tomlfile::{TomlFileError, first_duplicate, is_hex, load_toml, save_toml};

/// File name of the manifest inside a collection folder.
pub const MANIFEST_FILE: &str = "collection.toml";
/// File name of the lock inside a collection folder.
pub const LOCK_FILE: &str = "collection.lock";

/// `collection.toml`: the artifacts the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// One entry per artifact, in the order added.
    #[serde(default, rename = "artifact")]
    pub artifacts: Vec<ManifestEntry>,
    /// The plugins added from marketplaces, whose artifacts updates follow.
    #[serde(default, rename = "plugin", skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginRecord>,
}

/// A plugin added from a marketplace: `update` reads the marketplace again and offers the
/// artifacts the plugin gained, reports those it lost, and follows renames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRecord {
    /// The plugin's name in the marketplace (its current one, after renames).
    pub name: String,
    /// The marketplace's `name`.
    pub marketplace: String,
    /// Where the marketplace is: the upstream spec as given (a local path made absolute).
    pub spec: String,
    /// When it was added (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
}

impl PluginRecord {
    /// `name@marketplace`, as Claude Code names an installed plugin and artifacts name theirs.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name, self.marketplace)
    }
}

/// One artifact the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `<type>:<name>`.
    pub id: ArtifactId,
    /// The upstream spec as the user wrote it (pin included); `None` for a local-only artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// When it was added (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
    /// The plugin it came with (`name@marketplace`), for an artifact added from a marketplace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
}

/// `collection.lock`: what each upstream spec resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// One entry per artifact that has an upstream.
    #[serde(default, rename = "artifact")]
    pub artifacts: Vec<LockEntry>,
}

/// What one artifact's upstream resolved to at the last fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEntry {
    /// `<type>:<name>`.
    pub id: ArtifactId,
    /// The URL or path fetched from.
    pub location: String,
    /// The artifact's path inside the repository.
    #[serde(default)]
    pub path: String,
    /// The ref as asked (`latest`, a tag, a branch, a sha).
    pub reference: String,
    /// The commit it resolved to (40 hex).
    pub commit: String,
    /// The git tree id of the artifact's path at that commit: an update check compares this, so
    /// commits elsewhere in the repository do not count as updates.
    pub tree: String,
    /// Content hash of what was fetched.
    pub content_hash: String,
    /// Which algorithm made `content_hash`.
    #[serde(default)]
    pub hash_algorithm: HashAlgorithm,
    /// When it was fetched (RFC 3339).
    pub fetched_at: String,
}

impl Manifest {
    /// Loads `collection.toml` from a collection folder; a missing file is an empty manifest.
    /// Two entries for one id are an error, not a silent pick of the first.
    pub fn load(collection_dir: &Path) -> Result<Self, TomlFileError> {
        let path = collection_dir.join(MANIFEST_FILE);
        let manifest: Self = load_toml(&path)?.unwrap_or_default();
        if let Some(id) = first_duplicate(manifest.artifacts.iter().map(|e| e.id.to_string())) {
            return Err(TomlFileError::Invalid {
                path,
                message: format!("{id} is listed twice"),
            });
        }
        Ok(manifest)
    }

    /// Writes `collection.toml` atomically.
    pub fn save(&self, collection_dir: &Path) -> Result<(), TomlFileError> {
        save_toml(
            &manifest_path(collection_dir),
            "# SkillMeat collection: the artifacts you asked for and where they come from.\n",
            self,
        )
    }

    /// The entry of `id`, if any.
    pub fn get(&self, id: &ArtifactId) -> Option<&ManifestEntry> {
        self.artifacts.iter().find(|e| &e.id == id)
    }
}

impl Lock {
    /// Loads `collection.lock`; a missing file is an empty lock.
    /// Two entries for one id, or a commit, tree or content hash that is not one, are an
    /// error: a garbage hash would otherwise read as "no baseline" and show the artifact as
    /// diverged or removed.
    pub fn load(collection_dir: &Path) -> Result<Self, TomlFileError> {
        let path = collection_dir.join(LOCK_FILE);
        let lock: Self = load_toml(&path)?.unwrap_or_default();
        let invalid = |message: String| TomlFileError::Invalid {
            path: path.clone(),
            message,
        };
        if let Some(id) = first_duplicate(lock.artifacts.iter().map(|e| e.id.to_string())) {
            return Err(invalid(format!("{id} is locked twice")));
        }
        for e in &lock.artifacts {
            for (field, value, len) in [
                ("commit", &e.commit, 40),
                ("tree", &e.tree, 40),
                ("content_hash", &e.content_hash, 64),
            ] {
                if !is_hex(value, len) {
                    return Err(invalid(format!(
                        "the {field} of {} is {:?}, not {len} hex digits",
                        e.id,
                        crate::model::display::escaped(value)
                    )));
                }
            }
        }
        Ok(lock)
    }

    /// Writes `collection.lock` atomically.
    pub fn save(&self, collection_dir: &Path) -> Result<(), TomlFileError> {
        save_toml(
            &collection_dir.join(LOCK_FILE),
            "# Written by SkillMeat: what each upstream resolved to. Do not edit.\n",
            self,
        )
    }

    /// The entry of `id`, if any.
    pub fn get(&self, id: &ArtifactId) -> Option<&LockEntry> {
        self.artifacts.iter().find(|e| &e.id == id)
    }

    /// Inserts or replaces the entry of `entry.id`.
    pub fn upsert(&mut self, entry: LockEntry) {
        match self.artifacts.iter_mut().find(|e| e.id == entry.id) {
            Some(slot) => *slot = entry,
            None => self.artifacts.push(entry),
        }
    }
}

fn manifest_path(collection_dir: &Path) -> PathBuf {
    collection_dir.join(MANIFEST_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_and_lock_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let id: ArtifactId = "skill:pdf".parse().unwrap();
        let manifest = Manifest {
            artifacts: vec![ManifestEntry {
                id: id.clone(),
                upstream: Some("anthropics/skills/skills/pdf@v1.2.0".into()),
                added_at: Some("2026-11-22T00:00:00Z".into()),
                plugin: None,
            }],
            plugins: Vec::new(),
        };
        manifest.save(tmp.path()).unwrap();
        assert_eq!(Manifest::load(tmp.path()).unwrap(), manifest);
        let text = std::fs::read_to_string(tmp.path().join(MANIFEST_FILE)).unwrap();
        assert!(
            text.contains("upstream = \"anthropics/skills/skills/pdf@v1.2.0\""),
            "{text}"
        );

        let mut lock = Lock::default();
        let entry = LockEntry {
            id: id.clone(),
            location: "https://github.com/anthropics/skills.git".into(),
            path: "skills/pdf".into(),
            reference: "v1.2.0".into(),
            commit: "31e41c4bb347f813169ca480346fdb02e8ec16d7".into(),
            tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
            content_hash: "ab".repeat(32),
            hash_algorithm: HashAlgorithm::V1,
            fetched_at: "2026-11-22T00:00:00Z".into(),
        };
        lock.upsert(entry.clone());
        lock.upsert(LockEntry {
            commit: "0".repeat(40),
            ..entry
        });
        assert_eq!(lock.artifacts.len(), 1);
        lock.save(tmp.path()).unwrap();
        assert_eq!(Lock::load(tmp.path()).unwrap(), lock);
    }

    #[test]
    fn a_missing_collection_has_empty_files() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(tmp.path()).unwrap(), Manifest::default());
        assert_eq!(Lock::load(tmp.path()).unwrap(), Lock::default());
    }

    #[test]
    fn an_unknown_type_in_the_manifest_names_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(MANIFEST_FILE),
            "[[artifact]]\n\nid = \"plugin:x\"\n",
        )
        .unwrap();
        let err = Manifest::load(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("collection.toml:3:"), "{err}");
        assert!(err.contains("skill, command, agent"), "{err}");
    }
}
