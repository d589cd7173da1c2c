//! Deployment records: `<project>/.claude/.skillmeat-deployed.toml`.
//!
//! One `[[deployed]]` table per artifact deployed into the project, with every field of
//! DESIGN §2. Records written by older tools (fields missing, a `legacy` hash) load with defaults;
//! `hash_algorithm` says which algorithm made `content_hash` so old records still compare. Files
//! are parsed with errors naming the file, line and column, and written atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::artifact::{ArtifactId, ArtifactName, ArtifactType};
use crate::model::hash::HashAlgorithm;
#[cfg(test)]
use crate::storage::tomlfile::parse_toml;
use crate::storage::tomlfile::{TomlFileError, first_duplicate, is_hex, load_toml, save_toml};

/// The records file's path relative to the project root.
pub const RECORDS_FILE: &str = ".claude/.skillmeat-deployed.toml";

/// Sync status of a deployed artifact as last recorded (drift computes the live one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedStatus {
    /// Project copy equals the version it was deployed or last synced at.
    #[default]
    Synced,
    /// The project copy was edited after deployment.
    Modified,
    /// The collection moved on since deployment.
    Outdated,
    /// Both moved; a merge is needed or pending.
    Conflict,
    /// No common base is known.
    Diverged,
}

/// One artifact deployed into a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// The artifact's name.
    pub artifact_name: ArtifactName,
    /// The artifact's type.
    pub artifact_type: ArtifactType,
    /// The collection it was deployed from.
    #[serde(default = "default_collection")]
    pub from_collection: String,
    /// When it was deployed (RFC 3339).
    #[serde(default)]
    pub deployed_at: Option<String>,
    /// Its path relative to the project root, e.g. `.claude/skills/pdf`.
    #[serde(default)]
    pub artifact_path: Option<String>,
    /// Hash of the deployed version: the baseline for drift.
    #[serde(default)]
    pub content_hash: Option<String>,
    /// Which algorithm made `content_hash`. Old records have none: they are `legacy`.
    #[serde(default = "legacy_algorithm")]
    pub hash_algorithm: HashAlgorithm,
    /// Whether local edits were detected at the last check.
    #[serde(default)]
    pub local_modifications: bool,
    /// Hash of the version this one came from.
    #[serde(default)]
    pub parent_hash: Option<String>,
    /// Hashes of the versions this one descends from, newest first.
    #[serde(default)]
    pub version_lineage: Vec<String>,
    /// Status as last recorded.
    #[serde(default)]
    pub sync_status: RecordedStatus,
    /// The upstream ref asked for (tag, branch, sha, `latest`).
    #[serde(default)]
    pub upstream_ref: Option<String>,
    /// The upstream version label (tag) resolved, if any.
    #[serde(default)]
    pub upstream_version: Option<String>,
    /// The upstream commit resolved.
    #[serde(default)]
    pub upstream_sha: Option<String>,
    /// When the upstream was last checked (RFC 3339).
    #[serde(default)]
    pub last_upstream_check: Option<String>,
    /// Files of a pending merge that still hold conflicts.
    #[serde(default)]
    pub pending_conflicts: Vec<String>,
    /// When the project copy was last checked for edits (RFC 3339).
    #[serde(default)]
    pub last_modified_check: Option<String>,
    /// When edits were first detected (RFC 3339).
    #[serde(default)]
    pub modification_detected_at: Option<String>,
    /// Hash of the version both sides agreed on at the last sync: the next merge base.
    #[serde(default)]
    pub merge_base_snapshot: Option<String>,
    /// Version-store snapshot of the pre-sync target.
    #[serde(default)]
    pub snapshot_id: Option<String>,
    /// A user-given tag for the deployed version.
    #[serde(default)]
    pub version_tag: Option<String>,
    /// For a hook or mcp artifact: the shared file its entries are in, relative to the project
    /// (`.claude/settings.json`, `.mcp.json`, `.claude.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_file: Option<String>,
    /// For a hook or mcp artifact: the ownership ledger — each entry it wrote, with its value
    /// as written, secrets masked — and so the base of the next merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<OwnedEntry>,
    /// For a hook or mcp artifact's pending merge: the clashes already decided, as
    /// `<clash>=ours|theirs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_picks: Vec<String>,
    /// The version-store commit holding the shared file as it was before SkillMeat last wrote
    /// it (kept for `~/.claude.json`, which holds far more than SkillMeat's entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_file_backup: Option<String>,
}

/// One entry of the ownership ledger of a hook or mcp artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedEntry {
    /// Where the entry is.
    pub entry: crate::model::fragment::EntryKey,
    /// Its value as SkillMeat wrote it, as JSON with `env` and `headers` values masked.
    pub value: String,
    /// The user deleted it from the shared file: it stays deleted (its value is then the
    /// collection's as last seen, masked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

fn default_collection() -> String {
    crate::storage::home::DEFAULT_COLLECTION.to_owned()
}

fn legacy_algorithm() -> HashAlgorithm {
    HashAlgorithm::Legacy
}

impl DeploymentRecord {
    /// The artifact's id.
    pub fn id(&self) -> ArtifactId {
        ArtifactId::new(self.artifact_type, self.artifact_name.clone())
    }
}

/// The whole records file of a project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentFile {
    /// Version of the file's layout; absent in files written by older tools.
    #[serde(default)]
    pub format: Option<u32>,
    /// One record per deployed artifact.
    #[serde(default)]
    pub deployed: Vec<DeploymentRecord>,
}

/// The current layout version written by [`DeploymentFile::save`].
pub const RECORDS_FORMAT: u32 = 1;

impl DeploymentFile {
    /// The records file of the project at `project`.
    pub fn path_in(project: &Path) -> PathBuf {
        project.join(RECORDS_FILE)
    }

    /// Loads a project's records; a project without the file has none.
    ///
    /// Two records for one artifact, or a recorded hash that is not 64 hex digits, are an
    /// error: read as they are, the first would hide the second and a garbage hash would turn
    /// "synced" into "local edits".
    pub fn load(project: &Path) -> Result<Self, TomlFileError> {
        let path = Self::path_in(project);
        let file: Self = load_toml(&path)?.unwrap_or_default();
        let invalid = |message: String| TomlFileError::Invalid {
            path: path.clone(),
            message,
        };
        if let Some(id) = first_duplicate(file.deployed.iter().map(|r| r.id().to_string())) {
            return Err(invalid(format!("{id} has two records")));
        }
        for r in &file.deployed {
            for (field, value) in [
                ("content_hash", &r.content_hash),
                ("merge_base_snapshot", &r.merge_base_snapshot),
            ] {
                if let Some(value) = value
                    && !is_hex(value, 64)
                {
                    return Err(invalid(format!(
                        "the {field} of {} is {:?}, not 64 hex digits",
                        r.id(),
                        crate::model::display::escaped(value)
                    )));
                }
            }
        }
        Ok(file)
    }

    /// Writes the records atomically, in the current format.
    pub fn save(&self, project: &Path) -> Result<(), TomlFileError> {
        let mut out = self.clone();
        out.format = Some(RECORDS_FORMAT);
        save_toml(
            &Self::path_in(project),
            "# Written by SkillMeat: what is deployed here, and the versions it came from.\n",
            &out,
        )
    }

    /// The record of `id`, if deployed here.
    pub fn get(&self, id: &ArtifactId) -> Option<&DeploymentRecord> {
        self.deployed
            .iter()
            .find(|r| r.artifact_type == id.kind && r.artifact_name == id.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_record_loads_with_defaults_and_a_legacy_hash() {
        let text = r#"
[[deployed]]
artifact_name = "pdf"
artifact_type = "skill"
from_collection = "default"
deployed_at = "2025-11-02T10:00:00Z"
artifact_path = ".claude/skills/pdf"
content_hash = "c93c6f87bf5165a705365e8ad12607fce86f3bd560284e25fb8ea859b0c7c331"
"#;
        let file: DeploymentFile = parse_toml(Path::new("x.toml"), text).unwrap();
        let r = &file.deployed[0];
        assert_eq!(r.id().to_string(), "skill:pdf");
        assert_eq!(r.hash_algorithm, HashAlgorithm::Legacy);
        assert!(r.version_lineage.is_empty());
        assert_eq!(r.sync_status, RecordedStatus::Synced);
        assert_eq!(file.format, None);
    }

    #[test]
    fn malformed_toml_names_file_line_and_column() {
        let text = "[[deployed]]\nartifact_name = \"pdf\"\nartifact_type = skill\n";
        let err = parse_toml::<DeploymentFile>(Path::new("/p/.claude/x.toml"), text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/p/.claude/x.toml:3:"), "{msg}");
    }

    #[test]
    fn a_bad_name_or_type_in_a_record_is_a_parse_error() {
        for (name, kind) in [("../etc", "skill"), ("pdf", "plugin")] {
            let text =
                format!("[[deployed]]\nartifact_name = \"{name}\"\nartifact_type = \"{kind}\"\n");
            let err = parse_toml::<DeploymentFile>(Path::new("r.toml"), &text).unwrap_err();
            assert!(
                matches!(err, TomlFileError::Parse { line: 2..=3, .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn save_then_load_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let record = DeploymentRecord {
            artifact_name: ArtifactName::new("review").unwrap(),
            artifact_type: ArtifactType::Command,
            from_collection: "default".into(),
            deployed_at: Some("2026-11-22T00:00:00Z".into()),
            artifact_path: Some(".claude/commands/review.md".into()),
            content_hash: Some("ab".repeat(32)),
            hash_algorithm: HashAlgorithm::V1,
            local_modifications: false,
            parent_hash: None,
            version_lineage: vec!["ab".repeat(32)],
            sync_status: RecordedStatus::Synced,
            upstream_ref: Some("v1".into()),
            upstream_version: Some("v1".into()),
            upstream_sha: Some("31e41c4bb347f813169ca480346fdb02e8ec16d7".into()),
            last_upstream_check: None,
            pending_conflicts: vec![],
            last_modified_check: None,
            modification_detected_at: None,
            merge_base_snapshot: Some("ab".repeat(32)),
            snapshot_id: None,
            version_tag: None,
            shared_file: None,
            entries: Vec::new(),
            pending_picks: Vec::new(),
            shared_file_backup: None,
        };
        let file = DeploymentFile {
            format: None,
            deployed: vec![record],
        };
        file.save(tmp.path()).unwrap();
        let loaded = DeploymentFile::load(tmp.path()).unwrap();
        assert_eq!(loaded.format, Some(RECORDS_FORMAT));
        assert_eq!(loaded.deployed, file.deployed);
    }
}
